import { Context, type Effect } from "effect"
import type { StreamId, TargetId } from "../Identifiers.js"
import type { Checkpoint } from "./Checkpoint.js"
import type { KnownEvents } from "./KnownEvents.js"
import type { AppendRequest, AppendResult, RecordedEvent } from "./RecordedEvent.js"
import type { EventDecodeError, EventStoreError, TargetLocked, WrongExpectedVersion } from "./StoreErrors.js"

/**
 * The append-only event log (DESIGN §4). Every append is a compare-and-set on stream versions, checked
 * before any global position is drawn; a multi-stream append is all or nothing.
 */
export class EventStore extends Context.Tag("@tisync/domain/EventStore")<
  EventStore,
  {
    readonly append: (
      request: AppendRequest
    ) => Effect.Effect<AppendResult, WrongExpectedVersion | EventStoreError>
    /** Appends to several streams in one transaction; fails whole on the first stale version. */
    readonly appendMany: (
      requests: ReadonlyArray<AppendRequest>
    ) => Effect.Effect<ReadonlyArray<AppendResult>, WrongExpectedVersion | EventStoreError>
    readonly readStream: (
      streamId: StreamId
    ) => Effect.Effect<ReadonlyArray<RecordedEvent>, EventDecodeError | EventStoreError>
    /** Current version of a stream, 0 when it does not exist. */
    readonly streamVersion: (streamId: StreamId) => Effect.Effect<number, EventStoreError>
    /**
     * Up to `limit` events after `after` (exclusive; null = from the start) in global order. Only events
     * of transactions older than every running one are returned, so a concurrent late commit is never skipped.
     */
    readonly readAll: (
      after: Checkpoint | null,
      limit: number
    ) => Effect.Effect<ReadonlyArray<RecordedEvent>, EventDecodeError | EventStoreError>
    /**
     * `readAll` for a caller that holds some of these events already (a run catching up on what it
     * appended): those are taken from `known`, only the other rows are read in full and decoded.
     */
    readonly readAllKnown: (
      after: Checkpoint | null,
      limit: number,
      known: KnownEvents
    ) => Effect.Effect<ReadonlyArray<RecordedEvent>, EventDecodeError | EventStoreError>
    /** Every event whose payload names `runId`, oldest first (audit: `runs show`). */
    readonly readByRun: (
      runId: string
    ) => Effect.Effect<ReadonlyArray<RecordedEvent>, EventDecodeError | EventStoreError>
    /**
     * Runs `use` while holding the per-target lock; fails with TargetLocked (naming the holder's run id)
     * at once if another run holds it.
     */
    readonly withTargetLock: <A, E, R>(
      targetId: TargetId,
      runId: string,
      use: Effect.Effect<A, E, R>
    ) => Effect.Effect<A, E | TargetLocked | EventStoreError, R>
  }
>() {}
