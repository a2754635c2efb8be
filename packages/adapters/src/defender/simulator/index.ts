export * from "./DefenderSimulator.js"
export * from "./ODataFilter.js"
export * from "./SimulatorValueRules.js"
export * from "./TestTls.js"
