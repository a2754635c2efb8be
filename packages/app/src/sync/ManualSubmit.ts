import { Chunk, DateTime, Effect, Either, Schema, Stream } from "effect"
import {
  buildDefenderPayload,
  DefenderAction,
  type DefenderIndicator,
  DefenderIndicatorType,
  DefenderSeverity,
  defaultPolicy,
  EventStore,
  formatExpiration,
  IdGenerator,
  IndicatorMapped,
  IndicatorRejected,
  IndicatorRejectedDuplicate,
  IndicatorRevoked,
  IndicatorSink,
  indicatorStreamId,
  IndicatorSubmitted,
  isFileIndicatorType,
  normalizeIndicatorValue,
  payloadHashOf,
  type Policy,
  PolicyAction,
  ProjectionStore,
  type SinkError
} from "@tisync/domain"
import { catchUp } from "../projections/ProjectionRunner.js"
import { MANUAL_EXTERNAL_ID } from "./DefenderHoldings.js"
import { isoText } from "./IsoText.js"
import { decodeTargetId } from "./RunSync.js"
import { faultMessage, SyncInputError } from "./SyncErrors.js"

export interface SubmitRequest {
  readonly targetId: string
  /** Defender's type name: IpAddress, DomainName, Url, FileMd5, FileSha1, FileSha256. */
  readonly type: string
  readonly value: string
  /** A policy action (`Alert` = Audit + alert) or a Defender action; default: the policy's action. */
  readonly action?: string
  /** Informational | Low | Medium | High; default: the policy's severity override, else Medium. */
  readonly severity?: string
  /** ISO 8601; default: now + the policy's expiration days for the type. */
  readonly expires?: string
  readonly description?: string
  readonly generateAlert?: boolean
  /** The target's policy, for the defaults above. */
  readonly policy?: Policy
}

export interface SubmitReport {
  readonly targetId: string
  readonly indicatorType: string
  readonly value: string
  readonly action: string
  readonly status: "submitted" | "rejected" | "duplicate"
  readonly intent: "create" | "update"
  readonly defenderId: string | null
  readonly expiresAt: string | null
  readonly reason: string | null
}

const oneOf = <A extends string>(schema: Schema.Schema<A>, field: string, value: string) =>
  Schema.decodeUnknown(schema)(value).pipe(Effect.mapError(() => new SyncInputError({ field, reason: `${JSON.stringify(value)} is not allowed` })))

