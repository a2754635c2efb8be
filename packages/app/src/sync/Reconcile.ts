import { DateTime, Effect, Either } from "effect"
import {
  type DefenderIndicator,
  EventStore,
  externalIdOf,
  IdGenerator,
  IMPORT_BATCH_LIMIT,
  IndicatorExpired,
  type IndicatorKey,
  IndicatorMapped,
  IndicatorRejected,
  IndicatorSink,
  type IndicatorStateRow,
  IndicatorSubmitted,
  type Policy,
  ProjectionStore,
  StreamId,
  type TargetId
} from "@tisync/domain"
import { catchUp } from "../projections/ProjectionRunner.js"
import { classifyHoldings, listDefender, listedKeyOf, rowKeyOf } from "./DefenderHoldings.js"
import { chunksOf, makeEventWriter, type PendingAppend } from "./EventBatches.js"
import { decodeTargetId } from "./RunSync.js"
import { faultMessage } from "./SyncErrors.js"

export interface DriftItem {
  readonly indicatorType: string
  readonly value: string
  /** The id tisync recorded (missing, changed, expired) or the id Defender holds (foreignDuplicate, unknownOwn). */
  readonly defenderId: string | null
  readonly detail: string
}

export interface ReconcileReport {
  readonly targetId: string
  readonly repair: boolean
  /** Indicators Defender lists, and how many of them are not tisync's. */
  readonly defender: { readonly total: number; readonly own: number; readonly foreign: number }
  /** Live for tisync, absent from Defender, expiration not passed: deleted by hand. */
  readonly missing: ReadonlyArray<DriftItem>
  /** Live for tisync, absent from Defender, expiration passed: Defender dropped it. */
  readonly expired: ReadonlyArray<DriftItem>
  /** Held by Defender under tisync's id with another action or value. */
  readonly changed: ReadonlyArray<DriftItem>
  /** Another app holds a key tisync holds live. Never touched. */
  readonly foreignDuplicate: ReadonlyArray<DriftItem>
  /** Carries tisync's externalId but no live row names it. */
  readonly unknownOwn: ReadonlyArray<DriftItem>
  /** With repair: what was done. */
  readonly repaired: {
    readonly resubmitted: number
    readonly expired: number
    readonly deleted: number
    readonly rejected: number
    readonly failed: number
  }
  readonly errors: ReadonlyArray<string>
  readonly drift: boolean
}

const drift = (row: IndicatorStateRow, detail: string): DriftItem => ({
  indicatorType: row.indicatorType,
  value: row.value,
  defenderId: row.defenderId,
  detail
})
const listedDrift = (i: DefenderIndicator, detail: string): DriftItem => ({
  indicatorType: i.indicatorType,
  value: i.indicatorValue,
  defenderId: i.id,
  detail
})

const epoch = (iso: string | null): number | null => {
  if (iso === null) return null
  const t = Date.parse(iso)
  return Number.isNaN(t) ? null : t
}

interface Findings {
  readonly listedCount: number
  readonly ownCount: number
  readonly foreignCount: number
  readonly missing: ReadonlyArray<IndicatorStateRow>
  readonly expired: ReadonlyArray<IndicatorStateRow>
  readonly changed: ReadonlyArray<{ readonly row: IndicatorStateRow; readonly indicator: DefenderIndicator }>
  readonly foreignDuplicate: ReadonlyArray<DefenderIndicator>
  readonly unknownOwn: ReadonlyArray<DefenderIndicator>
}

/** Compares Defender's list with the target's rows. Pure. */
export const findDrift = (
  rows: ReadonlyArray<IndicatorStateRow>,
  listed: ReadonlyArray<DefenderIndicator>,
  nowMs: number
): Findings => {
  const holdings = classifyHoldings(rows, listed)
  const live = rows.filter((r) => r.status === "live" && r.defenderId !== null)
  const liveKeys = new Set(live.map(rowKeyOf))
  const missing: Array<IndicatorStateRow> = []
  const expired: Array<IndicatorStateRow> = []
  const changed: Array<{ readonly row: IndicatorStateRow; readonly indicator: DefenderIndicator }> = []
  for (const row of live) {
    const indicator = row.defenderId === null ? undefined : holdings.ownById.get(row.defenderId)
    if (indicator === undefined) {
      const expiresAt = epoch(row.expiresAt)
      if (expiresAt !== null && expiresAt <= nowMs) expired.push(row)
      else missing.push(row)
      continue
    }
    if (listedKeyOf(indicator) !== rowKeyOf(row) || (row.action !== null && indicator.action !== row.action)) {
      changed.push({ row, indicator })
    }
  }
  const foreignDuplicate = holdings.foreign.length === 0
    ? []
    : listed.filter((i) => !holdings.ownById.has(i.id) && liveKeys.has(listedKeyOf(i)) && !holdings.unknownOwn.includes(i))
  return {
    listedCount: listed.length,
    ownCount: holdings.ownById.size,
    foreignCount: holdings.foreign.length,
    missing,
    expired,
    changed,
    foreignDuplicate,
    unknownOwn: holdings.unknownOwn
  }
}

