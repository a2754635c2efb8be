import { Cause, Chunk, DateTime, Effect, Either, Schema, Stream } from "effect"
import {
  type ApiCalls,
  DEFENDER_INDICATOR_LIMIT,
  emptySinkCallCounts,
  EventStore,
  IdGenerator,
  IMPORT_BATCH_LIMIT,
  IndicatorSink,
  IndicatorSource,
  KnownEvents,
  type Plan,
  plan as planRun,
  planCounts,
  type Policy,
  ProjectionStore,
  type QuotaFigures,
  quotaCapacity,
  RunCompleted,
  RunFailed,
  type RunId,
  type RunMode,
  RunStarted,
  runStreamId,
  type SinkCallCounts,
  type SourceDeletion,
  type SourceIndicator,
  type SourceRecordRejected,
  TargetId
} from "@tisync/domain"
import { reportProgress } from "../observability/RunProgress.js"
import { catchUp, PROJECTION_BATCH } from "../projections/ProjectionRunner.js"
import { classifyHoldings, listDefender, retriesAlreadyHeld, revokesOfAdopted } from "./DefenderHoldings.js"
import { executePlan, newProgress, type RunProgress } from "./PlanExecution.js"
import { policyHashOf } from "./PolicyHash.js"
import { loadRunHistory, type RunWindow, runWindow } from "./RunWindow.js"
import { isoText } from "./IsoText.js"
import { faultMessage, SyncInputError } from "./SyncErrors.js"
import type { SyncOptions, SyncReport } from "./SyncReport.js"

export interface RunSyncOptions extends SyncOptions {
  readonly policy: Policy
}

/** Undecodable ThreatConnect records named one by one in the run's notes, then only counted. */
const MAX_REJECTED_NOTES = 50


export const decodeTargetId = (targetId: string) =>
  Schema.decodeUnknown(TargetId)(targetId).pipe(
    Effect.mapError(() => new SyncInputError({ field: "targetId", reason: `${JSON.stringify(targetId)} is not a valid target id` }))
  )

interface ApiBaseline {
  readonly sink: SinkCallCounts
  readonly source: number
}

const apiBaseline = Effect.gen(function* () {
  const sink = yield* IndicatorSink
  const source = yield* IndicatorSource
  const baseline: ApiBaseline = { sink: yield* sink.callCounts, source: yield* source.requestCount }
  return baseline
})

/** Requests made since the baseline (the adapters count every HTTP request, retries included). */
const apiCallsSince = (baseline: ApiBaseline) =>
  Effect.gen(function* () {
    const sink = yield* IndicatorSink
    const source = yield* IndicatorSource
    const now = yield* sink.callCounts
    const tc = yield* source.requestCount
    const delta = (k: keyof SinkCallCounts) => (now[k] ?? 0) - (baseline.sink[k] ?? emptySinkCallCounts[k])
    const calls: ApiCalls = {
      import: delta("import"),
      submit: delta("submit"),
      list: delta("list"),
      delete: delta("delete"),
      batchDelete: delta("batchDelete"),
      threatconnect: tc - baseline.source
    }
    return calls
  })

/** What the source said this run. */
interface SourceRead {
  readonly candidates: ReadonlyArray<SourceIndicator>
  readonly rejected: ReadonlyArray<SourceRecordRejected>
  readonly deletions: ReadonlyArray<SourceDeletion>
  /** The largest `lastModified` among the candidates; null when none came back. */
  readonly maxLastModified: DateTime.Utc | null
}

/**
 * What an incremental run asks ThreatConnect for. The score, rating, confidence, false-positive and tag
 * filters are left to the planner's re-check (`policyMismatches`): sent as TQL they would hide exactly the
 * records that stopped matching since the last run, and an incremental run must revoke those (DESIGN §3
 * "Deselection"). Owners and types stay in the query (changing them changes the policy hash: full run).
 * A raw `tql` cannot be split this way; with one, deselection is found by full runs (and deletions).
 */
export const deselectionQueryPolicy = (policy: Policy): Policy =>
  policy.tql !== null
    ? policy
    : { ...policy, tags: [], minThreatAssessScore: null, minThreatRating: null, minConfidence: null, maxFalsePositives: null }

