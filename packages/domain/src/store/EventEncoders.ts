import { DateTime } from "effect"
import type {
  IndicatorDeferred,
  IndicatorExpired,
  IndicatorMapped,
  IndicatorRejected,
  IndicatorRejectedDuplicate,
  IndicatorRevoked,
  IndicatorSelected,
  IndicatorSubmitted,
  Rank,
  RunCompleted,
  RunFailed,
  RunStarted
} from "../Events.js"
import { DomainEvent } from "../Events.js"
import type { DefenderPayload } from "../DefenderPayload.js"
import type { IndicatorKey } from "../IndicatorKey.js"
import type { ApiCalls, QuotaFigures, RunCounts } from "../RunCounts.js"
import type { SourceRef } from "../SourceRef.js"

/**
 * The encoded (JSON) side of every event, written field by field. `Schema.encodeSync` of the event
 * classes cost ~15 us of CPU per event (a third of an append); these cost well under 1 us. They are
 * events the program built itself (typed values, validated when constructed), so encoding is a shape
 * change, not a check; reading back still decodes every byte through the Schemas. Each function's
 * return type is the schema's `Encoded` type, so the compiler rejects a missing or mistyped field, and
 * packages/domain/test/store/EventEncoders.test.ts checks on arbitrary events that the JSON equals Schema's encoding.
 * Nested structs are copied field by field too: like Schema's encoding, excess properties are dropped.
 */

// DateTimeUtc's own encoding (effect Schema.DateTimeUtc: `formatIso`). Events of one append share
// their `at`, so the last text is remembered.
let lastIso = { epochMillis: Number.NaN, text: "" }
const iso = (t: DateTime.Utc): string => {
  if (t.epochMillis !== lastIso.epochMillis) lastIso = { epochMillis: t.epochMillis, text: DateTime.formatIso(t) }
  return lastIso.text
}
const isoOrNull = (t: DateTime.Utc | null): string | null => (t === null ? null : iso(t))

const key = (k: IndicatorKey): (typeof IndicatorSelected.Encoded)["key"] => ({
  targetId: k.targetId,
  indicatorType: k.indicatorType,
  value: k.value
})

const source = (s: SourceRef): (typeof IndicatorSelected.Encoded)["source"] => ({
  system: s.system,
  ownerId: s.ownerId,
  ownerName: s.ownerName,
  indicatorId: s.indicatorId
})
const sourceOrNull = (s: SourceRef | null) => (s === null ? null : source(s))

const rank = (r: Rank): (typeof IndicatorSelected.Encoded)["rank"] => ({
  threatAssessScore: r.threatAssessScore,
  rating: r.rating,
  confidence: r.confidence,
  lastModified: iso(r.lastModified)
})

// Optional fields stay absent when absent (JSON.stringify drops an undefined value, as Schema does the key).
const payload = (p: DefenderPayload): (typeof IndicatorMapped.Encoded)["payload"] => ({
  indicatorValue: p.indicatorValue,
  indicatorType: p.indicatorType,
  action: p.action,
  title: p.title,
  description: p.description,
  severity: p.severity,
  expirationTime: p.expirationTime,
  generateAlert: p.generateAlert,
  recommendedActions: p.recommendedActions,
  rbacGroupNames: p.rbacGroupNames === undefined ? undefined : [...p.rbacGroupNames],
  educateUrl: p.educateUrl,
  application: p.application,
  externalId: p.externalId
})

const counts = (c: RunCounts): (typeof RunCompleted.Encoded)["counts"] => ({
  selected: c.selected,
  submitted: c.submitted,
  updated: c.updated,
  renewed: c.renewed,
  unchanged: c.unchanged,
  revoked: c.revoked,
  expired: c.expired,
  rejectedInvalid: c.rejectedInvalid,
  rejectedDuplicate: c.rejectedDuplicate,
  deferredQuota: c.deferredQuota,
  failed: c.failed
})

