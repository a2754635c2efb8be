import { DateTime } from "effect"
import type { RunEvent } from "../Events.js"
import type { LastRunRow, RunSummaryRow } from "./ProjectionRows.js"

const iso = (t: DateTime.Utc): string => DateTime.formatIso(t)

/** Last run per target; the watermark only moves with a completed run. */
export const evolveLastRun = (previous: LastRunRow | undefined, event: RunEvent): LastRunRow => {
  switch (event._tag) {
    case "RunStarted":
      return {
        targetId: event.targetId,
        runId: event.runId,
        status: "running",
        startedAt: iso(event.at),
        completedAt: null,
        watermark: previous?.watermark ?? null
      }
    case "RunCompleted":
      return {
        targetId: event.targetId,
        runId: event.runId,
        status: "completed",
        startedAt: previous?.runId === event.runId ? previous.startedAt : iso(event.at),
        completedAt: iso(event.at),
        watermark: event.watermark === null ? (previous?.watermark ?? null) : iso(event.watermark)
      }
    case "RunFailed":
      return {
        targetId: event.targetId,
        runId: event.runId,
        status: "failed",
        startedAt: previous?.runId === event.runId ? previous.startedAt : iso(event.at),
        completedAt: iso(event.at),
        watermark: previous?.watermark ?? null
      }
  }
}

const emptySummary = (event: RunEvent): RunSummaryRow => ({
  runId: event.runId,
  targetId: event.targetId,
  mode: "incremental",
  since: null,
  policyHash: "",
  status: "running",
  startedAt: iso(event.at),
  finishedAt: null,
  counts: null,
  apiCalls: null,
  quota: null,
  watermark: null,
  error: null,
  notes: [],
  indicatorEvents: 0
})

/** One row per run: what `runs` and `runs show` print. */
export const evolveRunSummary = (previous: RunSummaryRow | undefined, event: RunEvent): RunSummaryRow => {
  const row = previous ?? emptySummary(event)
  switch (event._tag) {
    case "RunStarted":
      return {
        ...row,
        mode: event.mode,
        since: event.since === null ? null : iso(event.since),
        policyHash: event.policyHash,
        startedAt: iso(event.at)
      }
    case "RunCompleted":
      return {
        ...row,
        status: "completed",
        finishedAt: iso(event.at),
        counts: event.counts,
        apiCalls: event.apiCalls,
        quota: event.quota,
        watermark: event.watermark === null ? null : iso(event.watermark),
        notes: event.notes
      }
    case "RunFailed":
      return {
        ...row,
        status: "failed",
        finishedAt: iso(event.at),
        counts: event.counts,
        apiCalls: event.apiCalls,
        error: event.error
      }
  }
}

/** Counts an indicator event against the run that wrote it. */
export const countIndicatorEvent = (row: RunSummaryRow): RunSummaryRow => ({
  ...row,
  indicatorEvents: row.indicatorEvents + 1
})
