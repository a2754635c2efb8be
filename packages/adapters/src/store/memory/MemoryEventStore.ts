import { Effect, Either, Layer } from "effect"
import {
  type AppendRequest,
  type AppendResult,
  type Checkpoint,
  compareCheckpoints,
  decodeStoredEvent,
  encodeEvent,
  EventDecodeError,
  EventStore,
  EventStoreError,
  type RecordedEvent,
  type StreamId,
  TargetLocked,
  WrongExpectedVersion
} from "@tisync/domain"

/** A stored row of the fake: encoded like the SQL table, decoded on read. */
export interface MemoryEventRow {
  readonly streamId: StreamId
  readonly version: number
  readonly checkpoint: Checkpoint
  readonly recordedAt: Date
  readonly type: string
  readonly schemaVersion: number
  readonly runId: string | null
  data: string
}

/** The fake's state, exposed so tests can corrupt a row the way a bad migration would. */
export interface MemoryEventLog {
  readonly rows: Array<MemoryEventRow>
  readonly versions: Map<string, number>
  readonly locks: Map<string, string>
  transactionId: bigint
}

const decode = (row: MemoryEventRow): Either.Either<RecordedEvent, EventDecodeError> =>
  decodeStoredEvent(row.type, row.schemaVersion, row.data).pipe(
    Either.mapLeft(
      (reason) =>
        new EventDecodeError({
          streamId: row.streamId,
          version: row.version,
          globalPosition: row.checkpoint.position,
          eventType: row.type,
          reason
        })
    ),
    Either.map((event) => ({
      streamId: row.streamId,
      version: row.version,
      checkpoint: row.checkpoint,
      recordedAt: row.recordedAt,
      event
    }))
  )

const decodeAll = (rows: ReadonlyArray<MemoryEventRow>) => Effect.forEach(rows, (row) => decode(row))

/** In-memory EventStore with the same semantics as the SQL one (one transaction id per append). */
export const makeMemoryEventStore = (log: MemoryEventLog) => {
  const appendMany = (
    requests: ReadonlyArray<AppendRequest>
  ): Effect.Effect<ReadonlyArray<AppendResult>, WrongExpectedVersion | EventStoreError> =>
    Effect.suspend((): Effect.Effect<ReadonlyArray<AppendResult>, WrongExpectedVersion | EventStoreError> => {
      if (requests.length === 0) return Effect.succeed([])
      const seen = new Set<string>()
      for (const r of requests) {
        if (seen.has(r.streamId) || r.events.length === 0 || !Number.isSafeInteger(r.expectedVersion) || r.expectedVersion < 0) {
          return Effect.fail(new EventStoreError({ operation: "append", reason: `bad append request for ${r.streamId}` }))
        }
        seen.add(r.streamId)
        const actual = log.versions.get(r.streamId) ?? 0
        if (actual !== r.expectedVersion) {
          return Effect.fail(new WrongExpectedVersion({ streamId: r.streamId, expected: r.expectedVersion, actual }))
        }
      }
      log.transactionId += 1n
      const transactionId = log.transactionId.toString()
      const recordedAt = new Date()
      for (const r of requests) {
        r.events.forEach((event, i) => {
          const encoded = encodeEvent(event)
          log.rows.push({
            streamId: r.streamId,
            version: r.expectedVersion + i + 1,
            checkpoint: { transactionId, position: String(log.rows.length + 1) },
            recordedAt,
            type: encoded.type,
            schemaVersion: encoded.schemaVersion,
            runId: encoded.runId,
            data: encoded.data
          })
        })
        log.versions.set(r.streamId, r.expectedVersion + r.events.length)
      }
      return Effect.succeed(requests.map((r) => ({ streamId: r.streamId, nextVersion: r.expectedVersion + r.events.length })))
    })

  return EventStore.of({
    append: (request) =>
      appendMany([request]).pipe(
        Effect.map((results) => results[0] ?? { streamId: request.streamId, nextVersion: request.expectedVersion })
      ),
    appendMany,
    readStream: (streamId) => decodeAll(log.rows.filter((r) => r.streamId === streamId)),
    streamVersion: (streamId) => Effect.sync(() => log.versions.get(streamId) ?? 0),
    readAll: (after, limit) =>
      Effect.suspend(() => {
        const start = after === null ? 0 : log.rows.findIndex((r) => compareCheckpoints(r.checkpoint, after) > 0)
        return decodeAll(start < 0 ? [] : log.rows.slice(start, start + limit))
      }),
    // The fake decodes every row anyway; a known event replaces its decoded twin, as the SQL store would.
    readAllKnown: (after, limit, known) =>
      Effect.suspend(() => {
        const start = after === null ? 0 : log.rows.findIndex((r) => compareCheckpoints(r.checkpoint, after) > 0)
        return decodeAll(start < 0 ? [] : log.rows.slice(start, start + limit))
      }).pipe(
        Effect.map((events) =>
          events.map((e) => {
            const event = known.get(e.streamId, e.version)
            return event !== undefined && event._tag === e.event._tag ? { ...e, event } : e
          })
        )
      ),
    readByRun: (runId) => decodeAll(log.rows.filter((r) => r.runId === runId)),
    withTargetLock: (targetId, runId, use) =>
      Effect.acquireUseRelease(
        Effect.suspend(() => {
          const holder = log.locks.get(targetId)
          if (holder !== undefined) return Effect.fail(new TargetLocked({ targetId, holderRunId: holder }))
          log.locks.set(targetId, runId)
          return Effect.void
        }),
        () => use,
        () => Effect.sync(() => log.locks.delete(targetId))
      )
  })
}

export const emptyMemoryEventLog = (): MemoryEventLog => ({
  rows: [],
  versions: new Map(),
  locks: new Map(),
  transactionId: 0n
})

export const MemoryEventStoreLive = (log: MemoryEventLog = emptyMemoryEventLog()): Layer.Layer<EventStore> =>
  Layer.sync(EventStore, () => makeMemoryEventStore(log))
