import { Schema } from "effect"
import { DefenderPayload } from "../DefenderPayload.js"
import { DefenderAction } from "../IndicatorAction.js"
import { DefenderIndicatorType } from "../IndicatorType.js"
import { RunMode } from "../Events.js"
import { ApiCalls, QuotaFigures, RunCounts } from "../RunCounts.js"
import { SourceRef } from "../SourceRef.js"

/**
 * Read-model rows. They are plain JSON (dates as ISO strings) because they are stored as jsonb and
 * compared row by row by `replay --verify`; the schemas decode them at the database edge.
 */
const IsoTime = Schema.String

export const IndicatorStatus = Schema.Literal(
  "selected",
  "live",
  "rejected",
  "duplicate",
  "deferred",
  "expired",
  "revoked"
)
export type IndicatorStatus = typeof IndicatorStatus.Type

export const RankRow = Schema.Struct({
  threatAssessScore: Schema.NullOr(Schema.Number),
  rating: Schema.NullOr(Schema.Number),
  confidence: Schema.NullOr(Schema.Number),
  lastModified: IsoTime
})
export type RankRow = typeof RankRow.Type

export const PendingSubmission = Schema.Struct({
  payload: DefenderPayload,
  payloadHash: Schema.String,
  intent: Schema.Literal("create", "update", "renew"),
  runId: Schema.NullOr(Schema.String)
})
export type PendingSubmission = typeof PendingSubmission.Type

/** What tisync knows about one indicator key: the fold of its stream. */
export const IndicatorStateRow = Schema.Struct({
  streamId: Schema.String,
  targetId: Schema.String,
  indicatorType: DefenderIndicatorType,
  value: Schema.String,
  status: IndicatorStatus,
  /** Stream version: the expected version of the next append. */
  version: Schema.Int,
  source: Schema.NullOr(SourceRef),
  sourceLastModified: Schema.NullOr(IsoTime),
  contentHash: Schema.NullOr(Schema.String),
  rank: Schema.NullOr(RankRow),
  /** Other source records that claim the same key and lost to `source` (their indicator ids). */
  duplicateSources: Schema.Array(Schema.String),
  defenderId: Schema.NullOr(Schema.String),
  /** The payload Defender holds (renewal resubmits it with a new expiration) and its hash without expirationTime. */
  payload: Schema.NullOr(DefenderPayload),
  payloadHash: Schema.NullOr(Schema.String),
  action: Schema.NullOr(DefenderAction),
  expiresAt: Schema.NullOr(IsoTime),
  /** Mapped and not yet confirmed: a crash between the two is finished by the next run. */
  pending: Schema.NullOr(PendingSubmission),
  reason: Schema.NullOr(Schema.String),
  lastRunId: Schema.NullOr(Schema.String),
  updatedAt: IsoTime
})
export type IndicatorStateRow = typeof IndicatorStateRow.Type

export const StateCounts = Schema.Struct({
  live: Schema.Int,
  rejected: Schema.Int,
  deferred: Schema.Int,
  expired: Schema.Int,
  revoked: Schema.Int
})
export type StateCounts = typeof StateCounts.Type

export const QuotaRow = Schema.Struct({
  targetId: Schema.String,
  quota: QuotaFigures,
  states: StateCounts
})
export type QuotaRow = typeof QuotaRow.Type

export const RunStatus = Schema.Literal("running", "completed", "failed")
export type RunStatus = typeof RunStatus.Type

export const LastRunRow = Schema.Struct({
  targetId: Schema.String,
  runId: Schema.String,
  status: RunStatus,
  startedAt: IsoTime,
  completedAt: Schema.NullOr(IsoTime),
  /** The watermark of the last completed run: where the next incremental run starts. */
  watermark: Schema.NullOr(IsoTime)
})
export type LastRunRow = typeof LastRunRow.Type

export const RunSummaryRow = Schema.Struct({
  runId: Schema.String,
  targetId: Schema.String,
  mode: RunMode,
  since: Schema.NullOr(IsoTime),
  policyHash: Schema.String,
  status: RunStatus,
  startedAt: IsoTime,
  finishedAt: Schema.NullOr(IsoTime),
  counts: Schema.NullOr(RunCounts),
  apiCalls: Schema.NullOr(ApiCalls),
  quota: Schema.NullOr(QuotaFigures),
  watermark: Schema.NullOr(IsoTime),
  error: Schema.NullOr(Schema.String),
  notes: Schema.Array(Schema.String),
  /** Indicator events recorded under this run id. */
  indicatorEvents: Schema.Int
})
export type RunSummaryRow = typeof RunSummaryRow.Type

export const PROJECTION_NAMES = ["indicator_state", "target_quota", "target_last_run", "run_summary"] as const
export type ProjectionName = (typeof PROJECTION_NAMES)[number]

export interface ProjectionRowTypes {
  readonly indicator_state: IndicatorStateRow
  readonly target_quota: QuotaRow
  readonly target_last_run: LastRunRow
  readonly run_summary: RunSummaryRow
}

export const projectionRowSchemas = {
  indicator_state: IndicatorStateRow,
  target_quota: QuotaRow,
  target_last_run: LastRunRow,
  run_summary: RunSummaryRow
} as const
