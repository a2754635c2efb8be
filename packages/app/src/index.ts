export * from "./projections/ProjectionRunner.js"
export * from "./sync/index.js"
