import { Schema } from "effect"
import { DefenderPayload } from "./DefenderPayload.js"
import { RunId, TargetId } from "./Identifiers.js"
import { DefenderAction } from "./IndicatorAction.js"
import { IndicatorKey } from "./IndicatorKey.js"
import { ApiCalls, QuotaFigures, RunCounts } from "./RunCounts.js"
import { SourceRef } from "./SourceRef.js"

/**
 * Every event carries its schema version. Version 1 is the only one so far; a later change adds
 * fields as optional-with-default (so stored v1 events still decode) or registers an upcaster in
 * EventCodec.ts.
 */
export const CURRENT_SCHEMA_VERSION = 1
const schemaVersion = Schema.optionalWith(Schema.Int.pipe(Schema.positive()), {
  default: () => CURRENT_SCHEMA_VERSION
})
const at = Schema.DateTimeUtc
const runId = Schema.NullOr(RunId)

/** Ranking inputs of a source record: (ThreatAssess score, rating, confidence, last modified) (DESIGN §3 "Quota"). */
export const Rank = Schema.Struct({
  threatAssessScore: Schema.NullOr(Schema.Number),
  rating: Schema.NullOr(Schema.Number),
  confidence: Schema.NullOr(Schema.Number),
  lastModified: Schema.DateTimeUtc
})
export type Rank = typeof Rank.Type

export class IndicatorSelected extends Schema.TaggedClass<IndicatorSelected>()("IndicatorSelected", {
  schemaVersion,
  runId,
  at,
  key: IndicatorKey,
  source: SourceRef,
  sourceLastModified: Schema.DateTimeUtc,
  rank: Rank,
  /** Hash of the source content that mapping reads: a new `IndicatorSelected` is written only when it changes. */
  contentHash: Schema.String
}) {}

export class IndicatorMapped extends Schema.TaggedClass<IndicatorMapped>()("IndicatorMapped", {
  schemaVersion,
  runId,
  at,
  key: IndicatorKey,
  payload: DefenderPayload,
  /** Hash of the payload without `expirationTime` (renewal is not a content change). */
  payloadHash: Schema.String,
  /** What the coming call does: a new indicator, an update in place, or a renewal of the expiration. */
  intent: Schema.Literal("create", "update", "renew")
}) {}

export class IndicatorSubmitted extends Schema.TaggedClass<IndicatorSubmitted>()("IndicatorSubmitted", {
  schemaVersion,
  runId,
  at,
  key: IndicatorKey,
  defenderId: Schema.String,
  payloadHash: Schema.String,
  action: DefenderAction,
  expiresAt: Schema.NullOr(Schema.DateTimeUtc),
  intent: Schema.Literal("create", "update", "renew")
}) {}

export class IndicatorRejectedDuplicate extends Schema.TaggedClass<IndicatorRejectedDuplicate>()(
  "IndicatorRejectedDuplicate",
  {
    schemaVersion,
    runId,
    at,
    key: IndicatorKey,
    source: Schema.NullOr(SourceRef),
    /** Who holds the key: another source record (`source`) or another app in Defender (`defender`). */
    claimedBy: Schema.Literal("source", "defender"),
    holder: Schema.String,
    reason: Schema.String
  }
) {}

export class IndicatorRejected extends Schema.TaggedClass<IndicatorRejected>()("IndicatorRejected", {
  schemaVersion,
  runId,
  at,
  key: IndicatorKey,
  source: Schema.NullOr(SourceRef),
  /** `local` when tisync refused it before any call, `defender` for Defender's per-item failure. */
  origin: Schema.Literal("local", "defender"),
  reasonCode: Schema.String,
  reason: Schema.String
}) {}

export class IndicatorDeferred extends Schema.TaggedClass<IndicatorDeferred>()("IndicatorDeferred", {
  schemaVersion,
  runId,
  at,
  key: IndicatorKey,
  source: Schema.NullOr(SourceRef),
  capacity: Schema.Int,
  reason: Schema.String
}) {}

export class IndicatorExpired extends Schema.TaggedClass<IndicatorExpired>()("IndicatorExpired", {
  schemaVersion,
  runId,
  at,
  key: IndicatorKey,
  defenderId: Schema.NullOr(Schema.String),
  expiredAt: Schema.DateTimeUtc
}) {}

export const RevokeReason = Schema.Literal("deselected", "deleted-in-source", "manual", "evicted", "action-changed")
export type RevokeReason = typeof RevokeReason.Type

export class IndicatorRevoked extends Schema.TaggedClass<IndicatorRevoked>()("IndicatorRevoked", {
  schemaVersion,
  runId,
  at,
  key: IndicatorKey,
  defenderId: Schema.NullOr(Schema.String),
  reason: RevokeReason
}) {}

export const RunMode = Schema.Literal("incremental", "full")
export type RunMode = typeof RunMode.Type

export class RunStarted extends Schema.TaggedClass<RunStarted>()("RunStarted", {
  schemaVersion,
  runId: RunId,
  at,
  targetId: TargetId,
  mode: RunMode,
  since: Schema.NullOr(Schema.DateTimeUtc),
  policyHash: Schema.String
}) {}

export class RunCompleted extends Schema.TaggedClass<RunCompleted>()("RunCompleted", {
  schemaVersion,
  runId: RunId,
  at,
  targetId: TargetId,
  watermark: Schema.NullOr(Schema.DateTimeUtc),
  counts: RunCounts,
  apiCalls: ApiCalls,
  quota: QuotaFigures,
  /** Why nothing was sent, when the policy selects nothing (no owner or no type without TQL). */
  notes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
}) {}

export class RunFailed extends Schema.TaggedClass<RunFailed>()("RunFailed", {
  schemaVersion,
  runId: RunId,
  at,
  targetId: TargetId,
  error: Schema.String,
  counts: RunCounts,
  apiCalls: ApiCalls
}) {}

export const IndicatorEvent = Schema.Union(
  IndicatorSelected,
  IndicatorMapped,
  IndicatorSubmitted,
  IndicatorRejectedDuplicate,
  IndicatorRejected,
  IndicatorDeferred,
  IndicatorExpired,
  IndicatorRevoked
)
export type IndicatorEvent = typeof IndicatorEvent.Type

export const RunEvent = Schema.Union(RunStarted, RunCompleted, RunFailed)
export type RunEvent = typeof RunEvent.Type

export const DomainEvent = Schema.Union(IndicatorEvent, RunEvent)
export type DomainEvent = typeof DomainEvent.Type
export type DomainEventType = DomainEvent["_tag"]

export const isIndicatorEvent = (event: DomainEvent): event is IndicatorEvent =>
  event._tag !== "RunStarted" && event._tag !== "RunCompleted" && event._tag !== "RunFailed"
