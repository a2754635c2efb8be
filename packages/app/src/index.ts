export * from "./projections/ProjectionRunner.js"
