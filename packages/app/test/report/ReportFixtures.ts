import type { DefenderAction, DefenderIndicatorType, IndicatorStateRow, IndicatorStatus, QuotaFigures, RunSummaryRow } from "@tisync/domain"
import { emptyApiCalls, emptyRunCounts, SourceIndicatorId } from "@tisync/domain"
import type { TargetStatus } from "../../src/sync/StatusQuery.js"

/** Rows and runs as the projections hold them, with only what a test cares about spelled out. */
export const stateRow = (fields: {
  readonly value: string
  readonly status: IndicatorStatus
  readonly indicatorType?: DefenderIndicatorType
  readonly targetId?: string
  readonly action?: DefenderAction | null
  readonly generateAlert?: boolean
  readonly reason?: string | null
  readonly duplicateSources?: ReadonlyArray<string>
  readonly ownerName?: string
}): IndicatorStateRow => {
  const indicatorType = fields.indicatorType ?? "IpAddress"
  const action = fields.action === undefined ? (fields.status === "live" ? "Block" : null) : fields.action
  return {
    streamId: `indicator-${fields.targetId ?? "default"}-${indicatorType}-${fields.value}`,
    targetId: fields.targetId ?? "default",
    indicatorType,
    value: fields.value,
    status: fields.status,
    version: 3,
    source:
      fields.ownerName === undefined
        ? null
        : { system: "threatconnect", ownerId: "1", ownerName: fields.ownerName, indicatorId: SourceIndicatorId.make("9007199254740993") },
    sourceLastModified: null,
    contentHash: null,
    rank: null,
    duplicateSources: fields.duplicateSources ?? [],
    defenderId: fields.status === "live" ? "1" : null,
    payload:
      fields.status === "live" && action !== null
        ? {
            indicatorValue: fields.value,
            indicatorType,
            action,
            title: `ThreatConnect: ${fields.value}`,
            description: "ThreatConnect Address | Owner: ACME | Id: 1",
            severity: "High",
            ...(fields.generateAlert === undefined ? {} : { generateAlert: fields.generateAlert })
          }
        : null,
    payloadHash: null,
    action,
    expiresAt: null,
    pending: null,
    reason: fields.reason ?? null,
    lastRunId: null,
    updatedAt: "2026-01-01T00:00:00.000Z"
  }
}

export const quota = (live: number, fields: Partial<QuotaFigures> = {}): QuotaFigures => {
  const limit = fields.limit ?? 15_000
  const reserve = fields.reserve ?? 0
  const foreign = fields.foreign ?? 0
  return { limit, reserve, foreign, live, capacity: fields.capacity ?? limit - reserve - foreign }
}

export const runRow = (fields: {
  readonly runId: string
  readonly startedAt: string
  readonly status?: "completed" | "failed" | "running"
  readonly quota?: QuotaFigures | null
  readonly targetId?: string
  readonly error?: string | null
  readonly notes?: ReadonlyArray<string>
  readonly submitted?: number
}): RunSummaryRow => {
  const status = fields.status ?? "completed"
  const done = status === "completed"
  return {
    runId: fields.runId,
    targetId: fields.targetId ?? "default",
    mode: "incremental",
    since: null,
    policyHash: "h",
    status,
    startedAt: fields.startedAt,
    finishedAt: status === "running" ? null : fields.startedAt.replace(/:00\.000Z$/, ":42.000Z"),
    counts: done ? { ...emptyRunCounts, submitted: fields.submitted ?? 0 } : null,
    apiCalls: done ? { ...emptyApiCalls, import: 2, threatconnect: 3 } : null,
    quota: fields.quota === undefined ? (done ? quota(0) : null) : fields.quota,
    watermark: null,
    error: fields.error ?? null,
    notes: fields.notes ?? [],
    indicatorEvents: 0
  }
}

export const targetStatus = (targetId: string, live: number): TargetStatus => ({
  targetId,
  lastRun: null,
  quota: quota(live),
  states: { live, rejected: 0, deferred: 0, expired: 0, revoked: 0 }
})
