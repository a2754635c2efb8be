export * from "./IndicatorSource.js"
export * from "./SourceErrors.js"
export * from "./SourceFilter.js"
export * from "./TqlBuilder.js"
