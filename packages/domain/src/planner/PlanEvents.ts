import { DateTime } from "effect"
import {
  type IndicatorEvent,
  IndicatorDeferred,
  IndicatorExpired,
  IndicatorMapped,
  IndicatorRejected,
  IndicatorRejectedDuplicate,
  IndicatorRevoked,
  IndicatorSelected,
  IndicatorSubmitted
} from "../Events.js"
import type { RunId, StreamId } from "../Identifiers.js"
import type { IndicatorKey } from "../IndicatorKey.js"
import type { SourceRef } from "../SourceRef.js"
import type {
  DeferItem,
  DuplicateItem,
  ExpireItem,
  Plan,
  RejectItem,
  RetryItem,
  RevokeItem,
  SelectItem,
  SubmitItem
} from "./Plan.js"
import { compareKeys } from "./Ranking.js"

/**
 * The events of a plan (DESIGN §3 "Crash safety"). Intent events are written before any Defender call
 * for their stream; outcome events after the call. Every event carries the run id and `at`.
 */

/**
 * Planner items are already typed and valid (built from decoded records and rows), so the event
 * constructors skip re-validating them (effect Schema.Class `disableValidation`): validation cost
 * ~1.5 s of CPU per 20,000 keys. Defaults (`schemaVersion`) are still applied, and the store encodes
 * every event through its schema when it is appended.
 */
export const WITHOUT_REVALIDATION = { disableValidation: true } as const

// --- intent: written before the call ----------------------------------------------------------------

export const selectedEvent = (item: SelectItem, runId: RunId | null, at: DateTime.Utc): IndicatorSelected =>
  new IndicatorSelected({
    runId,
    at,
    key: item.key,
    source: item.source,
    sourceLastModified: item.sourceLastModified,
    rank: item.rank,
    contentHash: item.contentHash
  }, WITHOUT_REVALIDATION)

export const mappedEvent = (item: SubmitItem, runId: RunId | null, at: DateTime.Utc): IndicatorMapped =>
  new IndicatorMapped({ runId, at, key: item.key, payload: item.payload, payloadHash: item.payloadHash, intent: item.intent }, WITHOUT_REVALIDATION)

export const localRejectedEvent = (item: RejectItem, runId: RunId | null, at: DateTime.Utc): IndicatorRejected =>
  new IndicatorRejected({
    runId,
    at,
    key: item.key,
    source: item.source,
    origin: "local",
    reasonCode: item.reasonCode,
    reason: item.reason
  }, WITHOUT_REVALIDATION)

export const duplicateEvent = (item: DuplicateItem, runId: RunId | null, at: DateTime.Utc): IndicatorRejectedDuplicate =>
  new IndicatorRejectedDuplicate({
    runId,
    at,
    key: item.key,
    source: item.source,
    claimedBy: item.claimedBy,
    holder: item.holder,
    reason: item.reason
  }, WITHOUT_REVALIDATION)

export const deferredEvent = (item: DeferItem, runId: RunId | null, at: DateTime.Utc): IndicatorDeferred =>
  new IndicatorDeferred({ runId, at, key: item.key, source: item.source, capacity: item.capacity, reason: item.reason }, WITHOUT_REVALIDATION)

export const expiredEvent = (item: ExpireItem, runId: RunId | null, at: DateTime.Utc): IndicatorExpired =>
  new IndicatorExpired({ runId, at, key: item.key, defenderId: item.defenderId, expiredAt: item.expiredAt }, WITHOUT_REVALIDATION)

// --- outcome: written after the call ----------------------------------------------------------------

/** When the payload expires, as Defender was told (`expirationTime`), or null when it has none. */
export const expirationOfPayload = (item: SubmitItem | RetryItem): DateTime.Utc | null => {
  const t = item.payload.expirationTime
  if (t === undefined) return null
  const parsed = DateTime.make(t)
  return parsed._tag === "Some" ? DateTime.toUtc(parsed.value) : null
}

/** Defender accepted the payload (also for renewals and updates). */
export const submittedEvent = (
  item: SubmitItem | RetryItem,
  defenderId: string,
  runId: RunId | null,
  at: DateTime.Utc
): IndicatorSubmitted =>
  new IndicatorSubmitted({
    runId,
    at,
    key: item.key,
    defenderId,
    payloadHash: item.payloadHash,
    action: item.payload.action,
    expiresAt: expirationOfPayload(item),
    intent: item.intent
  }, WITHOUT_REVALIDATION)

