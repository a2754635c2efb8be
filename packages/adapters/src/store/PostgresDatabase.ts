import { Effect, Layer, Redacted } from "effect"
import { Kysely, PostgresDialect } from "kysely"
import pg from "pg"
import { EventStoreError } from "@tisync/domain"
import { DatabaseConfigError, parseDatabaseUrl, scrubCredentials } from "./DatabaseUrl.js"
import { migrateToLatest } from "./Migrations.js"
import { SqlDatabase, type AnyTables } from "./SqlDatabase.js"

export interface PostgresOptions {
  readonly url: Redacted.Redacted<string>
  readonly poolSize?: number
}

const storeError = (operation: string) => (e: unknown) =>
  new EventStoreError({ operation, reason: scrubCredentials(e instanceof Error ? e.message : String(e)) })

/** Namespaces tisync's advisory locks: (hashtext('tisync-target'), hashtext(target id)). */
const LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('tisync-target'), hashtext($1)) AS taken"
const UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('tisync-target'), hashtext($1))"

export const PostgresDatabaseLive = (
  options: PostgresOptions
): Layer.Layer<SqlDatabase, EventStoreError | DatabaseConfigError> =>
  Layer.scoped(
    SqlDatabase,
    Effect.gen(function* () {
      const url = yield* parseDatabaseUrl(options.url)
      const pool = yield* Effect.acquireRelease(
        Effect.sync(
          () =>
            new pg.Pool({
              connectionString: Redacted.value(url),
              max: options.poolSize ?? 10,
              connectionTimeoutMillis: 10_000,
              application_name: "tisync"
            })
        ),
        (p) => Effect.promise(() => p.end()).pipe(Effect.ignore)
      )
      // A pool error on an idle client (server restart) must not crash the process; queries report it.
      pool.on("error", () => undefined)
      yield* Effect.tryPromise({
        try: async () => {
          const client = await pool.connect()
          client.release()
        },
        catch: (e) =>
          new DatabaseConfigError({
            reason: `cannot connect to TISYNC_DATABASE_URL: ${scrubCredentials(e instanceof Error ? e.message : String(e))}`
          })
      })
      const db = new Kysely<AnyTables>({ dialect: new PostgresDialect({ pool }) })
      yield* migrateToLatest(db)
      return SqlDatabase.of({
        kind: "postgres",
        db,
        tryTargetLock: (targetId) =>
          Effect.gen(function* () {
            const client = yield* Effect.acquireRelease(
              Effect.tryPromise({ try: () => pool.connect(), catch: storeError("lock target") }),
              (c) => Effect.sync(() => c.release())
            )
            const result = yield* Effect.tryPromise({
              try: () => client.query<{ taken: boolean }>(LOCK_SQL, [targetId]),
              catch: storeError("lock target")
            })
            const taken = result.rows[0]?.taken === true
            if (taken) {
              yield* Effect.addFinalizer(() =>
                Effect.promise(() => client.query(UNLOCK_SQL, [targetId])).pipe(Effect.ignore)
              )
            }
            return taken
          })
      })
    })
  )
