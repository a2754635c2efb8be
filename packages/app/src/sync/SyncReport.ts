import { Schema } from "effect"
import { ApiCalls, QuotaFigures, RunCounts } from "@tisync/domain"

/**
 * What `sync --json` (and `plan --json`, with mode "dry-run") prints: DESIGN §6, key for key.
 * Outside tools parse this document; do not rename its keys.
 */
export const SyncReport = Schema.Struct({
  runId: Schema.String,
  targetId: Schema.String,
  mode: Schema.Literal("incremental", "full", "dry-run"),
  status: Schema.Literal("completed", "failed"),
  counts: RunCounts,
  apiCalls: ApiCalls,
  quota: QuotaFigures,
  watermark: Schema.NullOr(Schema.String),
  /** Why nothing was sent, policy notes, and the failure message when status is "failed". */
  notes: Schema.Array(Schema.String),
  error: Schema.optional(Schema.String)
})
export type SyncReport = typeof SyncReport.Type

export interface SyncOptions {
  readonly targetId: string
  readonly full: boolean
  readonly dryRun: boolean
}
