export {}
export * from "./threatconnect/index.js"
