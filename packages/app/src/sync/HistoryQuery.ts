import { Effect } from "effect"
import { compareCheckpoints, EventStore, ProjectionStore, type RecordedEvent, StreamId } from "@tisync/domain"
import { catchUp } from "../projections/ProjectionRunner.js"
import { type EventJson, eventJson } from "./EventJson.js"
import { valueVariants } from "./ManualRevoke.js"

/** `history VALUE --json` (DESIGN §6). */
export interface HistoryReport {
  readonly events: ReadonlyArray<EventJson>
}

/**
 * The audit trail of a value: every event of every key (any target, any type) whose value is VALUE as
 * typed or as an indicator type normalizes it, oldest first (global log order).
 */
export const historyOf = (value: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const projections = yield* ProjectionStore
    yield* catchUp("live")
    const rows = (yield* Effect.forEach(valueVariants(value), (v) => projections.indicators({ value: v }))).flat()
    const streams = [...new Set(rows.map((r) => r.streamId))]
    const recorded: ReadonlyArray<RecordedEvent> = (yield* Effect.forEach(streams, (s) => store.readStream(StreamId.make(s)))).flat()
    const events = [...recorded].sort((a, b) => compareCheckpoints(a.checkpoint, b.checkpoint)).map(eventJson)
    const report: HistoryReport = { events }
    return report
  })
