import { Schema } from "effect"

/**
 * Actions a policy may ask for. `Alert` is tisync's name for Defender's `Audit` with `generateAlert: true`;
 * the legacy Defender actions `Alert`/`AlertAndBlock` are never sent (reference/defender-api.md §6.5).
 */
export const PolicyAction = Schema.Literal("Alert", "Block", "Audit", "Warn", "BlockAndRemediate", "Allowed")
export type PolicyAction = typeof PolicyAction.Type

/** Actions tisync sends to Defender. */
export const DefenderAction = Schema.Literal("Audit", "Warn", "Block", "BlockAndRemediate", "Allowed")
export type DefenderAction = typeof DefenderAction.Type

export const DefenderSeverity = Schema.Literal("Informational", "Low", "Medium", "High")
export type DefenderSeverity = typeof DefenderSeverity.Type
