import { Schema } from "effect"
import { TargetId } from "./Identifiers.js"
import { DefenderSeverity, PolicyAction } from "./IndicatorAction.js"
import { PolicyIndicatorType } from "./IndicatorType.js"

/** Defender's hard cap on indicators per tenant (reference/defender-api.md §0). */
export const DEFENDER_INDICATOR_LIMIT = 15_000

const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())
const Bounded = (min: number, max: number) => Schema.Number.pipe(Schema.between(min, max))

export const ExpirationDays = Schema.Struct({
  file: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3650)), { default: () => 30 }),
  network: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3650)), { default: () => 30 })
})

export const LogLevelName = Schema.Literal("Debug", "Info", "Warning", "Error")
export type LogLevelName = typeof LogLevelName.Type

/** The policy keys (DESIGN §7) with their defaults: the job parameters of one target. */
export const policyFields = {
  action: Schema.optionalWith(PolicyAction, { default: () => "Alert" as const }),
  expirationDays: Schema.optionalWith(ExpirationDays, { default: () => ({ file: 30, network: 30 }) }),
  owners: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.minLength(1))), { default: () => [] }),
  indicatorTypes: Schema.optionalWith(Schema.Array(PolicyIndicatorType), {
    default: () => ["Address", "MD5", "SHA1", "SHA256", "Host", "URL"] as const
  }),
  tags: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.minLength(1))), { default: () => [] }),
  minThreatAssessScore: Schema.optionalWith(Schema.NullOr(Bounded(0, 1000)), { default: () => null }),
  minThreatRating: Schema.optionalWith(Schema.NullOr(Bounded(0, 5)), { default: () => null }),
  minConfidence: Schema.optionalWith(Schema.NullOr(Bounded(0, 100)), { default: () => null }),
  maxFalsePositives: Schema.optionalWith(Schema.NullOr(NonNegativeInt), { default: () => null }),
  lastRunDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3650)), { default: () => 7 }),
  onlyModifiedSinceLastRun: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  tql: Schema.optionalWith(Schema.NullOr(Schema.String.pipe(Schema.minLength(1))), { default: () => null }),
  indicatorReserveCount: Schema.optionalWith(NonNegativeInt.pipe(Schema.lessThanOrEqualTo(1_000_000)), {
    default: () => 0
  }),
  renewWithinDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 3650)), { default: () => 5 }),
  evict: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  severity: Schema.optionalWith(Schema.NullOr(DefenderSeverity), { default: () => null }),
  recommendedActions: Schema.optionalWith(Schema.NullOr(Schema.String.pipe(Schema.maxLength(2000))), {
    default: () => null
  }),
  rbacGroupNames: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.minLength(1))), { default: () => [] }),
  generateAlert: Schema.optionalWith(Schema.NullOr(Schema.Boolean), { default: () => null }),
  educateUrl: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  application: Schema.optionalWith(Schema.NullOr(Schema.String.pipe(Schema.maxLength(200))), { default: () => null }),
  logLevel: Schema.optionalWith(LogLevelName, { default: () => "Info" as const })
}

export const Policy = Schema.Struct(policyFields)
export type Policy = typeof Policy.Type
export type PolicyInput = typeof Policy.Encoded

export const defaultPolicy: Policy = Schema.decodeUnknownSync(Policy)({})

export const DefenderCloud = Schema.Literal("commercial", "gcc", "gcc-high", "dod")
export type DefenderCloud = typeof DefenderCloud.Type

/** Keys a target may set besides the policy overrides (DESIGN §7). */
export const TargetSettings = Schema.Struct({
  id: TargetId,
  tenantId: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  cloud: Schema.optional(DefenderCloud),
  apiUrl: Schema.optional(Schema.String),
  clientId: Schema.optional(Schema.String),
  clientSecretEnv: Schema.optional(Schema.String),
  clientCertificatePathEnv: Schema.optional(Schema.String)
})
export type TargetSettings = typeof TargetSettings.Type
