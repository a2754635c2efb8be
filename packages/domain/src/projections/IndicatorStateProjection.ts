import { DateTime } from "effect"
import type { IndicatorEvent } from "../Events.js"
import type { IndicatorStateRow, IndicatorStatus } from "./ProjectionRows.js"

/**
 * The events of one append share their `at`, so the last text is remembered: formatting a Date per
 * event was ~0.35 s of CPU in the catch-up after an initial sync of 15,000.
 */
let lastIso = { epochMillis: Number.NaN, text: "" }
const iso = (t: DateTime.Utc): string => {
  if (t.epochMillis !== lastIso.epochMillis) lastIso = { epochMillis: t.epochMillis, text: DateTime.formatIso(t) }
  return lastIso.text
}

const initialRow = (streamId: string, event: IndicatorEvent): IndicatorStateRow => ({
  streamId,
  targetId: event.key.targetId,
  indicatorType: event.key.indicatorType,
  value: event.key.value,
  status: "selected",
  version: 0,
  source: null,
  sourceLastModified: null,
  contentHash: null,
  rank: null,
  duplicateSources: [],
  defenderId: null,
  payload: null,
  payloadHash: null,
  action: null,
  expiresAt: null,
  pending: null,
  reason: null,
  lastRunId: null,
  updatedAt: iso(event.at)
})

/** A per-item failure of an update leaves the previous payload live in Defender. */
const statusAfterFailure = (row: IndicatorStateRow, failed: IndicatorStatus): IndicatorStatus =>
  row.status === "live" && row.defenderId !== null ? "live" : failed

/** The fold of one indicator stream (DESIGN §3 "Pure core": evolve). */
export const evolveIndicatorState = (
  previous: IndicatorStateRow | undefined,
  streamId: string,
  version: number,
  event: IndicatorEvent
): IndicatorStateRow => {
  const base = previous ?? initialRow(streamId, event)
  const row: IndicatorStateRow = {
    ...base,
    version,
    lastRunId: event.runId ?? base.lastRunId,
    updatedAt: iso(event.at)
  }
  switch (event._tag) {
    case "IndicatorSelected":
      return {
        ...row,
        status: row.status === "revoked" || row.status === "expired" ? "selected" : row.status,
        source: event.source,
        sourceLastModified: iso(event.sourceLastModified),
        contentHash: event.contentHash,
        rank: {
          threatAssessScore: event.rank.threatAssessScore,
          rating: event.rank.rating,
          confidence: event.rank.confidence,
          lastModified: iso(event.rank.lastModified)
        },
        duplicateSources: row.duplicateSources.filter((id) => id !== event.source.indicatorId)
      }
    case "IndicatorMapped":
      return {
        ...row,
        pending: { payload: event.payload, payloadHash: event.payloadHash, intent: event.intent, runId: event.runId }
      }
    case "IndicatorSubmitted":
      return {
        ...row,
        status: "live",
        defenderId: event.defenderId,
        payload: row.pending?.payload ?? row.payload,
        payloadHash: event.payloadHash,
        action: event.action,
        expiresAt: event.expiresAt === null ? null : iso(event.expiresAt),
        pending: null,
        reason: null
      }
    case "IndicatorRejectedDuplicate": {
      if (event.claimedBy === "source" && event.source !== null) {
        // The key itself stays with the winning record; only the losing record is remembered.
        const loser = event.source.indicatorId
        const known = row.duplicateSources.includes(loser)
        const duplicateSources = known ? row.duplicateSources : [...row.duplicateSources, loser].sort()
        const keyHeld = row.status === "live" || row.pending !== null || row.source !== null
        return keyHeld
          ? { ...row, duplicateSources }
          : { ...row, duplicateSources, status: "duplicate", reason: event.reason }
      }
      return { ...row, status: statusAfterFailure(row, "duplicate"), pending: null, reason: event.reason }
    }
    case "IndicatorRejected":
      return {
        ...row,
        status: statusAfterFailure(row, "rejected"),
        pending: null,
        reason: `${event.reasonCode}: ${event.reason}`
      }
    case "IndicatorDeferred":
      return { ...row, status: statusAfterFailure(row, "deferred"), pending: null, reason: event.reason }
    case "IndicatorExpired":
      return {
        ...row,
        status: "expired",
        defenderId: null,
        payload: null,
        payloadHash: null,
        pending: null,
        reason: "expired"
      }
    case "IndicatorRevoked":
      return {
        ...row,
        status: "revoked",
        defenderId: null,
        payload: null,
        payloadHash: null,
        action: null,
        expiresAt: null,
        pending: null,
        reason: event.reason
      }
  }
}