const apiCalls = (a: ApiCalls): (typeof RunCompleted.Encoded)["apiCalls"] => ({
  import: a.import,
  submit: a.submit,
  list: a.list,
  delete: a.delete,
  batchDelete: a.batchDelete,
  threatconnect: a.threatconnect
})

const quota = (q: QuotaFigures): (typeof RunCompleted.Encoded)["quota"] => ({
  limit: q.limit,
  reserve: q.reserve,
  foreign: q.foreign,
  live: q.live,
  capacity: q.capacity
})

const selected = (e: IndicatorSelected): typeof IndicatorSelected.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  source: source(e.source),
  sourceLastModified: iso(e.sourceLastModified),
  rank: rank(e.rank),
  contentHash: e.contentHash
})

const mapped = (e: IndicatorMapped): typeof IndicatorMapped.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  payload: payload(e.payload),
  payloadHash: e.payloadHash,
  intent: e.intent
})

const submitted = (e: IndicatorSubmitted): typeof IndicatorSubmitted.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  defenderId: e.defenderId,
  payloadHash: e.payloadHash,
  action: e.action,
  expiresAt: isoOrNull(e.expiresAt),
  intent: e.intent
})

const rejectedDuplicate = (e: IndicatorRejectedDuplicate): typeof IndicatorRejectedDuplicate.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  source: sourceOrNull(e.source),
  claimedBy: e.claimedBy,
  holder: e.holder,
  reason: e.reason
})

const rejected = (e: IndicatorRejected): typeof IndicatorRejected.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  source: sourceOrNull(e.source),
  origin: e.origin,
  reasonCode: e.reasonCode,
  reason: e.reason
})

const deferred = (e: IndicatorDeferred): typeof IndicatorDeferred.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  source: sourceOrNull(e.source),
  capacity: e.capacity,
  reason: e.reason
})

const expired = (e: IndicatorExpired): typeof IndicatorExpired.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  defenderId: e.defenderId,
  expiredAt: iso(e.expiredAt)
})

const revoked = (e: IndicatorRevoked): typeof IndicatorRevoked.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  key: key(e.key),
  defenderId: e.defenderId,
  reason: e.reason
})

const runStarted = (e: RunStarted): typeof RunStarted.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  targetId: e.targetId,
  mode: e.mode,
  since: isoOrNull(e.since),
  policyHash: e.policyHash
})

const runCompleted = (e: RunCompleted): typeof RunCompleted.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  targetId: e.targetId,
  watermark: isoOrNull(e.watermark),
  counts: counts(e.counts),
  apiCalls: apiCalls(e.apiCalls),
  quota: quota(e.quota),
  notes: [...e.notes]
})

const runFailed = (e: RunFailed): typeof RunFailed.Encoded => ({
  _tag: e._tag,
  schemaVersion: e.schemaVersion,
  runId: e.runId,
  at: iso(e.at),
  targetId: e.targetId,
  error: e.error,
  counts: counts(e.counts),
  apiCalls: apiCalls(e.apiCalls)
})

/** The JSON-ready encoded form of an event (what `Schema.encodeSync(DomainEvent)` returns). */
export const encodeEventBody = (event: DomainEvent): typeof DomainEvent.Encoded => {
  switch (event._tag) {
    case "IndicatorSelected":
      return selected(event)
    case "IndicatorMapped":
      return mapped(event)
    case "IndicatorSubmitted":
      return submitted(event)
    case "IndicatorRejectedDuplicate":
      return rejectedDuplicate(event)
    case "IndicatorRejected":
      return rejected(event)
    case "IndicatorDeferred":
      return deferred(event)
    case "IndicatorExpired":
      return expired(event)
    case "IndicatorRevoked":
      return revoked(event)
    case "RunStarted":
      return runStarted(event)
    case "RunCompleted":
      return runCompleted(event)
    case "RunFailed":
      return runFailed(event)
  }
}
