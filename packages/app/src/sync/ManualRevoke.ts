import { DateTime, Effect, Either } from "effect"
import {
  BATCH_DELETE_LIMIT,
  DefenderIndicatorType,
  EventStore,
  IdGenerator,
  IndicatorRevoked,
  IndicatorSink,
  type IndicatorStateRow,
  normalizeIndicatorValue,
  ProjectionStore,
  StreamId,
  type TargetId
} from "@tisync/domain"
import { catchUp } from "../projections/ProjectionRunner.js"
import { chunksOf, makeEventWriter } from "./EventBatches.js"
import { decodeTargetId } from "./RunSync.js"
import { faultMessage } from "./SyncErrors.js"

export type RevokeSelector =
  | { readonly value: string }
  | { readonly runId: string }
  | { readonly all: true }

export interface RevokedIndicator {
  readonly indicatorType: string
  readonly value: string
  readonly defenderId: string | null
}

export interface RevokeReport {
  readonly targetId: string
  readonly revoked: ReadonlyArray<RevokedIndicator>
  /** Selected keys tisync could not remove now (mapped and unconfirmed: run `sync` first). */
  readonly skipped: ReadonlyArray<RevokedIndicator & { readonly reason: string }>
  /** Keys whose delete call failed after retries (still live). */
  readonly failed: number
  readonly errors: ReadonlyArray<string>
}

/** The value as typed and as each indicator type normalizes it (`1.2.3.4`, `EXAMPLE.com.` -> `example.com`). */
export const valueVariants = (value: string): ReadonlyArray<string> => {
  const out = new Set<string>([value])
  for (const t of DefenderIndicatorType.literals) {
    const n = normalizeIndicatorValue(t, value)
    if (Either.isRight(n)) out.add(n.right)
  }
  return [...out]
}

const rowsByValue = (targetId: string | undefined, value: string) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const found = yield* Effect.forEach(valueVariants(value), (v) =>
      projections.indicators(targetId === undefined ? { value: v } : { targetId, value: v })
    )
    const byStream = new Map<string, IndicatorStateRow>()
    for (const r of found.flat()) byStream.set(r.streamId, r)
    return [...byStream.values()]
  })

const selectRows = (targetId: TargetId, selector: RevokeSelector) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const store = yield* EventStore
    if ("value" in selector) return yield* rowsByValue(targetId, selector.value)
    if ("runId" in selector) {
      // Keys the run submitted (IndicatorSubmitted under its id) that still hold that indicator.
      const events = yield* store.readByRun(selector.runId)
      const submitted = new Map<string, string>()
      for (const e of events) if (e.event._tag === "IndicatorSubmitted") submitted.set(e.streamId, e.event.defenderId)
      const rows = yield* projections.indicators({ targetId, statuses: ["live"] })
      return rows.filter((r) => r.defenderId !== null && submitted.get(r.streamId) === r.defenderId)
    }
    return yield* projections.indicators({ targetId, statuses: ["live", "selected", "deferred", "duplicate", "rejected"] })
  })

/**
 * `tisync revoke VALUE | --run RUN_ID | --all` (DESIGN §6), under the target lock. Only keys tisync
 * holds live are deleted — by the Defender id tisync recorded, so another app's indicator is never
 * touched — via BatchDelete per 500 (a single delete for one id), then `IndicatorRevoked` (reason
 * manual, runId null) per key. A key still pending (mapped, unconfirmed) is skipped with a reason.
 * The policy still decides what a later sync sends: a revoked key whose record is still selected comes
 * back when its record changes or on a full run (change the policy or ThreatConnect to keep it out).
 */
export const revokeIndicators = (request: { readonly targetId: string; readonly selector: RevokeSelector }) =>
  Effect.gen(function* () {
    const targetId = yield* decodeTargetId(request.targetId)
    const store = yield* EventStore
    const lockId = yield* Effect.flatMap(IdGenerator, (ids) => ids.runId)
    return yield* store.withTargetLock(targetId, lockId, Effect.gen(function* () {
      const sink = yield* IndicatorSink
      yield* catchUp("live")
      const rows = yield* selectRows(targetId, request.selector)
      const live = rows.filter((r) => r.status === "live" && r.defenderId !== null)
      const skipped = rows
        .filter((r) => r.pending !== null && !(r.status === "live" && r.defenderId !== null))
        .map((r) => ({ indicatorType: r.indicatorType, value: r.value, defenderId: r.defenderId, reason: "mapped and not yet confirmed: run sync first" }))
      const writer = makeEventWriter(store)
      const revoked: Array<RevokedIndicator> = []
      const errors: Array<string> = []
      let failed = 0
      for (const chunk of chunksOf(live, BATCH_DELETE_LIMIT)) {
        const ids = chunk.flatMap((r) => (r.defenderId === null ? [] : [r.defenderId]))
        const first = ids[0]
        const call = ids.length === 1 && first !== undefined ? Effect.asVoid(sink.deleteOne(first)) : Effect.asVoid(sink.batchDelete(ids))
        const result = yield* Effect.either(call)
        if (Either.isLeft(result)) {
          errors.push(`deleting ${chunk.length} indicator(s): ${faultMessage(result.left)}`)
          failed += chunk.length
          continue
        }
        const at = yield* DateTime.now
        yield* writer.write(
          chunk.map((r) => ({
            streamId: StreamId.make(r.streamId),
            expectedVersion: r.version,
            events: [
              new IndicatorRevoked({
                runId: null,
                at,
                key: { targetId, indicatorType: r.indicatorType, value: r.value },
                defenderId: r.defenderId,
                reason: "manual"
              })
            ]
          }))
        )
        for (const r of chunk) revoked.push({ indicatorType: r.indicatorType, value: r.value, defenderId: r.defenderId })
      }
      yield* catchUp("live")
      const report: RevokeReport = { targetId, revoked, skipped, failed, errors }
      return report
    }))
  })
