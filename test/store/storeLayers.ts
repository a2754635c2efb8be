import { Effect, Layer, Redacted } from "effect"
import { sql } from "kysely"
import {
  emptyMemoryEventLog,
  emptyMemoryProjectionState,
  MemoryEventStoreLive,
  MemoryProjectionStoreLive,
  type MemoryEventLog,
  type MemoryProjectionState,
  PgliteStoreLive,
  PostgresStoreLive,
  SqlDatabase
} from "@tisync/adapters"
import type { StreamId } from "@tisync/domain"
import { pgliteDataDir } from "../support/pglite.js"
import { freshPostgresDatabase } from "../support/postgres.js"
import type { StoreHarness } from "./EventStoreSuite.js"

export const memoryStore = () => {
  const log: MemoryEventLog = emptyMemoryEventLog()
  const projections: MemoryProjectionState = emptyMemoryProjectionState()
  const layer = Layer.merge(MemoryEventStoreLive(log), MemoryProjectionStoreLive(projections))
  const harness: StoreHarness<never> = {
    corrupt: (streamId: StreamId, version: number) =>
      Effect.sync(() => {
        log.rows.push({
          streamId,
          version,
          checkpoint: { transactionId: String(++log.transactionId), position: String(log.rows.length + 1) },
          recordedAt: new Date(),
          type: "IndicatorSelected",
          schemaVersion: 1,
          runId: null,
          data: JSON.stringify({ key: 42 })
        })
      }),
    insertAtTransaction: null,
    mutateEvents: null
  }
  return { layer, harness, log, projections }
}

const sqlHarness: StoreHarness<SqlDatabase> = {
  corrupt: (streamId, version) =>
    Effect.flatMap(SqlDatabase, ({ db }) =>
      Effect.promise(() =>
        sql`INSERT INTO events (stream_id, version, type, schema_version, data)
            VALUES (${streamId}, ${version}, 'IndicatorSelected', 1, '{"key": 42}'::jsonb)`.execute(db)
      )
    ),
  insertAtTransaction: (streamId, transactionId, data) =>
    Effect.flatMap(SqlDatabase, ({ db }) =>
      Effect.promise(() =>
        sql`INSERT INTO events (stream_id, version, type, schema_version, data, transaction_id)
            VALUES (${streamId}, 1, 'IndicatorSelected', 1, ${data}::jsonb, ${transactionId}::xid8)`.execute(db)
      )
    ),
  mutateEvents: Effect.flatMap(SqlDatabase, ({ db }) =>
    Effect.forEach(
      [sql`UPDATE events SET type = type`, sql`DELETE FROM events`, sql`TRUNCATE events`],
      (statement) =>
        Effect.promise(() =>
          statement.execute(db).then(
            () => null,
            (e: unknown) => (e instanceof Error ? e.message : String(e))
          )
        )
    )
  )
}

export const pgliteStore = () => ({ layer: PgliteStoreLive(pgliteDataDir()), harness: sqlHarness })

/** The store on a fresh PostgreSQL database, dropped when the layer is released. */
export const postgresStore = () => ({
  layer: Layer.unwrapScoped(
    Effect.acquireRelease(
      Effect.promise(() => freshPostgresDatabase()),
      (db) => Effect.promise(() => db.drop())
    ).pipe(Effect.map((db) => PostgresStoreLive(Redacted.make(db.url))))
  ),
  harness: sqlHarness
})
