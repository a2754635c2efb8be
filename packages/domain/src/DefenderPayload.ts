import { Schema } from "effect"
import { DefenderAction, DefenderSeverity } from "./IndicatorAction.js"
import { DefenderIndicatorType } from "./IndicatorType.js"

/**
 * The body tisync sends to `POST /api/indicators` or as one element of `/api/indicators/import`
 * (reference/defender-api.md §2). Field names are case-sensitive on Defender's side.
 */
export const DefenderPayload = Schema.Struct({
  indicatorValue: Schema.String,
  indicatorType: DefenderIndicatorType,
  action: DefenderAction,
  title: Schema.String,
  description: Schema.String,
  severity: DefenderSeverity,
  expirationTime: Schema.optional(Schema.String),
  generateAlert: Schema.optional(Schema.Boolean),
  recommendedActions: Schema.optional(Schema.String),
  rbacGroupNames: Schema.optional(Schema.Array(Schema.String)),
  educateUrl: Schema.optional(Schema.String),
  application: Schema.optional(Schema.String),
  externalId: Schema.optional(Schema.String)
})
export type DefenderPayload = typeof DefenderPayload.Type
