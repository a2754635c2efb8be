import { DateTime, Effect, Option } from "effect"
import { type Policy, ProjectionStore, type QuotaFigures, type StateCounts } from "@tisync/domain"
import { statusOf } from "../sync/StatusQuery.js"

/** The last run of a target that ended (completed or failed): what health and the run metrics report. */
export interface FinishedRun {
  readonly runId: string
  readonly status: "completed" | "failed"
  readonly startedAtMillis: number
  readonly finishedAtMillis: number
}

/** What the store says about one target, read between runs. */
export interface TargetSnapshot {
  readonly targetId: string
  readonly lastFinished: FinishedRun | null
  /** When the last completed run finished: the daemon's catch-up decision starts from it. */
  readonly lastCompletedAtMillis: number | null
  readonly quota: QuotaFigures
  readonly states: StateCounts
}

/**
 * Runs searched for the last one that ended and the last completed one (a crashed run stays `running` in
 * the log; a target failing for days has many failed runs after its last completed one).
 */
const RECENT_RUNS = 200

const millisOf = (iso: string | null): number | null =>
  iso === null ? null : Option.getOrNull(Option.map(DateTime.make(iso), DateTime.toEpochMillis))

/**
 * Per target: quota and counts by state as `status --json` prints them, the last run that ended and the
 * last completed one. Reads the projections only (after bringing them up to date).
 */
export const snapshotTargets = (targetIds: ReadonlyArray<string>, policyOf: (targetId: string) => Policy | undefined) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const status = yield* statusOf(targetIds, policyOf)
    return yield* Effect.forEach(status.targets, (t) =>
      Effect.gen(function* () {
        const recent = yield* projections.runs({ targetId: t.targetId, limit: RECENT_RUNS })
        // The one that ended last, whatever the order of run ids (a run id's clock is not the store's).
        let lastFinished: FinishedRun | null = null
        let lastCompletedAtMillis: number | null = null
        for (const r of recent) {
          const started = millisOf(r.startedAt)
          const finished = millisOf(r.finishedAt)
          if (r.status === "running" || started === null || finished === null) continue
          if (r.status === "completed" && (lastCompletedAtMillis === null || finished > lastCompletedAtMillis)) lastCompletedAtMillis = finished
          if (lastFinished !== null && lastFinished.finishedAtMillis >= finished) continue
          lastFinished = { runId: r.runId, status: r.status, startedAtMillis: started, finishedAtMillis: finished }
        }
        const snapshot: TargetSnapshot = {
          targetId: t.targetId,
          lastFinished,
          lastCompletedAtMillis,
          quota: t.quota,
          states: t.states
        }
        return snapshot
      })
    )
  })
