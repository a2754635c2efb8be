import { Effect } from "effect"
import { EventStore, ProjectionStore, type RunSummaryRow } from "@tisync/domain"
import { catchUp } from "../projections/ProjectionRunner.js"
import { type EventJson, eventJson } from "./EventJson.js"
import { RunNotFound } from "./SyncErrors.js"

/** `runs --json`: newest first. */
export interface RunsReport {
  readonly runs: ReadonlyArray<RunSummaryRow>
}

/** `runs show RUN_ID --json`: the run's summary (counts, API calls, quota, watermark, error) and its events. */
export interface RunShowReport {
  readonly run: RunSummaryRow
  readonly events: ReadonlyArray<EventJson>
}

export const runsList = (limit: number, targetId?: string) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    yield* catchUp("live")
    const runs = yield* projections.runs(targetId === undefined ? { limit } : { targetId, limit })
    const report: RunsReport = { runs }
    return report
  })

export const runShow = (runId: string) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const store = yield* EventStore
    yield* catchUp("live")
    const [run] = yield* projections.runs({ runId, limit: 1 })
    if (run === undefined) return yield* new RunNotFound({ runId })
    const events = (yield* store.readByRun(runId)).map(eventJson)
    const report: RunShowReport = { run, events }
    return report
  })
