export {}
export * from "./threatconnect/index.js"
export * from "./defender/index.js"
export * from "./store/index.js"