/** Defender's per-item failure (`isFailed`, `failureReason`). */
export const defenderRejectedEvent = (
  item: SubmitItem | RetryItem,
  reasonCode: string,
  reason: string,
  runId: RunId | null,
  at: DateTime.Utc
): IndicatorRejected =>
  new IndicatorRejected({
    runId,
    at,
    key: item.key,
    source: "source" in item ? item.source : null,
    origin: "defender",
    reasonCode,
    reason
  }, WITHOUT_REVALIDATION)

/**
 * Removed from Defender (after the delete; a 404 counts as removed). For an item with `defenderId`
 * null nothing was ever sent: the event is written without a call.
 */
export const revokedEvent = (item: RevokeItem, runId: RunId | null, at: DateTime.Utc): IndicatorRevoked =>
  new IndicatorRevoked({ runId, at, key: item.key, defenderId: item.defenderId, reason: item.reason }, WITHOUT_REVALIDATION)

// --- per stream ---------------------------------------------------------------------------------------

/** What one stream gets before any call, appended at `expectedVersion`. */
export interface StreamIntent {
  readonly streamId: StreamId
  readonly key: IndicatorKey
  readonly expectedVersion: number
  /** In order: IndicatorExpired, IndicatorSelected, IndicatorRejectedDuplicate, IndicatorRejected, IndicatorDeferred, IndicatorMapped. */
  readonly events: ReadonlyArray<IndicatorEvent>
  /**
   * For an action change: the `IndicatorMapped` of the new indicator, appended in the same batch as the
   * `IndicatorRevoked` of the old one (after its delete, before the import), so no crash can leave the
   * key revoked without the intent to re-create it.
   */
  readonly withRevoke: ReadonlyArray<IndicatorEvent>
}

/**
 * Every stream's intent events, streams in key order. Retries write nothing new before the call: their
 * `IndicatorMapped` is already in the log.
 */
export const planIntents = (plan: Plan, runId: RunId | null, at: DateTime.Utc): ReadonlyArray<StreamIntent> => {
  interface Draft {
    streamId: StreamId
    key: IndicatorKey
    expectedVersion: number
    expired: Array<IndicatorEvent>
    selected: Array<IndicatorEvent>
    duplicates: Array<IndicatorEvent>
    rejected: Array<IndicatorEvent>
    deferred: Array<IndicatorEvent>
    mapped: Array<IndicatorEvent>
    withRevoke: Array<IndicatorEvent>
  }
  const drafts = new Map<string, Draft>()
  const draft = (item: { readonly streamId: StreamId; readonly key: IndicatorKey; readonly expectedVersion: number }): Draft => {
    const known = drafts.get(item.streamId)
    if (known !== undefined) return known
    const d: Draft = {
      streamId: item.streamId,
      key: item.key,
      expectedVersion: item.expectedVersion,
      expired: [],
      selected: [],
      duplicates: [],
      rejected: [],
      deferred: [],
      mapped: [],
      withRevoke: []
    }
    drafts.set(item.streamId, d)
    return d
  }
  for (const i of plan.expire) draft(i).expired.push(expiredEvent(i, runId, at))
  for (const i of plan.selected) draft(i).selected.push(selectedEvent(i, runId, at))
  for (const i of plan.duplicate) draft(i).duplicates.push(duplicateEvent(i, runId, at))
  for (const i of plan.reject) draft(i).rejected.push(localRejectedEvent(i, runId, at))
  for (const i of plan.defer) draft(i).deferred.push(deferredEvent(i, runId, at))
  for (const i of [...plan.create, ...plan.update, ...plan.renew]) {
    const d = draft(i)
    if (i.replaces === null) d.mapped.push(mappedEvent(i, runId, at))
    else d.withRevoke.push(mappedEvent(i, runId, at))
  }
  return [...drafts.values()]
    .sort((a, b) => compareKeys(a.key, b.key))
    .map((d) => ({
      streamId: d.streamId,
      key: d.key,
      expectedVersion: d.expectedVersion,
      events: [...d.expired, ...d.selected, ...d.duplicates, ...d.rejected, ...d.deferred, ...d.mapped],
      withRevoke: d.withRevoke
    }))
}

/** The record a submit item came from, for outcome events of Defender's per-item failures. */
export const sourceOfSubmit = (item: SubmitItem | RetryItem): SourceRef | null => ("source" in item ? item.source : null)
