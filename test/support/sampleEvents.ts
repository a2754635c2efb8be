import { DateTime } from "effect"
import {
  type DomainEvent,
  emptyApiCalls,
  emptyRunCounts,
  type IndicatorKey,
  IndicatorMapped,
  IndicatorRevoked,
  IndicatorSelected,
  IndicatorSubmitted,
  indicatorStreamId,
  RunCompleted,
  RunId,
  RunStarted,
  runStreamId,
  SourceIndicatorId,
  StreamId,
  TargetId
} from "@tisync/domain"

export const T0 = DateTime.unsafeMake("2026-01-01T00:00:00Z")
export const at = (minutes: number) => DateTime.add(T0, { minutes })

let counter = 0
/** A UUIDv7-shaped run id, unique within the test process. */
export const testRunId = (): RunId => {
  counter++
  const hex = (Date.now() * 1000 + counter).toString(16).padStart(12, "0").slice(-12)
  const rand = Math.floor(Math.random() * 0xfff).toString(16).padStart(3, "0")
  return RunId.make(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${rand}-8${rand}-${counter.toString(16).padStart(12, "0")}`)
}

export const target = TargetId.make("default")

export const ipKey = (value: string, targetId = target): IndicatorKey => ({
  targetId,
  indicatorType: "IpAddress",
  value
})

export const uniqueStream = (prefix = "s"): StreamId =>
  StreamId.make(`${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`)

export const selected = (key: IndicatorKey, runId: RunId | null, minute = 0, id = "9007199254918487") =>
  new IndicatorSelected({
    schemaVersion: 1,
    runId,
    at: at(minute),
    key,
    source: { system: "threatconnect", ownerId: "1", ownerName: "ACME Corp", indicatorId: SourceIndicatorId.make(id) },
    sourceLastModified: at(minute),
    rank: { threatAssessScore: 500, rating: 3, confidence: 80, lastModified: at(minute) },
    contentHash: `content-${key.value}`
  })

export const mapped = (key: IndicatorKey, runId: RunId | null, minute = 0) =>
  new IndicatorMapped({
    schemaVersion: 1,
    runId,
    at: at(minute),
    key,
    payload: {
      indicatorValue: key.value,
      indicatorType: key.indicatorType,
      action: "Audit",
      generateAlert: true,
      title: `ThreatConnect Address: ${key.value}`,
      description: "ThreatConnect Address | Owner: ACME Corp | Id: 1",
      severity: "Medium",
      expirationTime: "2026-02-01T00:00:00Z",
      externalId: "threatconnect:9007199254918487"
    },
    payloadHash: `hash-${key.value}`,
    intent: "create"
  })

export const submitted = (key: IndicatorKey, runId: RunId | null, minute = 0) =>
  new IndicatorSubmitted({
    schemaVersion: 1,
    runId,
    at: at(minute),
    key,
    defenderId: `d-${key.value}`,
    payloadHash: `hash-${key.value}`,
    action: "Audit",
    expiresAt: at(60 * 24 * 31),
    intent: "create"
  })

export const revoked = (key: IndicatorKey, runId: RunId | null, minute = 0) =>
  new IndicatorRevoked({ schemaVersion: 1, runId, at: at(minute), key, defenderId: `d-${key.value}`, reason: "deselected" })

export const runStarted = (runId: RunId, minute = 0, targetId = target) =>
  new RunStarted({ schemaVersion: 1, runId, at: at(minute), targetId, mode: "incremental", since: null, policyHash: "p" })

export const runCompleted = (runId: RunId, minute = 1, targetId = target) =>
  new RunCompleted({
    schemaVersion: 1,
    runId,
    at: at(minute),
    targetId,
    watermark: at(minute),
    counts: { ...emptyRunCounts, submitted: 1 },
    apiCalls: { ...emptyApiCalls, import: 1 },
    quota: { limit: 15000, reserve: 100, foreign: 10, live: 1, capacity: 14890 },
    notes: []
  })

/** A whole small run: started, one indicator selected/mapped/submitted, completed. */
export const smallRun = (value: string, targetId = target): ReadonlyArray<{ streamId: StreamId; events: ReadonlyArray<DomainEvent> }> => {
  const runId = testRunId()
  const key = ipKey(value, targetId)
  return [
    { streamId: runStreamId(targetId, runId), events: [runStarted(runId, 0, targetId)] },
    { streamId: indicatorStreamId(key), events: [selected(key, runId), mapped(key, runId), submitted(key, runId, 1)] },
    { streamId: runStreamId(targetId, runId), events: [runCompleted(runId, 2, targetId)] }
  ]
}
