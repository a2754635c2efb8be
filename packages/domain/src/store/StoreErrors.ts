import { Data } from "effect"

/** The stream moved on since the caller read it: compare-and-set on the stream version failed. */
export class WrongExpectedVersion extends Data.TaggedError("WrongExpectedVersion")<{
  readonly streamId: string
  readonly expected: number
  readonly actual: number
}> {
  override get message(): string {
    return `stream ${this.streamId} is at version ${this.actual}, expected ${this.expected}`
  }
}

/** A stored event that no longer decodes: names where it sits so an operator can look at it. */
export class EventDecodeError extends Data.TaggedError("EventDecodeError")<{
  readonly streamId: string
  readonly version: number
  readonly globalPosition: string
  readonly eventType: string
  readonly reason: string
}> {
  override get message(): string {
    return `event ${this.eventType} at ${this.streamId}@${this.version} (global position ${this.globalPosition}) does not decode: ${this.reason}`
  }
}

/** Any other failure of the store (connection, SQL, migration). The message never carries a password. */
export class EventStoreError extends Data.TaggedError("EventStoreError")<{
  readonly operation: string
  readonly reason: string
}> {
  override get message(): string {
    return `event store ${this.operation} failed: ${this.reason}`
  }
}

/** Another run holds the target (DESIGN §3 "Crash safety"); exit code 3. */
export class TargetLocked extends Data.TaggedError("TargetLocked")<{
  readonly targetId: string
  readonly holderRunId: string | null
}> {
  override get message(): string {
    return this.holderRunId === null
      ? `target ${this.targetId} is held by another run`
      : `target ${this.targetId} is held by run ${this.holderRunId}`
  }
}

/** The embedded store's data directory is used by another live process (exit code 3). */
export class StoreInUse extends Data.TaggedError("StoreInUse")<{
  readonly dataDir: string
  readonly pid: number
}> {
  override get message(): string {
    return `the embedded store at ${this.dataDir} is in use by process ${this.pid}; use PostgreSQL (TISYNC_DATABASE_URL) to run several processes at once`
  }
}

/** The projection checkpoint moved under us: someone else advanced it (compare-and-set failed). */
export class CheckpointConflict extends Data.TaggedError("CheckpointConflict")<{
  readonly projection: string
}> {}
