import { DateTime, Schema } from "effect"
import {
  DEFAULT_TARGET_ID,
  evolveIndicatorState,
  type IndicatorEvent,
  type IndicatorStateRow,
  type Plan,
  type PlanInput,
  planIntents,
  Policy,
  type PolicyInput,
  revokedEvent,
  RunId,
  type SourceIndicator,
  SourceIndicatorId,
  submittedEvent
} from "@tisync/domain"

export const T0: DateTime.Utc = DateTime.unsafeMake("2026-03-01T12:00:00Z")
export const days = (n: number, from: DateTime.Utc = T0): DateTime.Utc =>
  DateTime.unsafeMake(DateTime.toEpochMillis(from) + n * 24 * 60 * 60 * 1000)

export const RUN_1 = RunId.make("0190f3a0-0000-7000-8000-000000000001")
export const RUN_2 = RunId.make("0190f3a0-0000-7000-8000-000000000002")

export const policy = (overrides: Partial<PolicyInput> = {}): Policy =>
  Schema.decodeUnknownSync(Policy)({ owners: ["ACME Corp"], ...overrides })

export const record = (overrides: Partial<Omit<SourceIndicator, "id">> & { readonly id?: string } = {}): SourceIndicator => {
  const { id, ...rest } = overrides
  return {
    id: SourceIndicatorId.make(id ?? "1001"),
    ownerId: "10",
    ownerName: "ACME Corp",
    type: "Address",
    summary: "8.8.8.8",
    fileHashes: null,
    dateAdded: days(-10),
    lastModified: days(-1),
    active: true,
    rating: 3,
    confidence: 80,
    threatAssessScore: 500,
    falsePositives: null,
    tags: [],
    securityLabels: [],
    attributes: [],
    webLink: null,
    ...rest
  }
}

export const input = (overrides: Partial<PlanInput> = {}): PlanInput => ({
  targetId: DEFAULT_TARGET_ID,
  mode: "incremental",
  candidates: [],
  deletions: [],
  current: [],
  foreign: [],
  policy: policy(),
  now: T0,
  ...overrides
})

/** A stable fake Defender id per (stream, action). */
const defenderIdOf = (streamId: string, action: string): string => `def:${action}:${streamId}`

export interface ApplyOptions {
  readonly runId?: RunId
  /** Write the intent events only, as a run that crashed before any call would. */
  readonly crashBeforeCalls?: boolean
}

/**
 * Carries a plan out as a run would, assuming Defender accepts every call: per stream the intent
 * events, then the revokes (with the re-create of an action change), then the submissions; folded
 * through the indicator_state projection.
 */
export const applyPlan = (
  plan: Plan,
  current: ReadonlyArray<IndicatorStateRow>,
  now: DateTime.Utc,
  options: ApplyOptions = {}
): ReadonlyArray<IndicatorStateRow> => {
  const runId = options.runId ?? RUN_1
  const rows = new Map(current.map((r) => [r.streamId, r] as const))
  const append = (streamId: string, events: ReadonlyArray<IndicatorEvent>): void => {
    let row = rows.get(streamId)
    for (const event of events) {
      row = evolveIndicatorState(row, streamId, (row?.version ?? 0) + 1, event)
    }
    if (row !== undefined) rows.set(streamId, row)
  }
  const intents = planIntents(plan, runId, now)
  for (const intent of intents) append(intent.streamId, intent.events)
  if (options.crashBeforeCalls === true) return [...rows.values()]
  for (const item of plan.revoke) {
    const intent = intents.find((i) => i.streamId === item.streamId)
    append(item.streamId, [revokedEvent(item, runId, now), ...(item.reason === "action-changed" ? (intent?.withRevoke ?? []) : [])])
  }
  for (const item of [...plan.create, ...plan.update, ...plan.renew, ...plan.retry]) {
    const known = rows.get(item.streamId)
    const defenderId =
      item.intent === "create" || known?.defenderId === null || known?.defenderId === undefined
        ? defenderIdOf(item.streamId, item.payload.action)
        : known.defenderId
    append(item.streamId, [submittedEvent(item, defenderId, runId, now)])
  }
  return [...rows.values()]
}

/** Plans, applies, and returns the rows: the state after one successful run. */
export const runOnce = (
  planFn: (i: PlanInput) => Plan,
  i: PlanInput,
  options: ApplyOptions = {}
): { readonly plan: Plan; readonly rows: ReadonlyArray<IndicatorStateRow> } => {
  const p = planFn(i)
  return { plan: p, rows: applyPlan(p, i.current, i.now, options) }
}

export const rowOf = (rows: ReadonlyArray<IndicatorStateRow>, value: string): IndicatorStateRow | undefined =>
  rows.find((r) => r.value === value)
