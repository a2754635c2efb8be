import { Effect, Either, Layer, Schema } from "effect"
import { sql } from "kysely"
import {
  type AppendRequest,
  type AppendResult,
  type Checkpoint,
  decodeStoredEvent,
  encodeEvent,
  EventDecodeError,
  EventStore,
  EventStoreError,
  type RecordedEvent,
  StreamId,
  TargetLocked,
  WrongExpectedVersion
} from "@tisync/domain"
import { decodeInt8, decodeInt8String } from "./Int8.js"
import { sqlState, toStoreError } from "./SqlErrors.js"
import { SqlDatabase } from "./SqlDatabase.js"

interface EventRow {
  readonly global_position: unknown
  readonly transaction_id: unknown
  readonly stream_id: string
  readonly version: unknown
  readonly type: string
  readonly schema_version: number
  readonly data: unknown
  readonly recorded_at: Date
}

const EVENT_COLUMNS = sql`global_position, transaction_id::text AS transaction_id, stream_id, version, type, schema_version, data, recorded_at`

const ConflictDetail = Schema.parseJson(
  Schema.Struct({ streamId: Schema.String, expected: Schema.Number, actual: Schema.Number })
)

const decodeRow = (row: EventRow): Either.Either<RecordedEvent, EventDecodeError> => {
  const version = decodeInt8(row.version)
  const position = decodeInt8String(row.global_position)
  return decodeStoredEvent(row.type, row.schema_version, row.data).pipe(
    Either.mapLeft(
      (reason) =>
        new EventDecodeError({
          streamId: row.stream_id,
          version,
          globalPosition: position,
          eventType: row.type,
          reason
        })
    ),
    Either.map((event) => ({
      streamId: StreamId.make(row.stream_id),
      version,
      checkpoint: { transactionId: decodeInt8String(row.transaction_id), position },
      recordedAt: row.recorded_at,
      event
    }))
  )
}

const decodeRows = (rows: ReadonlyArray<EventRow>): Effect.Effect<ReadonlyArray<RecordedEvent>, EventDecodeError> =>
  Effect.suspend(() => {
    const out: Array<RecordedEvent> = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const decoded = decodeRow(rows[i]!)
      if (Either.isLeft(decoded)) return Effect.fail(decoded.left)
      out[i] = decoded.right
    }
    return Effect.succeed(out)
  })

const validate = (requests: ReadonlyArray<AppendRequest>): Either.Either<void, EventStoreError> => {
  const seen = new Set<string>()
  for (const r of requests) {
    if (seen.has(r.streamId)) {
      return Either.left(new EventStoreError({ operation: "append", reason: `stream ${r.streamId} appears twice in one append` }))
    }
    seen.add(r.streamId)
    if (!Number.isSafeInteger(r.expectedVersion) || r.expectedVersion < 0) {
      return Either.left(new EventStoreError({ operation: "append", reason: `bad expected version ${r.expectedVersion}` }))
    }
    if (r.events.length === 0) {
      return Either.left(new EventStoreError({ operation: "append", reason: `no events for ${r.streamId}` }))
    }
  }
  return Either.void
}

