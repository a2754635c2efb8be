import { DateTime, Duration, Effect, Option } from "effect"
import { type Policy, ProjectionStore, type RunMode, type RunSummaryRow } from "@tisync/domain"

/**
 * Incremental runs read from the last watermark minus this overlap: a record whose `lastModified` sits
 * just below the watermark but committed after the previous read (ThreatConnect stamps before it
 * commits) is read again instead of being missed. The planner drops the repeats (same content hash).
 */
export const INCREMENTAL_OVERLAP = Duration.minutes(5)

/** How many recent runs are searched for the last completed one. */
const RECENT_RUNS = 200

/** What the previous runs of a target tell the next one. */
export interface RunHistory {
  /** The last completed run (its policy hash decides whether the policy changed), or null. */
  readonly lastCompleted: RunSummaryRow | null
  /** The watermark of the last completed run that saw a record (the projection keeps it across empty runs). */
  readonly watermark: DateTime.Utc | null
}

export const loadRunHistory = (targetId: string) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const recent = yield* projections.runs({ targetId, limit: RECENT_RUNS })
    const lastCompleted = recent.find((r) => r.status === "completed") ?? null
    const lastRun = yield* projections.lastRun(targetId)
    const watermark = lastRun?.watermark == null ? null : Option.getOrNull(DateTime.make(lastRun.watermark))
    const history: RunHistory = { lastCompleted, watermark: watermark === null ? null : DateTime.toUtc(watermark) }
    return history
  })

export interface RunWindow {
  readonly mode: RunMode
  /** Read records modified at or after this; null: every record the policy selects. */
  readonly since: DateTime.Utc | null
  /** Read deletions and deactivations since this. */
  readonly deletionsSince: DateTime.Utc
  readonly notes: ReadonlyArray<string>
}

/**
 * Mode and read window of a run (DESIGN §3 "Filters", "Crash safety"):
 * - the first run on a target (no completed run yet) is `full` and reads `lastRunDays` back;
 * - `--full`, or a policy whose hash differs from the last completed run's, is `full` and reads
 *   everything the policy selects (since null): a full run revokes what it no longer returns, so it
 *   must not be bounded by the lookback;
 * - otherwise `incremental`, from the watermark minus the overlap, or from `lastRunDays` back when
 *   `onlyModifiedSinceLastRun` is false or no record was ever seen.
 */
export const runWindow = (input: {
  readonly full: boolean
  readonly policy: Policy
  readonly policyHash: string
  readonly history: RunHistory
  readonly now: DateTime.Utc
}): RunWindow => {
  const { full, policy, policyHash, history, now } = input
  const lookback = DateTime.subtract(now, { days: policy.lastRunDays })
  const overlapped = history.watermark === null ? null : DateTime.subtractDuration(history.watermark, INCREMENTAL_OVERLAP)
  const deletionsSince = overlapped ?? lookback
  if (history.lastCompleted === null) {
    return {
      mode: "full",
      since: lookback,
      deletionsSince,
      notes: [`first completed run on this target: full run over the last ${policy.lastRunDays} days (lastRunDays)`]
    }
  }
  if (full) return { mode: "full", since: null, deletionsSince, notes: ["full run requested"] }
  if (history.lastCompleted.policyHash !== policyHash) {
    return {
      mode: "full",
      since: null,
      deletionsSince,
      notes: [`the policy changed since run ${history.lastCompleted.runId} (policy hash differs): full run`]
    }
  }
  if (!policy.onlyModifiedSinceLastRun) {
    return {
      mode: "incremental",
      since: lookback,
      deletionsSince,
      notes: [`onlyModifiedSinceLastRun is false: records modified in the last ${policy.lastRunDays} days are read`]
    }
  }
  if (overlapped === null) {
    return {
      mode: "incremental",
      since: lookback,
      deletionsSince,
      notes: [`no record was seen by earlier runs: records modified in the last ${policy.lastRunDays} days are read`]
    }
  }
  return { mode: "incremental", since: overlapped, deletionsSince, notes: [] }
}
