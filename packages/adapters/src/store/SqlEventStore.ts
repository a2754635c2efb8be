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
  type KnownEvents,
  type RecordedEvent,
  StreamId,
  TargetLocked,
  WrongExpectedVersion
} from "@tisync/domain"
import { untilLockLost } from "./UntilLockLost.js"
import { decodeInt8 } from "./Int8.js"
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

/**
 * int8/xid8 columns come back as decimal text from both engines (pg and PGlite), so one cheap Schema
 * (a digit string) checks them all. NB: the aliases shadow the column names, so every ORDER BY below
 * names `events.<column>`: an unqualified `ORDER BY transaction_id` would sort by the text alias
 * ("1000" < "999"), use no index, and let a reader skip a transaction whose id has fewer digits.
 */
const EVENT_COLUMNS = sql`global_position::text AS global_position, transaction_id::text AS transaction_id, stream_id,
  version::text AS version, type, schema_version, data, recorded_at`
const HEADER_COLUMNS = sql`global_position::text AS global_position, transaction_id::text AS transaction_id, stream_id,
  version::text AS version, type, schema_version, recorded_at`

/** An int8 written out in decimal: at most 15 digits keeps it a safe JS integer (positions, versions). */
const SafeDigits = Schema.String.pipe(Schema.pattern(/^\d{1,15}$/))
/** An xid8 (64-bit transaction id) in decimal: kept as a string, never a JS number. */
const Xid8Digits = Schema.String.pipe(Schema.pattern(/^\d{1,20}$/))
const decodeSafeDigits = Schema.decodeUnknownEither(SafeDigits)
const decodeXid8Digits = Schema.decodeUnknownEither(Xid8Digits)

const ConflictDetail = Schema.parseJson(
  Schema.Struct({ streamId: Schema.String, expected: Schema.Number, actual: Schema.Number })
)

const rowError = (row: Omit<EventRow, "data">, reason: string) =>
  new EventDecodeError({
    streamId: row.stream_id,
    version: Number(row.version),
    globalPosition: String(row.global_position),
    eventType: row.type,
    reason
  })

/** A row without its event body: where it sits in the log. */
type EventHeaderRow = Omit<EventRow, "data">

interface EventHeader {
  readonly streamId: StreamId
  readonly version: number
  readonly checkpoint: Checkpoint
  readonly recordedAt: Date
}

const decodeHeader = (row: EventHeaderRow): Either.Either<EventHeader, EventDecodeError> => {
  const version = decodeSafeDigits(row.version)
  const position = decodeSafeDigits(row.global_position)
  const transactionId = decodeXid8Digits(row.transaction_id)
  if (Either.isLeft(version) || Either.isLeft(position) || Either.isLeft(transactionId)) {
    return Either.left(rowError(row, "stream version, global position or transaction id is not a decimal int8"))
  }
  return Either.right({
    streamId: StreamId.make(row.stream_id),
    version: Number(version.right),
    checkpoint: { transactionId: transactionId.right, position: position.right },
    recordedAt: row.recorded_at
  })
}