/**
 * `tisync reconcile [--repair]` (issue 5 item 2): lists Defender, compares with the projections and
 * reports drift. `repair` (under the target lock, every fix recorded as events with runId null — a
 * repair is not a sync run and must not move the target's last run or watermark):
 * - missing (deleted by hand): `IndicatorMapped` (intent create) with the payload tisync holds, one
 *   import per 500, then `IndicatorSubmitted` / `IndicatorRejected` per item;
 * - changed (edited by hand): the payload is imported again (intent update); if Defender's identity moved
 *   (another action), the edited copy — which carries tisync's id — is deleted;
 * - expired: `IndicatorExpired` (the next sync renews what is still selected);
 * - unknown own (tisync's externalId, no row): deleted;
 * - foreign duplicates: reported only, never touched.
 */
export const reconcile = (options: { readonly targetId: string; readonly repair: boolean; readonly policy?: Policy }) =>
  Effect.gen(function* () {
    const targetId = yield* decodeTargetId(options.targetId)
    if (!options.repair) return yield* inspect(targetId, false)
    const store = yield* EventStore
    const lockId = yield* Effect.flatMap(IdGenerator, (ids) => ids.runId)
    return yield* store.withTargetLock(targetId, lockId, inspect(targetId, true))
  })

const inspect = (targetId: TargetId, repair: boolean) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    yield* catchUp("live")
    const listed = yield* listDefender
    const rows = yield* projections.indicators({ targetId })
    const now = yield* DateTime.now
    const findings = findDrift(rows, listed, DateTime.toEpochMillis(now))
    const repaired = { resubmitted: 0, expired: 0, deleted: 0, rejected: 0, failed: 0 }
    const errors: Array<string> = []
    if (repair) yield* repairDrift(targetId, findings, now, repaired, errors)
    const report: ReconcileReport = {
      targetId,
      repair,
      defender: { total: findings.listedCount, own: findings.ownCount, foreign: findings.foreignCount },
      missing: findings.missing.map((r) => drift(r, "tisync holds it live; Defender does not list it (deleted by hand?)")),
      expired: findings.expired.map((r) => drift(r, `expired at ${r.expiresAt ?? "?"}; Defender dropped it`)),
      changed: findings.changed.map(({ row, indicator }) =>
        drift(row, `Defender holds ${indicator.indicatorType} ${indicator.indicatorValue} with action ${indicator.action ?? "none"}; tisync sent action ${row.action ?? "none"}`)
      ),
      foreignDuplicate: findings.foreignDuplicate.map((i) =>
        listedDrift(i, `also held by ${i.createdByDisplayName ?? i.createdBy ?? "another app"} (action ${i.action ?? "none"})`)
      ),
      unknownOwn: findings.unknownOwn.map((i) => listedDrift(i, `carries tisync's externalId ${externalIdOf(i) ?? ""} but no live key of this target names it`)),
      repaired,
      errors,
      drift:
        findings.missing.length + findings.expired.length + findings.changed.length + findings.foreignDuplicate.length + findings.unknownOwn.length > 0
    }
    if (repair) yield* catchUp("live")
    return report
  })

