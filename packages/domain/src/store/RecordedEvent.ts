import type { DomainEvent } from "../Events.js"
import type { StreamId } from "../Identifiers.js"
import type { Checkpoint } from "./Checkpoint.js"

/** An event as read back from the log, with where it sits. */
export interface RecordedEvent {
  readonly streamId: StreamId
  /** 1-based position in its stream. */
  readonly version: number
  readonly checkpoint: Checkpoint
  readonly recordedAt: Date
  readonly event: DomainEvent
}

/** One stream's part of an append: the events go in only if the stream is at `expectedVersion` (0 = new). */
export interface AppendRequest {
  readonly streamId: StreamId
  readonly expectedVersion: number
  readonly events: ReadonlyArray<DomainEvent>
}

export interface AppendResult {
  readonly streamId: StreamId
  readonly nextVersion: number
}
