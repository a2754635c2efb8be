import { DateTime, Effect, Either } from "effect"
import {
  BATCH_DELETE_LIMIT,
  defenderRejectedEvent,
  EventStore,
  IMPORT_BATCH_LIMIT,
  IndicatorDeferred,
  type IndicatorEvent,
  IndicatorSink,
  type KnownEvents,
  type Plan,
  planIntents,
  type RetryItem,
  type RevokeItem,
  revokedEvent,
  type RunCounts,
  type RunId,
  type SubmitItem,
  submittedEvent,
  WITHOUT_REVALIDATION
} from "@tisync/domain"
import { withBatchBoundaries } from "./BatchInFlight.js"
import { chunksOf, makeEventWriter, type PendingAppend } from "./EventBatches.js"
import { faultMessage, isCredentialError } from "./SyncErrors.js"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * What a run has done so far. It lives outside the execution so that a run failing half-way still
 * records (in `RunFailed`) and reports the counts of what was done.
 */
export interface RunProgress {
  readonly counts: Mutable<RunCounts>
  /** Messages of the calls that failed after the sink's retries, in order. */
  readonly failures: Array<string>
  /** Set when the credentials were refused: nothing more is tried. */
  fatal: string | null
}

export const newProgress = (counts: RunCounts): RunProgress => ({ counts: { ...counts }, failures: [], fatal: null })

type Writable = SubmitItem | RetryItem

/** Which count a write lands in when it succeeds (a retry counts as what it finishes). */
const countOf = (item: Writable): "submitted" | "updated" | "renewed" =>
  item.intent === "create" ? "submitted" : item.intent === "update" ? "updated" : "renewed"

/** Defender's per-item reason is `Code: text` (simulator, real API for value errors) or free text. */
const splitReason = (reason: string): { readonly code: string; readonly text: string } => {
  const m = /^([A-Za-z][A-Za-z0-9]*):\s*(.*)$/s.exec(reason)
  return m?.[1] !== undefined && m[2] !== undefined ? { code: m[1], text: m[2] } : { code: "DefenderItemFailed", text: reason }
}

const recordCallFailure = (progress: RunProgress, error: unknown, items: number, what: string): void => {
  progress.failures.push(`${what}: ${faultMessage(error)}`)
  progress.counts.failed += items
  if (isCredentialError(error)) progress.fatal = faultMessage(error)
}

/**
 * Carries a plan out (DESIGN §3 "Crash safety"):
 * 1. every stream's intent events (`IndicatorSelected`, `IndicatorMapped`, rejections, deferrals,
 *    expiries), in `appendMany` chunks of 500 streams, before any Defender call;
 * 2. revocations: `batchDelete` per 500 ids (`deleteOne` for a single id), then `IndicatorRevoked` per
 *    item — with the `IndicatorMapped` of an action change's new indicator in the same append;
 *    a never-sent key (defenderId null) gets its event without a call;
 * 3. imports of create / update / renew / retry items, 500 per call, then `IndicatorSubmitted`,
 *    `IndicatorRejected` (origin defender) or `IndicatorDeferred` (the tenant cap) per item; a retry
 *    Defender already holds exactly (`heldAlready`: answered before a crash) gets its
 *    `IndicatorSubmitted` without a call.
 * A call that fails after the sink's retries leaves its items as they are (mapped, unconfirmed: the next
 * run's `retry` set) and counts them in `failed`; the run goes on with the next batch, unless the
 * credentials were refused. The create of an action change whose delete failed is not sent (Defender
 * would hold both actions); it is counted as failed and planned again next run.
 * An interruption (SIGTERM) takes effect only between batches: a call in flight is answered and recorded.
 */
