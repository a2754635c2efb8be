import type { DomainEvent } from "../Events.js"

/**
 * Events a process appended itself, by `(stream, version)`: a run folds them into the projections as
 * they are instead of reading their rows back and decoding them (EventStore.readAllKnown). Only an
 * append that succeeded is recorded, so the stored event at that `(stream, version)` is this one.
 */
export class KnownEvents {
  private readonly byStream = new Map<string, Map<number, DomainEvent>>()
  private count = 0

  /** `events` were appended to `streamId` after `expectedVersion` (the first one is version expectedVersion + 1). */
  add(streamId: string, expectedVersion: number, events: ReadonlyArray<DomainEvent>): void {
    let versions = this.byStream.get(streamId)
    if (versions === undefined) {
      versions = new Map()
      this.byStream.set(streamId, versions)
    }
    events.forEach((event, i) => {
      if (!versions.has(expectedVersion + i + 1)) this.count++
      versions.set(expectedVersion + i + 1, event)
    })
  }

  get(streamId: string, version: number): DomainEvent | undefined {
    return this.byStream.get(streamId)?.get(version)
  }

  /** Forgets the events once folded (the caller reads each event of the log once). */
  forget(streamId: string, version: number): void {
    const versions = this.byStream.get(streamId)
    if (versions?.delete(version) === true) {
      this.count--
      if (versions.size === 0) this.byStream.delete(streamId)
    }
  }

  get size(): number {
    return this.count
  }
}
