// The ThreatConnect side: adapter, config, in-memory fake, simulator. Internals are exported as namespaces
// (ThreatConnectTql, ThreatConnectWire...) so their names cannot clash with other adapters' exports.
export {
  DEFAULT_TC_API_URL,
  defaultThreatConnectRetryPolicy,
  resolveThreatConnectConfig,
  threatConnectConfigFromEnv,
  type ResolvedThreatConnectConfig,
  type ThreatConnectAuth,
  type ThreatConnectConfig,
  type ThreatConnectRetryPolicy
} from "./ThreatConnectConfig.js"
export {
  makeThreatConnectSource,
  threatConnectSourceFromEnvLayer,
  threatConnectSourceLayer,
  threatConnectSourceNodeLayer
} from "./ThreatConnectSource.js"
export { IndicatorSourceMemory, IndicatorSourceMemoryControl, type IndicatorSourceMemoryState } from "./IndicatorSourceMemory.js"
export {
  makeThreatConnectSimulator,
  startThreatConnectSimulator,
  TC_SIM_ACCESS_ID,
  TC_SIM_API_TOKEN,
  TC_SIM_SECRET_KEY,
  ThreatConnectSimulator,
  threatConnectSimulatorLayer,
  ThreatConnectSimulatorService,
  type ThreatConnectSimCall,
  type ThreatConnectSimulatorOptions
} from "./simulator/ThreatConnectSimulator.js"
export type { SimIndicator as ThreatConnectSimIndicator, SimIndicatorInput as ThreatConnectSimIndicatorInput } from "./simulator/SimulatorData.js"
export * as ThreatConnectSimData from "./simulator/SimulatorData.js"
export * as ThreatConnectTql from "./simulator/TqlEvaluator.js"
export * as ThreatConnectWire from "./IndicatorDecoder.js"
export * as ThreatConnectHmac from "./HmacSignature.js"
export * as ThreatConnectJson from "./LosslessJson.js"
export * as ThreatConnectJsonSplitter from "./JsonArraySplitter.js"