/**
 * Candidates first, deletions after them: a deletion stamped before the new watermark then happened
 * before this read finished, so the next run (reading deletions from that watermark) cannot miss it.
 */
const readSource = (policy: Policy, window: RunWindow) =>
  Effect.gen(function* () {
    const source = yield* IndicatorSource
    const initial: { candidates: Array<SourceIndicator>; rejected: Array<SourceRecordRejected>; max: DateTime.Utc | null } = {
      candidates: [],
      rejected: [],
      max: null
    }
    const folded = yield* Stream.runFold(
      source.indicators({ policy: window.mode === "incremental" ? deselectionQueryPolicy(policy) : policy, since: window.since }),
      initial,
      (acc, item) => {
        if (item._tag === "Indicator") {
          acc.candidates.push(item.indicator)
          const lm = item.indicator.lastModified
          if (acc.max === null || DateTime.greaterThan(lm, acc.max)) acc.max = lm
        } else {
          acc.rejected.push(item.rejection)
        }
        return acc
      }
    )
    const deletions = yield* Stream.runCollect(source.deletions(window.deletionsSince)).pipe(Effect.map(Chunk.toReadonlyArray))
    const read: SourceRead = { candidates: folded.candidates, rejected: folded.rejected, deletions, maxLastModified: folded.max }
    return read
  })

const rejectedNotes = (rejected: ReadonlyArray<SourceRecordRejected>): ReadonlyArray<string> => {
  if (rejected.length === 0) return []
  const named = rejected
    .slice(0, MAX_REJECTED_NOTES)
    .map((r) => `ThreatConnect record ${r.rawId ?? "(no id)"} could not be read and was not sent: ${r.reason}`)
  return rejected.length > MAX_REJECTED_NOTES ? [...named, `... and ${rejected.length - MAX_REJECTED_NOTES} more unreadable ThreatConnect records`] : named
}

/** A progress line on a terminal shows the keys selected and the import batches the plan needs. */
const reportPlanned = (plan: Plan) =>
  reportProgress({
    _tag: "Planned",
    candidates: planCounts(plan).selected,
    batches: Math.ceil((plan.create.length + plan.update.length + plan.renew.length + plan.retry.length) / IMPORT_BATCH_LIMIT)
  })

interface Gathered {
  readonly plan: Plan
  readonly read: SourceRead
  readonly notes: ReadonlyArray<string>
  /** Retries Defender already holds exactly (stream id -> Defender id): confirmed without an import. */
  readonly heldAlready: ReadonlyMap<string, string>
}

/** Source, Defender's list and the projections, into a plan. Reads only. */
const gather = (targetId: TargetId, policy: Policy, window: RunWindow, now: DateTime.Utc) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    // Three independent reads, overlapped: ThreatConnect's pages, Defender's list and the target's rows.
    // Under the target lock nothing else writes this target's streams, so their order does not matter.
    const [read, listed, rows] = yield* Effect.all(
      [
        readSource(policy, window),
        listDefender,
        Effect.zipRight(catchUp("live"), projections.indicators({ targetId }))
      ],
      { concurrency: "unbounded" }
    )
    for (const r of read.rejected) {
      yield* Effect.logWarning(`ThreatConnect record ${r.rawId ?? "(no id)"} could not be read: ${r.reason}`)
    }
    const holdings = classifyHoldings(rows, listed)
    const planned = planRun({
      targetId,
      mode: window.mode,
      candidates: read.candidates,
      deletions: read.deletions,
      current: rows,
      foreign: holdings.foreign,
      policy,
      now
    })
    const plan: Plan = { ...planned, revoke: revokesOfAdopted(planned.revoke, holdings) }
    yield* reportPlanned(plan)
    const adoptedNote =
      holdings.adopted.length === 0
        ? []
        : [`${holdings.adopted.length} indicators found in Defender while still pending from an earlier run are tisync's own and are confirmed`]
    const gathered: Gathered = {
      plan,
      read,
      notes: [...window.notes, ...plan.notes, ...adoptedNote, ...rejectedNotes(read.rejected)],
      heldAlready: retriesAlreadyHeld(plan.retry, holdings)
    }
    return gathered
  })