const repairDrift = (
  targetId: TargetId,
  findings: Findings,
  now: DateTime.Utc,
  repaired: { resubmitted: number; expired: number; deleted: number; rejected: number; failed: number },
  errors: Array<string>
) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const sink = yield* IndicatorSink
    const writer = makeEventWriter(store)
    const streamOf = (row: IndicatorStateRow) => StreamId.make(row.streamId)

    // Expired: recorded, nothing to call.
    yield* writer.write(
      findings.expired.map((row) => ({
        streamId: streamOf(row),
        expectedVersion: row.version,
        events: [
          new IndicatorExpired({
            runId: null,
            at: now,
            key: keyOf(targetId, row),
            defenderId: row.defenderId,
            expiredAt: DateTime.unsafeMake(row.expiresAt ?? DateTime.formatIso(now))
          })
        ]
      }))
    )
    repaired.expired += findings.expired.length

    // Missing and changed: the payload tisync holds, imported again.
    const resend = [
      ...findings.missing.map((row) => ({ row, intent: "create" as const, edited: null })),
      ...findings.changed.map(({ row, indicator }) => ({ row, intent: "update" as const, edited: indicator }))
    ].flatMap((x) => (x.row.payload === null || x.row.payloadHash === null ? [] : [{ ...x, payload: x.row.payload, payloadHash: x.row.payloadHash }]))
    for (const chunk of chunksOf(resend, IMPORT_BATCH_LIMIT)) {
      yield* writer.write(
        chunk.map(({ row, intent, payload, payloadHash }) => ({
          streamId: streamOf(row),
          expectedVersion: row.version,
          events: [new IndicatorMapped({ runId: null, at: now, key: keyOf(targetId, row), payload, payloadHash, intent })]
        }))
      )
      const result = yield* Effect.either(sink.importBatch(chunk.map((x) => x.payload)))
      if (Either.isLeft(result)) {
        errors.push(`importing ${chunk.length} indicator(s): ${faultMessage(result.left)}`)
        repaired.failed += chunk.length
        continue
      }
      const at = yield* DateTime.now
      const appends: Array<PendingAppend> = []
      const staleCopies: Array<string> = []
      chunk.forEach((x, k) => {
        const outcome = result.right[k]
        if (outcome?._tag === "Imported") {
          repaired.resubmitted++
          if (x.edited !== null && x.edited.id !== outcome.id) staleCopies.push(x.edited.id)
          appends.push({
            streamId: streamOf(x.row),
            expectedVersion: x.row.version,
            events: [
              new IndicatorSubmitted({
                runId: null,
                at,
                key: keyOf(targetId, x.row),
                defenderId: outcome.id,
                payloadHash: x.payloadHash,
                action: x.payload.action,
                expiresAt: x.payload.expirationTime === undefined ? null : DateTime.unsafeMake(x.payload.expirationTime),
                intent: x.intent
              })
            ]
          })
        } else {
          repaired.rejected++
          appends.push({
            streamId: streamOf(x.row),
            expectedVersion: x.row.version,
            events: [
              new IndicatorRejected({
                runId: null,
                at,
                key: keyOf(targetId, x.row),
                source: x.row.source,
                origin: "defender",
                reasonCode: "DefenderItemFailed",
                reason: outcome?._tag === "Failed" ? outcome.reason : "missing from Defender's import response"
              })
            ]
          })
        }
      })
      yield* writer.write(appends)
      if (staleCopies.length > 0) yield* deleteIds(staleCopies, repaired, errors, false)
    }

    // Unknown own ones: tisync's, but nothing records them; removed.
    yield* deleteIds(findings.unknownOwn.map((i) => i.id), repaired, errors, true)
  })

const keyOf = (targetId: TargetId, row: IndicatorStateRow): IndicatorKey => ({
  targetId,
  indicatorType: row.indicatorType,
  value: row.value
})

const deleteIds = (
  ids: ReadonlyArray<string>,
  repaired: { deleted: number; failed: number },
  errors: Array<string>,
  count: boolean
) =>
  Effect.gen(function* () {
    const sink = yield* IndicatorSink
    for (const chunk of chunksOf(ids, 500)) {
      const first = chunk[0]
      const call = chunk.length === 1 && first !== undefined ? Effect.asVoid(sink.deleteOne(first)) : Effect.asVoid(sink.batchDelete(chunk))
      const result = yield* Effect.either(call)
      if (Either.isLeft(result)) {
        errors.push(`deleting ${chunk.length} indicator(s): ${faultMessage(result.left)}`)
        repaired.failed += chunk.length
      } else if (count) {
        repaired.deleted += chunk.length
      }
    }
  })
