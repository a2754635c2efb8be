export * from "./Checkpoint.js"
export * from "./EventStore.js"
export * from "./RecordedEvent.js"
export * from "./StoreErrors.js"