const decodeRow = (row: EventRow): Either.Either<RecordedEvent, EventDecodeError> => {
  const header = decodeHeader(row)
  if (Either.isLeft(header)) return Either.left(header.left)
  const event = decodeStoredEvent(row.type, row.schema_version, row.data)
  if (Either.isLeft(event)) return Either.left(rowError(row, event.left))
  return Either.right({ ...header.right, event: event.right })
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
  const { db, kind, tryTargetLock } = yield* SqlDatabase

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
        for (let i = 0; i < r.events.length; i++) {
          const encoded = encodeEvent(r.events[i]!)
          evStreams.push(r.streamId)
          evVersions.push(r.expectedVersion + i + 1)
          types.push(encoded.type)
          schemaVersions.push(encoded.schemaVersion)
          runIds.push(encoded.runId)
          data.push(encoded.data)
        }
      }
      // The bodies travel as one JSON array rather than a jsonb[] literal: node-postgres escapes every
      // quote of every element of an array parameter, which cost more than the whole insert.
      const bodies = `[${data.join(",")}]`
      yield* Effect.tryPromise({
        try: () =>
          sql`SELECT count(*) AS appended FROM tisync_append(${streamIds}::text[], ${expected}::bigint[], ${counts}::integer[],
                ${evStreams}::text[], ${evVersions}::bigint[], ${types}::text[], ${schemaVersions}::integer[],
                ${runIds}::text[],
                (SELECT array_agg(b.body ORDER BY b.ord) FROM jsonb_array_elements(${bodies}::jsonb) WITH ORDINALITY AS b(body, ord)))`.execute(db),
        catch: (e) => e
      }).pipe(Effect.catchAll((e) => Effect.flatMap(conflictFrom(e, requests), Effect.fail)))
      return requests.map((r) => ({ streamId: r.streamId, nextVersion: r.expectedVersion + r.events.length }))
    })

  // Events of a transaction still running could commit later below a checkpoint already handed out, so
  // readAll stops below the oldest running transaction. The snapshot's xmin counts every database of the
  // cluster, though: one long write transaction anywhere on a shared server hid this database's newest
  // events (a run's report undercounted what it had just submitted). On PostgreSQL the bound is the oldest
  // running transaction not known to belong to another database (a transaction whose database cannot be
  // told, e.g. one that ended meanwhile or a prepared one, still counts: safe), else the snapshot's xmax.
  const visibleBound =
    kind === "postgres"
      ? sql`COALESCE(
          (SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
            WHERE NOT EXISTS (
              SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock'
                AND l.transactionid::text::bigint = x::text::bigint % 4294967296
                AND a.datname IS DISTINCT FROM current_database())),
          pg_snapshot_xmax(pg_current_snapshot()))`
      : sql`pg_snapshot_xmin(pg_current_snapshot())`

  const readAll = (after: Checkpoint | null, limit: number) =>
    Effect.tryPromise({
      try: () =>
        sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM events
          WHERE transaction_id < ${visibleBound}
            AND (transaction_id, global_position) > (${after?.transactionId ?? "0"}::xid8, ${after?.position ?? "0"}::bigint)
          ORDER BY events.transaction_id, events.global_position
          LIMIT ${limit}`.execute(db),
      catch: toStoreError("read all")
    }).pipe(Effect.flatMap((r) => decodeRows(r.rows)))

  // The same rows as readAll, bodies left out: the known ones need none, the others are read by position.
  const readAllKnown = (after: Checkpoint | null, limit: number, known: KnownEvents) =>
    known.size === 0
      ? readAll(after, limit)
      : Effect.tryPromise({
          try: () =>
            sql<EventHeaderRow>`SELECT ${HEADER_COLUMNS} FROM events
              WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                AND (transaction_id, global_position) > (${after?.transactionId ?? "0"}::xid8, ${after?.position ?? "0"}::bigint)
              ORDER BY events.transaction_id, events.global_position
              LIMIT ${limit}`.execute(db),
          catch: toStoreError("read all")
        }).pipe(
          Effect.flatMap((r) => {
            const out: Array<RecordedEvent | undefined> = new Array(r.rows.length)
            const missing = new Map<string, number>()
            for (let i = 0; i < r.rows.length; i++) {
              const row = r.rows[i]!
              const header = decodeHeader(row)
              if (Either.isLeft(header)) return Effect.fail(header.left)
              const event = known.get(header.right.streamId, header.right.version)
              if (event !== undefined && event._tag === row.type) out[i] = { ...header.right, event }
              else missing.set(header.right.checkpoint.position, i)
            }
            if (missing.size === 0) return Effect.succeed(out.flatMap((e) => (e === undefined ? [] : [e])))
            return Effect.tryPromise({
              try: () =>
                sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM events
                  WHERE global_position = ANY(${[...missing.keys()]}::bigint[])`.execute(db),
              catch: toStoreError("read all")
            }).pipe(
              Effect.flatMap((full) => decodeRows(full.rows)),
              Effect.flatMap((decoded) => {
                for (const e of decoded) {
                  const i = missing.get(e.checkpoint.position)
                  if (i !== undefined) out[i] = e
                }
                const events = out.flatMap((e) => (e === undefined ? [] : [e]))
                return events.length === out.length
                  ? Effect.succeed(events)
                  : Effect.fail(new EventStoreError({ operation: "read all", reason: "an event row vanished between two reads" }))
              })
            )
          })
        )

  const readStream = (streamId: StreamId) =>
    Effect.tryPromise({
      try: () => sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ${streamId} ORDER BY events.version`.execute(db),
      catch: toStoreError("read stream")
    }).pipe(Effect.flatMap((r) => decodeRows(r.rows)))

  const readByRun = (runId: string) =>
    Effect.tryPromise({
      try: () =>
        sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = ${runId}
          ORDER BY events.transaction_id, events.global_position`.execute(db),
      catch: toStoreError("read run")
    }).pipe(Effect.flatMap((r) => decodeRows(r.rows)))

  const withTargetLock = <A, E, R>(targetId: string, runId: string, use: Effect.Effect<A, E, R>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const attempt = yield* tryTargetLock(targetId, runId)
        if (!attempt.taken) return yield* Effect.fail(new TargetLocked({ targetId, holderRunId: attempt.holderRunId }))
        // A run that lost its lock must stop: another run may hold the target now.
        return yield* untilLockLost(use, attempt.lost)
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
    readAllKnown,
    readByRun,
    withTargetLock
  })
})

export const SqlEventStoreLive: Layer.Layer<EventStore, never, SqlDatabase> = Layer.effect(EventStore, makeSqlEventStore)