const reportOf = (fields: {
  readonly runId: RunId
  readonly targetId: TargetId
  readonly mode: RunMode | "dry-run"
  readonly status: "completed" | "failed"
  readonly progress: RunProgress
  readonly apiCalls: ApiCalls
  readonly quota: QuotaFigures
  readonly watermark: DateTime.Utc | null
  readonly notes: ReadonlyArray<string>
  readonly error?: string
}): SyncReport => ({
  runId: fields.runId,
  targetId: fields.targetId,
  mode: fields.mode,
  status: fields.status,
  counts: { ...fields.progress.counts },
  apiCalls: fields.apiCalls,
  quota: fields.quota,
  watermark: fields.watermark === null ? null : isoText(fields.watermark),
  notes: [...fields.notes],
  ...(fields.error !== undefined ? { error: fields.error } : {})
})

const laterOf = (a: DateTime.Utc | null, b: DateTime.Utc | null): DateTime.Utc | null =>
  a === null ? b : b === null ? a : DateTime.greaterThan(a, b) ? a : b

/** Quota before anything is known (the run failed before listing Defender). */
const policyQuota = (policy: Policy, live: number): QuotaFigures => ({
  limit: DEFENDER_INDICATOR_LIMIT,
  reserve: policy.indicatorReserveCount,
  foreign: 0,
  live,
  capacity: quotaCapacity(DEFENDER_INDICATOR_LIMIT, policy.indicatorReserveCount, 0)
})

/** Live keys of the target once the run's events are folded, with the quota the run saw. */
const quotaAfter = (targetId: TargetId, seen: QuotaFigures | null, policy: Policy, known: KnownEvents) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    yield* catchUp("live", PROJECTION_BATCH, known)
    const row = yield* projections.quota(targetId)
    const live = row?.states.live ?? 0
    return seen === null ? policyQuota(policy, live) : { ...seen, live }
  })

const emptyProgress = () => newProgress({
  selected: 0, submitted: 0, updated: 0, renewed: 0, unchanged: 0, revoked: 0, expired: 0,
  rejectedInvalid: 0, rejectedDuplicate: 0, deferredQuota: 0, failed: 0
})

/** `sync --dry-run` / `plan`: the same reads and plan, no lock, no event, no write call. */
const dryRun = (runId: RunId, targetId: TargetId, policy: Policy, full: boolean) =>
  Effect.gen(function* () {
    const now = yield* DateTime.now
    yield* catchUp("live")
    const history = yield* loadRunHistory(targetId)
    const window = runWindow({ full, policy, policyHash: policyHashOf(policy), history, now })
    const baseline = yield* apiBaseline
    const result = yield* Effect.either(gather(targetId, policy, window, now))
    const apiCalls = yield* apiCallsSince(baseline)
    if (Either.isLeft(result)) {
      const error = faultMessage(result.left)
      return reportOf({
        runId, targetId, mode: "dry-run", status: "failed", progress: emptyProgress(), apiCalls,
        quota: policyQuota(policy, 0), watermark: history.watermark, notes: [...window.notes, error], error
      })
    }
    const { plan, read, notes } = result.right
    const progress = newProgress(planCounts(plan))
    progress.counts.rejectedInvalid += read.rejected.length
    return reportOf({
      runId, targetId, mode: "dry-run", status: "completed", progress, apiCalls, quota: plan.quota,
      watermark: laterOf(history.watermark, read.maxLastModified), notes: [`planned ${window.mode} run`, ...notes]
    })
  })