export const makeSqlEventStore = Effect.gen(function* () {
  const { db, tryTargetLock } = yield* SqlDatabase

  const streamVersion = (streamId: StreamId) =>
    Effect.tryPromise({
      try: () => sql<{ version: unknown }>`SELECT version FROM streams WHERE stream_id = ${streamId}`.execute(db),
      catch: toStoreError("read stream version")
    }).pipe(Effect.map((r) => (r.rows[0] === undefined ? 0 : decodeInt8(r.rows[0].version))))

  const conflictFrom = (e: unknown, requests: ReadonlyArray<AppendRequest>) =>
    Effect.gen(function* () {
      const { code, detail } = sqlState(e)
      if (code === "TSV01" && detail !== null) {
        const parsed = Schema.decodeUnknownEither(ConflictDetail)(detail)
        if (Either.isRight(parsed)) return new WrongExpectedVersion(parsed.right)
      }
      if (code === "23505") {
        // Two writers created the same new stream at once: report the version that won.
        for (const r of requests) {
          const actual = yield* streamVersion(r.streamId)
          if (actual !== r.expectedVersion) {
            return new WrongExpectedVersion({ streamId: r.streamId, expected: r.expectedVersion, actual })
          }
        }
      }
      return toStoreError("append")(e)
    })

  const appendMany = (
    requests: ReadonlyArray<AppendRequest>
  ): Effect.Effect<ReadonlyArray<AppendResult>, WrongExpectedVersion | EventStoreError> =>
    Effect.gen(function* () {
      if (requests.length === 0) return []
      yield* validate(requests)
      const streamIds: Array<string> = []
      const expected: Array<number> = []
      const counts: Array<number> = []
      const evStreams: Array<string> = []
      const evVersions: Array<number> = []
      const types: Array<string> = []
      const schemaVersions: Array<number> = []
      const runIds: Array<string | null> = []
      const data: Array<string> = []
      for (const r of requests) {
        streamIds.push(r.streamId)
        expected.push(r.expectedVersion)
        counts.push(r.events.length)
        r.events.forEach((event, i) => {
          const encoded = encodeEvent(event)
          evStreams.push(r.streamId)
          evVersions.push(r.expectedVersion + i + 1)
          types.push(encoded.type)
          schemaVersions.push(encoded.schemaVersion)
          runIds.push(encoded.runId)
          data.push(encoded.data)
        })
      }
      yield* Effect.tryPromise({
        try: () =>
          sql`SELECT global_position FROM tisync_append(${streamIds}::text[], ${expected}::bigint[], ${counts}::integer[],
                ${evStreams}::text[], ${evVersions}::bigint[], ${types}::text[], ${schemaVersions}::integer[],
                ${runIds}::text[], ${data}::jsonb[])`.execute(db),
        catch: (e) => e
      }).pipe(Effect.catchAll((e) => Effect.flatMap(conflictFrom(e, requests), Effect.fail)))
      return requests.map((r) => ({ streamId: r.streamId, nextVersion: r.expectedVersion + r.events.length }))
    })

  const readAll = (after: Checkpoint | null, limit: number) =>
    Effect.tryPromise({
      try: () =>
        sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM events
          WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            AND (transaction_id, global_position) > (${after?.transactionId ?? "0"}::xid8, ${after?.position ?? "0"}::bigint)
          ORDER BY transaction_id, global_position
          LIMIT ${limit}`.execute(db),
      catch: toStoreError("read all")
    }).pipe(Effect.flatMap((r) => decodeRows(r.rows)))

  const readStream = (streamId: StreamId) =>
    Effect.tryPromise({
      try: () => sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ${streamId} ORDER BY version`.execute(db),
      catch: toStoreError("read stream")
    }).pipe(Effect.flatMap((r) => decodeRows(r.rows)))

  const readByRun = (runId: string) =>
    Effect.tryPromise({
      try: () =>
        sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = ${runId}
          ORDER BY transaction_id, global_position`.execute(db),
      catch: toStoreError("read run")
    }).pipe(Effect.flatMap((r) => decodeRows(r.rows)))

  const withTargetLock = <A, E, R>(targetId: string, runId: string, use: Effect.Effect<A, E, R>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const attempt = yield* tryTargetLock(targetId, runId)
        if (!attempt.taken) return yield* Effect.fail(new TargetLocked({ targetId, holderRunId: attempt.holderRunId }))
        return yield* use
      })
    )

  return EventStore.of({
    append: (request) =>
      appendMany([request]).pipe(
        Effect.map((results) => results[0] ?? { streamId: request.streamId, nextVersion: request.expectedVersion })
      ),
    appendMany,
    readStream,
    streamVersion,
    readAll,
    readByRun,
    withTargetLock
  })
})

export const SqlEventStoreLive: Layer.Layer<EventStore, never, SqlDatabase> = Layer.effect(EventStore, makeSqlEventStore)
