import type { IndicatorStateRow, QuotaFigures, RunCounts, RunSummaryRow } from "@tisync/domain"
import type { TargetStatus } from "../sync/StatusQuery.js"

/** What `tisync report` reads for one target: `status`, its runs and its indicator rows from the projections. */
export interface TargetReportInput {
  readonly status: TargetStatus
  /** Any order; the newest `limit` runs the report was asked for. */
  readonly runs: ReadonlyArray<RunSummaryRow>
  /** The target's rows; only live, rejected, duplicate and deferred ones are used. */
  readonly rows: ReadonlyArray<IndicatorStateRow>
}

export interface ReportInput {
  readonly generatedAt: string
  readonly targets: ReadonlyArray<TargetReportInput>
}

/** One point of the quota chart: what a completed run saw (RunCompleted records the quota). */
export interface QuotaPoint {
  readonly runId: string
  readonly at: string
  readonly mode: string
  readonly quota: QuotaFigures
}

export interface RunLine {
  readonly runId: string
  readonly mode: string
  readonly status: string
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly durationSeconds: number | null
  readonly counts: RunCounts | null
  /** Every HTTP request of the run (retries included), both APIs. */
  readonly apiCalls: number | null
  readonly error: string | null
  readonly notes: ReadonlyArray<string>
}

/** Live indicators by Defender type (rows) and action (columns, aligned with `actions`). */
export interface LiveBreakdown {
  readonly actions: ReadonlyArray<string>
  readonly types: ReadonlyArray<{ readonly indicatorType: string; readonly byAction: ReadonlyArray<number>; readonly total: number }>
  readonly total: number
}

export type HeldKind = "deferred" | "rejected" | "duplicate"

export interface ReasonGroup {
  readonly kind: HeldKind
  /** The reason with what differs per indicator taken out (see `reasonGroupOf`). */
  readonly reason: string
  readonly count: number
  /** One full reason as recorded, for the details the group label leaves out. */
  readonly sampleReason: string
  readonly examples: ReadonlyArray<{ readonly indicatorType: string; readonly value: string }>
}

export interface TargetReport {
  readonly targetId: string
  readonly status: TargetStatus
  /** Oldest first. */
  readonly quotaSeries: ReadonlyArray<QuotaPoint>
  /** Newest first. */
  readonly runs: ReadonlyArray<RunLine>
  readonly live: LiveBreakdown
  /** Largest first, at most `MAX_GROUPS` each. */
  readonly deferred: ReadonlyArray<ReasonGroup>
  readonly rejected: ReadonlyArray<ReasonGroup>
  /** Group counts before the cut to `MAX_GROUPS`. */
  readonly heldTotals: { readonly deferred: number; readonly rejected: number }
}

export interface ReportView {
  readonly generatedAt: string
  readonly targets: ReadonlyArray<TargetReport>
}

export const MAX_GROUPS = 8
export const MAX_EXAMPLES = 5

/** Code-unit order: deterministic whatever the locale, and cheap on 15,000 rows. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Defender's action order (reference/defender-api.md), mildest first; anything else after it. */
const ACTION_ORDER = ["Allowed", "Audit", "Audit + alert", "Warn", "Block", "BlockAndRemediate"]
const TYPE_ORDER = ["IpAddress", "DomainName", "Url", "FileMd5", "FileSha1", "FileSha256"]

const orderOf = (order: ReadonlyArray<string>) => (a: string, b: string) => {
  const ia = order.indexOf(a)
  const ib = order.indexOf(b)
  return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || compareText(a, b)
}

const seconds = (from: string, to: string | null): number | null => {
  if (to === null) return null
  const ms = Date.parse(to) - Date.parse(from)
  return Number.isNaN(ms) ? null : Math.max(0, Math.round(ms / 1000))
}

/** Start time, then run id (UUIDv7, so also start order) for runs started within the same millisecond. */
const byStart = (a: RunSummaryRow, b: RunSummaryRow) => compareText(a.startedAt, b.startedAt) || compareText(a.runId, b.runId)

const apiCallTotal = (run: RunSummaryRow): number | null =>
  run.apiCalls === null ? null : Object.values(run.apiCalls).reduce((n, v) => n + v, 0)

const runLineOf = (run: RunSummaryRow): RunLine => ({
  runId: run.runId,
  mode: run.mode,
  status: run.status,
  startedAt: run.startedAt,
  finishedAt: run.finishedAt,
  durationSeconds: seconds(run.startedAt, run.finishedAt),
  counts: run.counts,
  apiCalls: apiCallTotal(run),
  error: run.error,
  notes: run.notes
})

/** A run that recorded the quota it saw (completed runs) is one point; a failed or running one is not. */
export const quotaSeriesOf = (runs: ReadonlyArray<RunSummaryRow>): ReadonlyArray<QuotaPoint> =>
  [...runs].sort(byStart).flatMap((run) =>
    run.quota === null ? [] : [{ runId: run.runId, at: run.finishedAt ?? run.startedAt, mode: run.mode, quota: run.quota }]
  )

/** `Audit` with `generateAlert` is what policy `Alert` becomes (DESIGN §3 mapping); shown apart from plain Audit. */
const actionLabelOf = (row: IndicatorStateRow): string =>
  row.action === null ? "unknown" : row.action === "Audit" && row.payload?.generateAlert === true ? "Audit + alert" : row.action