/** One run under the target lock. */
const syncUnderLock = (runId: RunId, targetId: TargetId, policy: Policy, full: boolean) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const now = yield* DateTime.now
    yield* catchUp("live")
    const history = yield* loadRunHistory(targetId)
    const policyHash = policyHashOf(policy)
    const window = runWindow({ full, policy, policyHash, history, now })
    const baseline = yield* apiBaseline
    const runStream = runStreamId(targetId, runId)
    yield* store.append({
      streamId: runStream,
      expectedVersion: 0,
      events: [new RunStarted({ runId, at: now, targetId, mode: window.mode, since: window.since, policyHash })]
    })
    yield* Effect.logInfo(`run ${runId} started on target ${targetId}: ${window.mode}, since ${window.since === null ? "the beginning" : isoText(window.since)}`)

    let progress = emptyProgress()
    let notes: ReadonlyArray<string> = window.notes
    let seenQuota: QuotaFigures | null = null
    // The run's own events, folded into the projections as they are rather than read back and decoded.
    const known = new KnownEvents()

    const fail = (error: string) =>
      Effect.gen(function* () {
        const apiCalls = yield* apiCallsSince(baseline)
        const at = yield* DateTime.now
        yield* Effect.logError(`run ${runId} failed: ${error}`)
        yield* store.append({
          streamId: runStream,
          expectedVersion: 1,
          events: [new RunFailed({ runId, at, targetId, error, counts: progress.counts, apiCalls })]
        })
        const quota = yield* quotaAfter(targetId, seenQuota, policy, known)
        return reportOf({
          runId, targetId, mode: window.mode, status: "failed", progress, apiCalls, quota,
          watermark: history.watermark, notes: [...notes, error], error
        })
      })

    const body = Effect.gen(function* () {
      const { plan, read, notes: gatheredNotes, heldAlready } = yield* gather(targetId, policy, window, now)
      notes = gatheredNotes
      seenQuota = plan.quota
      progress = newProgress(planCounts(plan))
      progress.counts.rejectedInvalid += read.rejected.length
      yield* executePlan(plan, runId, now, progress, known, heldAlready)
      if (progress.fatal !== null || progress.failures.length > 0 || progress.counts.failed > 0) {
        const first = progress.fatal ?? progress.failures[0] ?? "writes could not be completed"
        return yield* fail(`${progress.counts.failed} planned write(s) could not be completed: ${first}`)
      }
      const apiCalls = yield* apiCallsSince(baseline)
      const quota = yield* quotaAfter(targetId, plan.quota, policy, known)
      const watermark = read.maxLastModified === null ? null : laterOf(history.watermark, read.maxLastModified)
      yield* store.append({
        streamId: runStream,
        expectedVersion: 1,
        events: [
          new RunCompleted({ runId, at: yield* DateTime.now, targetId, watermark, counts: progress.counts, apiCalls, quota, notes })
        ]
      })
      yield* catchUp("live")
      yield* Effect.logInfo(
        `run ${runId} completed on target ${targetId}: ${Object.entries(progress.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "nothing to do"}; ${quota.live} live of capacity ${quota.capacity}`
      )
      return reportOf({
        runId, targetId, mode: window.mode, status: "completed", progress, apiCalls, quota,
        watermark: watermark ?? history.watermark, notes
      })
    })

    // Any failure after RunStarted is recorded (RunFailed) and reported, never lost; an interruption
    // (Ctrl-C) is recorded too, then propagated.
    return yield* body.pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : fail(faultMessage(Cause.squash(cause)))
      ),
      Effect.onInterrupt(() => Effect.ignore(fail("the run was interrupted")))
    )
  })

/**
 * `tisync sync` (DESIGN §3, §6): one run on one target. Takes the target lock (TargetLocked when another
 * run holds it: exit 3), except for `dryRun`, which takes no lock, writes no event and calls no write
 * API. The report comes back with status "failed" (and `RunFailed` recorded) when anything fails after
 * `RunStarted`; errors before it (the lock, the store) are the typed errors of the effect.
 */
export const runSync = (options: RunSyncOptions) =>
  Effect.gen(function* () {
    const targetId = yield* decodeTargetId(options.targetId)
    const runId = yield* Effect.flatMap(IdGenerator, (ids) => ids.runId)
    if (options.dryRun) return yield* dryRun(runId, targetId, options.policy, options.full).pipe(observedRun(runId, targetId, "dry-run"))
    const store = yield* EventStore
    return yield* store.withTargetLock(targetId, runId, syncUnderLock(runId, targetId, options.policy, options.full)).pipe(
      observedRun(runId, targetId, options.full ? "full" : "sync")
    )
  })

/**
 * Every log line of a run carries its run id and target (issue 7 item 3), adapters' lines included, and
 * the run is one trace span (exported when OTEL_EXPORTER_OTLP_ENDPOINT is set) parenting the page and
 * API call spans.
 */
const observedRun =
  (runId: RunId, targetId: TargetId, kind: string) =>
  <A, E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    run.pipe(
      Effect.annotateLogs({ runId, targetId }),
      Effect.withSpan("tisync.run", { attributes: { "tisync.run_id": runId, "tisync.target_id": targetId, "tisync.run_kind": kind } })
    )