export const executePlan = (
  plan: Plan,
  runId: RunId,
  at: DateTime.Utc,
  progress: RunProgress,
  known?: KnownEvents,
  heldAlready: ReadonlyMap<string, string> = new Map()
) =>
  withBatchBoundaries((batchBoundary) => Effect.gen(function* () {
    const store = yield* EventStore
    const sink = yield* IndicatorSink
    const writer = makeEventWriter(store, known)

    const intents = planIntents(plan, runId, at)
    yield* writer.write(intents.map((i) => ({ streamId: i.streamId, expectedVersion: i.expectedVersion, events: i.events })))
    const withRevoke = new Map<string, ReadonlyArray<IndicatorEvent>>()
    for (const i of intents) if (i.withRevoke.length > 0) withRevoke.set(i.streamId, i.withRevoke)

    // --- revocations -------------------------------------------------------------------------------
    const revokedStreams = new Set<string>()
    const revokeAppends = (items: ReadonlyArray<RevokeItem>, when: DateTime.Utc): ReadonlyArray<PendingAppend> =>
      items.map((item) => ({
        streamId: item.streamId,
        expectedVersion: item.expectedVersion,
        events: [revokedEvent(item, runId, when), ...(withRevoke.get(item.streamId) ?? [])]
      }))
    const eventOnly = plan.revoke.filter((r) => r.defenderId === null)
    yield* writer.write(revokeAppends(eventOnly, at))
    for (const r of eventOnly) revokedStreams.add(r.streamId)

    for (const chunk of chunksOf(plan.revoke.filter((r) => r.defenderId !== null), BATCH_DELETE_LIMIT)) {
      yield* batchBoundary
      if (progress.fatal !== null) {
        progress.counts.failed += chunk.length
        progress.counts.revoked -= chunk.length
        continue
      }
      const ids = chunk.flatMap((r) => (r.defenderId === null ? [] : [r.defenderId]))
      const first = ids[0]
      const call = ids.length === 1 && first !== undefined ? Effect.asVoid(sink.deleteOne(first)) : Effect.asVoid(sink.batchDelete(ids))
      const result = yield* Effect.either(call)
      if (Either.isLeft(result)) {
        recordCallFailure(progress, result.left, chunk.length, `deleting ${chunk.length} indicator(s)`)
        progress.counts.revoked -= chunk.length
        continue
      }
      // Gone either way: deleted now, or already gone (404 / unknown to BatchDelete).
      yield* writer.write(revokeAppends(chunk, yield* DateTime.now))
      for (const r of chunk) revokedStreams.add(r.streamId)
    }

    // --- imports -----------------------------------------------------------------------------------
    const blocked = plan.create.filter((c) => c.replaces !== null && !revokedStreams.has(c.streamId))
    if (blocked.length > 0) {
      // Their delete failed: the IndicatorMapped (appended with the revoke) was never written either.
      progress.counts.failed += blocked.length
      progress.counts.submitted -= blocked.length
    }
    // Retries Defender already applied before a crash: their outcome is known, no import is needed.
    const confirmed = plan.retry.flatMap((item) => {
      const defenderId = heldAlready.get(item.streamId)
      return defenderId === undefined ? [] : [{ item, defenderId }]
    })
    yield* writer.write(confirmed.map(({ item, defenderId }) => ({
      streamId: item.streamId,
      expectedVersion: item.expectedVersion,
      events: [submittedEvent(item, defenderId, runId, at)]
    })))
    const writes: ReadonlyArray<Writable> = [
      ...plan.create.filter((c) => c.replaces === null || revokedStreams.has(c.streamId)),
      ...plan.update,
      ...plan.renew,
      ...plan.retry.filter((item) => !heldAlready.has(item.streamId))
    ]
    for (const chunk of chunksOf(writes, IMPORT_BATCH_LIMIT)) {
      yield* batchBoundary
      if (progress.fatal !== null) {
        progress.counts.failed += chunk.length
        for (const item of chunk) progress.counts[countOf(item)] -= 1
        continue
      }
      const result = yield* Effect.either(sink.importBatch(chunk.map((i) => i.payload)))
      if (Either.isLeft(result)) {
        recordCallFailure(progress, result.left, chunk.length, `importing ${chunk.length} indicator(s)`)
        for (const item of chunk) progress.counts[countOf(item)] -= 1
        continue
      }
      const when = yield* DateTime.now
      const appends: Array<PendingAppend> = []
      chunk.forEach((item, k) => {
        const outcome = result.right[k]
        let event: IndicatorEvent
        if (outcome !== undefined && outcome._tag === "Imported") {
          event = submittedEvent(item, outcome.id, runId, when)
        } else {
          progress.counts[countOf(item)] -= 1
          const reason = outcome?._tag === "Failed" ? outcome.reason : "missing from Defender's import response"
          if (outcome?._tag === "Failed" && outcome.quotaExceeded) {
            progress.counts.deferredQuota += 1
            event = new IndicatorDeferred({
              runId,
              at: when,
              key: item.key,
              source: "source" in item ? item.source : null,
              capacity: plan.quota.capacity,
              reason: `Defender refused it: the tenant holds its maximum of indicators (${reason})`
            }, WITHOUT_REVALIDATION)
          } else {
            progress.counts.rejectedInvalid += 1
            const { code, text } = splitReason(reason)
            event = defenderRejectedEvent(item, code, text, runId, when)
          }
        }
        appends.push({ streamId: item.streamId, expectedVersion: item.expectedVersion, events: [event] })
      })
      yield* writer.write(appends)
    }
  }))