const escapeOData = (s: string): string => s.replace(/'/g, "''")

/**
 * `tisync submit` (DESIGN §6): an ad hoc create or update of one indicator, under the target lock.
 * Validated locally first (value rules and the payload builder: a bad input is a SyncInputError, exit 2,
 * with nothing recorded); then `IndicatorMapped` (intent create or update), the call, and
 * `IndicatorSubmitted` or `IndicatorRejected` (origin defender). Events carry runId null: a manual
 * command is not a sync run and must not move the target's last run or watermark; `history` shows them.
 * The payload carries externalId `tisync:manual`; a key another app holds in Defender with the same
 * action is not overwritten (`IndicatorRejectedDuplicate`). A key tisync holds live with another action
 * is deleted first (`IndicatorRevoked`, reason action-changed), as Defender's identity includes the action.
 */
export const submitIndicator = (request: SubmitRequest) =>
  Effect.gen(function* () {
    const targetId = yield* decodeTargetId(request.targetId)
    const policy = request.policy ?? defaultPolicy
    const indicatorType = yield* oneOf(DefenderIndicatorType, "type", request.type)
    const action = yield* oneOf(Schema.Union(PolicyAction, DefenderAction), "action", request.action ?? policy.action)
    const severity = yield* oneOf(DefenderSeverity, "severity", request.severity ?? policy.severity ?? "Medium")
    const normalized = normalizeIndicatorValue(indicatorType, request.value)
    if (Either.isLeft(normalized)) return yield* new SyncInputError({ field: "value", reason: normalized.left.reason })
    const value = normalized.right
    const now = yield* DateTime.now
    const expires = DateTime.unsafeMake(formatExpiration(yield* expirationOf(request.expires, policy, indicatorType, now)))
    const built = buildDefenderPayload({
      indicatorType,
      indicatorValue: value,
      action,
      title: `tisync manual ${indicatorType}: ${value}`,
      description: request.description ?? "Submitted by hand with tisync",
      severity,
      expirationTime: formatExpiration(expires),
      generateAlert: request.generateAlert ?? policy.generateAlert,
      recommendedActions: policy.recommendedActions,
      rbacGroupNames: policy.rbacGroupNames,
      application: policy.application,
      externalId: MANUAL_EXTERNAL_ID
    })
    if (Either.isLeft(built)) return yield* new SyncInputError({ field: built.left.field, reason: built.left.reason })
    const payload = built.right
    const store = yield* EventStore
    const lockId = yield* Effect.flatMap(IdGenerator, (ids) => ids.runId)
    return yield* store.withTargetLock(targetId, lockId, Effect.gen(function* () {
      const projections = yield* ProjectionStore
      const sink = yield* IndicatorSink
      yield* catchUp("live")
      const key = { targetId, indicatorType, value }
      const streamId = indicatorStreamId(key)
      const row = (yield* projections.indicators({ targetId, value })).find((r) => r.indicatorType === indicatorType)
      const version = yield* store.streamVersion(streamId)
      const live = row !== undefined && row.status === "live" && row.defenderId !== null ? row : null
      const base = { targetId, indicatorType, value, action: payload.action }

      // Another app's indicator on the same identity (value, type, action) would be overwritten by the upsert.
      const listed = yield* sinkList(sink, `indicatorValue eq '${escapeOData(value)}'`)
      const foreign = listed.find(
        (i) => i.indicatorType === indicatorType && i.action === payload.action && i.id !== live?.defenderId && i.indicatorValue.toLowerCase() === value.toLowerCase()
      )
      if (foreign !== undefined) {
        const holder = foreign.createdByDisplayName ?? foreign.createdBy ?? "another app"
        const reason = `Defender already holds ${indicatorType} ${value} with action ${payload.action} from ${holder} (Defender id ${foreign.id}); it is not overwritten`
        yield* store.append({
          streamId,
          expectedVersion: version,
          events: [new IndicatorRejectedDuplicate({ runId: null, at: now, key, source: null, claimedBy: "defender", holder, reason })]
        })
        yield* catchUp("live")
        const report: SubmitReport = { ...base, status: "duplicate", intent: "create", defenderId: foreign.id, expiresAt: null, reason }
        return report
      }

      let next = version
      let intent: "create" | "update" = live !== null && live.action === payload.action ? "update" : "create"
      if (live !== null && live.action !== payload.action && live.defenderId !== null) {
        yield* sink.deleteOne(live.defenderId)
        yield* store.append({
          streamId,
          expectedVersion: next,
          events: [new IndicatorRevoked({ runId: null, at: now, key, defenderId: live.defenderId, reason: "action-changed" })]
        })
        next++
        intent = "create"
      }
      const payloadHash = payloadHashOf(payload)
      yield* store.append({
        streamId,
        expectedVersion: next,
        events: [new IndicatorMapped({ runId: null, at: now, key, payload, payloadHash, intent })]
      })
      next++
      const result = yield* Effect.either(sink.submit(payload))
      const at = yield* DateTime.now
      if (Either.isLeft(result)) {
        const e = result.left
        if (e._tag !== "DefenderValidation" && e._tag !== "DefenderQuotaExceeded") {
          // Not an answer about the indicator: it stays mapped (pending); `submit` again finishes it.
          return yield* Effect.fail(e)
        }
        yield* store.append({
          streamId,
          expectedVersion: next,
          events: [new IndicatorRejected({ runId: null, at, key, source: null, origin: "defender", reasonCode: e.code, reason: faultMessage(e) })]
        })
        yield* catchUp("live")
        const report: SubmitReport = { ...base, status: "rejected", intent, defenderId: null, expiresAt: null, reason: faultMessage(e) }
        return report
      }
      const created = result.right
      yield* store.append({
        streamId,
        expectedVersion: next,
        events: [
          new IndicatorSubmitted({ runId: null, at, key, defenderId: created.id, payloadHash, action: payload.action, expiresAt: expires, intent })
        ]
      })
      yield* catchUp("live")
      const report: SubmitReport = { ...base, status: "submitted", intent, defenderId: created.id, expiresAt: isoText(expires), reason: null }
      return report
    }))
  })

const sinkList = (sink: IndicatorSink["Type"], filter: string): Effect.Effect<ReadonlyArray<DefenderIndicator>, SinkError> =>
  Stream.runCollect(sink.list({ filter })).pipe(Effect.map(Chunk.toReadonlyArray))

const expirationOf = (expires: string | undefined, policy: Policy, type: DefenderIndicatorType, now: DateTime.Utc) =>
  Effect.gen(function* () {
    if (expires === undefined) {
      const days = isFileIndicatorType(type) ? policy.expirationDays.file : policy.expirationDays.network
      return DateTime.add(now, { days })
    }
    const parsed = DateTime.make(expires)
    if (parsed._tag === "None") return yield* new SyncInputError({ field: "expires", reason: `${JSON.stringify(expires)} is not an ISO 8601 time` })
    const at = DateTime.toUtc(parsed.value)
    if (!DateTime.greaterThan(at, now)) return yield* new SyncInputError({ field: "expires", reason: `${expires} is not in the future` })
    return at
  })
