import { Effect } from "effect"
import { emptyStateCounts, type Policy, ProjectionStore, quotaCapacity, DEFENDER_INDICATOR_LIMIT } from "@tisync/domain"

/** One target as `status --json` prints it (DESIGN §6). */
export interface TargetStatus {
  readonly targetId: string
  readonly lastRun: { readonly runId: string; readonly status: string; readonly completedAt: string | null; readonly watermark: string | null } | null
  readonly quota: { readonly limit: number; readonly reserve: number; readonly foreign: number; readonly live: number; readonly capacity: number }
  readonly states: { readonly live: number; readonly rejected: number; readonly deferred: number; readonly expired: number; readonly revoked: number }
}

/**
 * Per target: last run, watermark, quota and counts by state, from the projections. Before any run the
 * reserve comes from the current policy and nothing is foreign yet.
 */
export const targetStatus = (targetId: string, policy: Policy) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const last = yield* projections.lastRun(targetId)
    const quotaRow = yield* projections.quota(targetId)
    const states = quotaRow?.states ?? emptyStateCounts
    const reserve = last === null ? policy.indicatorReserveCount : (quotaRow?.quota.reserve ?? policy.indicatorReserveCount)
    const foreign = quotaRow?.quota.foreign ?? 0
    const status: TargetStatus = {
      targetId,
      lastRun:
        last === null
          ? null
          : { runId: last.runId, status: last.status, completedAt: last.completedAt, watermark: last.watermark },
      quota: {
        limit: DEFENDER_INDICATOR_LIMIT,
        reserve,
        foreign,
        live: states.live,
        capacity: quotaCapacity(DEFENDER_INDICATOR_LIMIT, reserve, foreign)
      },
      states
    }
    return status
  })
