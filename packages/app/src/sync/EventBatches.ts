import { Effect } from "effect"
import type { DomainEvent, EventStore, KnownEvents, StreamId } from "@tisync/domain"

/** Streams per `appendMany`: one transaction per batch of 500 keys, never one round trip per key. */
export const APPEND_CHUNK = 500

export const chunksOf = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export interface PendingAppend {
  readonly streamId: StreamId
  /** The version the caller read; used the first time this writer touches the stream. */
  readonly expectedVersion: number
  readonly events: ReadonlyArray<DomainEvent>
}

/**
 * Appends events of many streams in chunks, remembering each stream's version after every append so a
 * run can write a stream several times (intent, then outcome) without reading it back. Appends of the
 * same stream within one call are merged in order (one stream appears once per `appendMany`). What was
 * appended goes into `known` too, so the run's catch-up folds it without reading it back.
 */
export const makeEventWriter = (store: EventStore["Type"], known?: KnownEvents) => {
  const versions = new Map<string, number>()
  const write = (appends: ReadonlyArray<PendingAppend>) =>
    Effect.suspend(() => {
      const merged = new Map<string, { streamId: StreamId; expectedVersion: number; events: Array<DomainEvent> }>()
      for (const a of appends) {
        if (a.events.length === 0) continue
        const known = merged.get(a.streamId)
        if (known !== undefined) known.events.push(...a.events)
        else merged.set(a.streamId, { streamId: a.streamId, expectedVersion: versions.get(a.streamId) ?? a.expectedVersion, events: [...a.events] })
      }
      return Effect.forEach(
        chunksOf([...merged.values()], APPEND_CHUNK),
        (chunk) =>
          store.appendMany(chunk).pipe(
            Effect.tap((results) =>
              Effect.sync(() => {
                for (const r of results) versions.set(r.streamId, r.nextVersion)
                if (known !== undefined) for (const a of chunk) known.add(a.streamId, a.expectedVersion, a.events)
              })
            )
          ),
        // Two appends in flight: one chunk is encoded while the previous one is in Postgres (the chunks
        // hold distinct streams, so their order in the log carries no meaning). A failed chunk fails the
        // write as before; a chunk already committed beside it is what a crash at that point would leave.
        { discard: true, concurrency: 2 }
      )
    })
  return { write, versionOf: (streamId: string): number | undefined => versions.get(streamId) }
}
export type EventWriter = ReturnType<typeof makeEventWriter>
