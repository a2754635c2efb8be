import { Effect } from "effect"
import {
  DEFENDER_INDICATOR_LIMIT,
  emptyStateCounts,
  type Policy,
  ProjectionStore,
  type QuotaFigures,
  quotaCapacity,
  type StateCounts
} from "@tisync/domain"
import { catchUp } from "../projections/ProjectionRunner.js"
import { isoTextOf } from "./IsoText.js"
import { loadRunHistory } from "./RunWindow.js"

export interface TargetStatus {
  readonly targetId: string
  readonly lastRun: { readonly runId: string; readonly status: string; readonly completedAt: string | null; readonly watermark: string | null } | null
  readonly quota: QuotaFigures
  readonly states: StateCounts
}

/** `status --json` (DESIGN §6). */
export interface StatusReport {
  readonly targets: ReadonlyArray<TargetStatus>
}

/**
 * Per target: the last run, the quota and the counts by state, from the projections (brought up to
 * date first). A target without a completed run shows zeros, `lastRun: null` when it never ran, and the
 * reserve of its current policy (`policyOf`) — a completed run records the reserve and foreign count it saw.
 */
export const statusOf = (targetIds: ReadonlyArray<string>, policyOf: (targetId: string) => Policy | undefined = () => undefined) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    yield* catchUp("live")
    const targets = yield* Effect.forEach(targetIds, (targetId) =>
      Effect.gen(function* () {
        const last = yield* projections.lastRun(targetId)
        const quotaRow = yield* projections.quota(targetId)
        const history = yield* loadRunHistory(targetId)
        const states = quotaRow?.states ?? emptyStateCounts
        const reserve = policyOf(targetId)?.indicatorReserveCount ?? 0
        const quota: QuotaFigures =
          history.lastCompleted !== null && quotaRow !== null
            ? { ...quotaRow.quota, live: states.live }
            : {
                limit: DEFENDER_INDICATOR_LIMIT,
                reserve,
                foreign: 0,
                live: states.live,
                capacity: quotaCapacity(DEFENDER_INDICATOR_LIMIT, reserve, 0)
              }
        const status: TargetStatus = {
          targetId,
          lastRun:
            last === null
              ? null
              : { runId: last.runId, status: last.status, completedAt: isoTextOf(last.completedAt), watermark: isoTextOf(last.watermark) },
          quota,
          states: { live: states.live, rejected: states.rejected, deferred: states.deferred, expired: states.expired, revoked: states.revoked }
        }
        return status
      })
    )
    const report: StatusReport = { targets }
    return report
  })
