import { Schema } from "effect"
import { DomainEvent, type RecordedEvent } from "@tisync/domain"

/** One event as `history --json` and `runs show --json` print it (DESIGN §6): type, at, runId, streamId, then its fields. */
export interface EventJson {
  readonly type: string
  readonly at: string
  readonly runId: string | null
  readonly streamId: string
  readonly version: number
  readonly [field: string]: unknown
}

const encode = Schema.encodeSync(DomainEvent)

export const eventJson = (recorded: RecordedEvent): EventJson => {
  const { _tag, at, runId, ...fields } = encode(recorded.event)
  return {
    type: _tag,
    at: at.replace(/\.000Z$/, "Z"),
    runId: runId ?? null,
    streamId: recorded.streamId,
    version: recorded.version,
    ...fields
  }
}