export const liveBreakdownOf = (rows: ReadonlyArray<IndicatorStateRow>): LiveBreakdown => {
  const counts = new Map<string, Map<string, number>>()
  const actions = new Set<string>()
  let total = 0
  for (const row of rows) {
    if (row.status !== "live") continue
    const action = actionLabelOf(row)
    actions.add(action)
    const byAction = counts.get(row.indicatorType) ?? new Map<string, number>()
    byAction.set(action, (byAction.get(action) ?? 0) + 1)
    counts.set(row.indicatorType, byAction)
    total++
  }
  const columns = [...actions].sort(orderOf(ACTION_ORDER))
  const types = [...counts.keys()].sort(orderOf(TYPE_ORDER)).map((indicatorType) => {
    const byAction = columns.map((a) => counts.get(indicatorType)?.get(a) ?? 0)
    return { indicatorType, byAction, total: byAction.reduce((n, v) => n + v, 0) }
  })
  return { actions: columns, types, total }
}

/** `Code: text`, as every IndicatorRejected row reads (`${reasonCode}: ${reason}`). */
const CODED_REASON = /^([A-Za-z][A-Za-z0-9]*):\s/

/**
 * The group a held indicator falls in. Recorded reasons name the indicator's value, the other app's
 * Defender id and the capacity the run saw, so grouping by the raw text would make one group per
 * indicator: a coded reason groups by its code; any other loses the value, parenthesised details and
 * numbers.
 */
export const reasonGroupOf = (row: IndicatorStateRow): string => {
  const reason = row.reason ?? "no reason recorded"
  const coded = CODED_REASON.exec(reason)?.[1]
  if (coded !== undefined) return coded
  return (row.value === "" ? reason : reason.split(row.value).join("…"))
    .replace(/\s*\([^)]*\)/g, "")
    .replace(/\d+/g, "N")
    .replace(/\s+/g, " ")
    .trim()
}

const kindOf = (row: IndicatorStateRow): HeldKind | null =>
  row.status === "deferred" || row.status === "rejected" || row.status === "duplicate" ? row.status : null

interface GroupBuilder {
  readonly kind: HeldKind
  readonly reason: string
  count: number
  sampleReason: string
  readonly examples: Array<{ readonly indicatorType: string; readonly value: string }>
}

const byCountThenReason = (a: GroupBuilder, b: GroupBuilder) => b.count - a.count || compareText(a.reason, b.reason)

/**
 * Deferred, rejected and duplicate indicators grouped by reason, largest first. Source records that lost
 * a key to a higher-ranked owner (DESIGN §3 duplicates) leave the key live and are remembered on its row
 * only, so they are one more group, counted per losing record.
 */
export const reasonGroupsOf = (
  rows: ReadonlyArray<IndicatorStateRow>
): { readonly deferred: ReadonlyArray<ReasonGroup>; readonly rejected: ReadonlyArray<ReasonGroup>; readonly totals: { readonly deferred: number; readonly rejected: number } } => {
  const groups = new Map<string, GroupBuilder>()
  const add = (kind: HeldKind, reason: string, sampleReason: string, row: IndicatorStateRow, count: number) => {
    const id = `${kind}\u0000${reason}`
    const group = groups.get(id) ?? { kind, reason, count: 0, sampleReason, examples: [] }
    group.count += count
    group.examples.push({ indicatorType: row.indicatorType, value: row.value })
    groups.set(id, group)
  }
  const sorted = [...rows].sort((a, b) => compareText(a.indicatorType, b.indicatorType) || compareText(a.value, b.value))
  for (const row of sorted) {
    const kind = kindOf(row)
    if (kind !== null) add(kind, reasonGroupOf(row), row.reason ?? "no reason recorded", row, 1)
    else if (row.status === "live" && row.duplicateSources.length > 0) {
      const winner = row.source === null ? "another source record" : `${row.source.ownerName} (indicator ${row.source.indicatorId})`
      add(
        "duplicate",
        "also selected from another owner; the higher-ranked record keeps the key",
        `kept from ${winner}; lost: ThreatConnect indicator ${row.duplicateSources.join(", ")}`,
        row,
        row.duplicateSources.length
      )
    }
  }
  const all = [...groups.values()]
  const finish = (g: GroupBuilder): ReasonGroup => ({ ...g, examples: g.examples.slice(0, MAX_EXAMPLES) })
  const deferred = all.filter((g) => g.kind === "deferred").sort(byCountThenReason)
  const rejected = all.filter((g) => g.kind !== "deferred").sort(byCountThenReason)
  return {
    deferred: deferred.slice(0, MAX_GROUPS).map(finish),
    rejected: rejected.slice(0, MAX_GROUPS).map(finish),
    totals: { deferred: deferred.length, rejected: rejected.length }
  }
}

export const targetReportOf = (input: TargetReportInput): TargetReport => {
  const rows = input.rows.filter((r) => r.targetId === input.status.targetId)
  const runs = input.runs.filter((r) => r.targetId === input.status.targetId)
  const groups = reasonGroupsOf(rows)
  return {
    targetId: input.status.targetId,
    status: input.status,
    quotaSeries: quotaSeriesOf(runs),
    runs: [...runs].sort(byStart).reverse().map(runLineOf),
    live: liveBreakdownOf(rows),
    deferred: groups.deferred,
    rejected: groups.rejected,
    heldTotals: groups.totals
  }
}

/** The report's view model: a pure function of what the projections hold. */
export const reportViewOf = (input: ReportInput): ReportView => ({
  generatedAt: input.generatedAt,
  targets: input.targets.map(targetReportOf)
})
