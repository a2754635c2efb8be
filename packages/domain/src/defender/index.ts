export * from "./DefenderPayloadBuilder.js"
export * from "./IndicatorValueRules.js"
export * from "./Punycode.js"
