export {}
export * from "./threatconnect/index.js"
export * from "./defender/index.js"
