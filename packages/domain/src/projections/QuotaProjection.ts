import { DEFENDER_INDICATOR_LIMIT } from "../Policy.js"
import type { QuotaFigures } from "../RunCounts.js"
import type { IndicatorStatus, QuotaRow, StateCounts } from "./ProjectionRows.js"

export const emptyStateCounts: StateCounts = { live: 0, rejected: 0, deferred: 0, expired: 0, revoked: 0 }

/** capacity = limit - reserve - foreign, never below zero (DESIGN §3 "Quota"). */
export const quotaCapacity = (limit: number, reserve: number, foreign: number): number =>
  Math.max(0, limit - reserve - foreign)

export const initialQuotaRow = (targetId: string): QuotaRow => ({
  targetId,
  quota: { limit: DEFENDER_INDICATOR_LIMIT, reserve: 0, foreign: 0, live: 0, capacity: DEFENDER_INDICATOR_LIMIT },
  states: emptyStateCounts
})

const bucketOf = (status: IndicatorStatus | undefined): keyof StateCounts | null => {
  switch (status) {
    case "live":
    case "rejected":
    case "deferred":
    case "expired":
    case "revoked":
      return status
    case "duplicate":
      return "rejected"
    default:
      return null
  }
}

/** Moves one indicator from one status bucket to another. */
export const evolveQuotaOnTransition = (
  previous: QuotaRow | undefined,
  targetId: string,
  before: IndicatorStatus | undefined,
  after: IndicatorStatus
): QuotaRow => {
  const row = previous ?? initialQuotaRow(targetId)
  const from = bucketOf(before)
  const to = bucketOf(after)
  if (from === to) return row
  const states = { ...row.states }
  if (from !== null) states[from] -= 1
  if (to !== null) states[to] += 1
  return { ...row, states, quota: { ...row.quota, live: states.live } }
}

/** A completed run records the tenant's view: reserve and the foreign indicators it counted. */
export const evolveQuotaOnRunCompleted = (
  previous: QuotaRow | undefined,
  targetId: string,
  seen: QuotaFigures
): QuotaRow => {
  const row = previous ?? initialQuotaRow(targetId)
  const quota = {
    limit: seen.limit,
    reserve: seen.reserve,
    foreign: seen.foreign,
    live: row.states.live,
    capacity: quotaCapacity(seen.limit, seen.reserve, seen.foreign)
  }
  return { ...row, quota }
}
