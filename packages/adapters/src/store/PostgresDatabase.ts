import { Deferred, Effect, Layer, Redacted, Runtime, Schedule } from "effect"
import { Kysely, PostgresDialect } from "kysely"
import pg from "pg"
import { EventStoreError } from "@tisync/domain"
import { DatabaseConfigError, parseDatabaseUrl, scrubCredentials } from "./DatabaseUrl.js"
import { migrateToLatest } from "./Migrations.js"
import { SqlDatabase, type AnyTables, type TargetLockAttempt } from "./SqlDatabase.js"

export interface PostgresOptions {
  readonly url: Redacted.Redacted<string>
  readonly poolSize?: number
}

const storeError = (operation: string) => (e: unknown) =>
  new EventStoreError({ operation, reason: scrubCredentials(e instanceof Error ? e.message : String(e)) })

/** Namespaces tisync's advisory locks: (hashtext('tisync-target'), hashtext(target id)). */
const LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('tisync-target'), hashtext($1)) AS taken"
const UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('tisync-target'), hashtext($1))"
/** The holder writes its run id from the session that holds the lock, so readers can tell a live row. */
const RECORD_HOLDER_SQL = `INSERT INTO target_locks (target_id, run_id, backend_pid) VALUES ($1, $2, pg_backend_pid())
  ON CONFLICT (target_id) DO UPDATE SET run_id = excluded.run_id, backend_pid = excluded.backend_pid, acquired_at = now()`
const RELEASE_HOLDER_SQL = "DELETE FROM target_locks WHERE target_id = $1 AND run_id = $2"
/** A holder row counts only while its session still holds an advisory lock (a crashed run's row does not). */
const HOLDER_SQL = `SELECT t.run_id FROM target_locks t WHERE t.target_id = $1 AND EXISTS (
  SELECT 1 FROM pg_locks l WHERE l.pid = t.backend_pid AND l.locktype = 'advisory' AND l.granted)`

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
      // The winner writes its row just after taking the lock: give it a moment before saying "unknown".
      const holderOf = (targetId: string) =>
        Effect.gen(function* () {
          for (let attempt = 0; attempt < 40; attempt++) {
            const result = yield* Effect.tryPromise({
              try: () => pool.query<{ run_id: string }>(HOLDER_SQL, [targetId]),
              catch: storeError("read lock holder")
            })
            const holder = result.rows[0]?.run_id
            if (holder !== undefined) return holder
            yield* Effect.sleep("50 millis")
          }
          return null
        })
      yield* migrateToLatest(db)
      return SqlDatabase.of({
        kind: "postgres",
        db,
        tryTargetLock: (targetId, runId) =>
          Effect.gen(function* () {
            const connect = Effect.tryPromise({ try: () => pool.connect(), catch: storeError("lock target") })
            const takeOn = (client: pg.PoolClient) =>
              Effect.tryPromise({
                try: () => client.query<{ taken: boolean }>(LOCK_SQL, [targetId]),
                catch: storeError("lock target")
              }).pipe(Effect.map((r) => r.rows[0]?.taken === true))
            const recordOn = (client: pg.PoolClient) =>
              Effect.tryPromise({ try: () => client.query(RECORD_HOLDER_SQL, [targetId, runId]), catch: storeError("record lock holder") })

            const first = yield* connect
            const taken = yield* takeOn(first).pipe(Effect.tapError(() => Effect.sync(() => first.release(true))))
            if (!taken) {
              first.release()
              return { taken: false, holderRunId: yield* holderOf(targetId) }
            }
            // The connection holding the lock; null once released or broken.
            let holder: pg.PoolClient | null = first
            // Set when the run is over: a lock taken again after that is given back at once.
            let closed = false
            const lost = yield* Deferred.make<never, EventStoreError>()
            const runtime = yield* Effect.runtime<never>()

            // A checked-out pg client emits 'error' when its session dies (pg_terminate_backend, a server
            // restart): unheard, Node turns it into an uncaught exception that kills the run with no RunFailed.
            // The session's advisory lock died with it: take it again on a new connection, or make the run stop.
            const onError = (e: Error): void => {
              const client = holder
              if (client === null) return
              holder = null
              client.removeListener("error", onError)
              client.release(e)
              Runtime.runFork(runtime)(retake(e.message))
            }
            const watch = (client: pg.PoolClient): void => {
              client.on("error", onError)
            }
            // The pool may still hand out idle connections the same event killed: a few quick attempts.
            const connectAndTake = Effect.gen(function* () {
              const next = yield* connect
              const taken = yield* takeOn(next).pipe(Effect.tapError(() => Effect.sync(() => next.release(true))))
              return { next, taken }
            }).pipe(Effect.retry(Schedule.intersect(Schedule.spaced("200 millis"), Schedule.recurs(5))))
            const retake = (why: string) =>
              Effect.gen(function* () {
                const { next, taken } = yield* connectAndTake
                if (!taken || closed) {
                  next.release()
                  if (closed) return
                  return yield* new EventStoreError({ operation: "hold target lock", reason: "another run took the target" })
                }
                holder = next
                watch(next)
                yield* recordOn(next)
                yield* Effect.logWarning(`the database session holding target ${targetId}'s lock was lost (${scrubCredentials(why)}); the lock was taken again`)
              }).pipe(
                Effect.catchAll((e) =>
                  Deferred.fail(lost, new EventStoreError({
                    operation: "hold target lock",
                    reason: `the database connection holding the target lock was lost (${scrubCredentials(why)}) and the lock could not be taken again: ${e.reason}`
                  }))
                )
              )

            watch(first)
            yield* Effect.addFinalizer(() =>
              Effect.tryPromise(async () => {
                closed = true
                const client = holder
                holder = null
                if (client === null) return
                try {
                  await client.query(RELEASE_HOLDER_SQL, [targetId, runId])
                  await client.query(UNLOCK_SQL, [targetId])
                  client.release()
                } catch (e) {
                  client.release(e instanceof Error ? e : true)
                } finally {
                  client.removeListener("error", onError)
                }
              }).pipe(Effect.ignore)
            )
            yield* recordOn(first)
            const attempt: TargetLockAttempt = { taken: true, lost: Deferred.await(lost) }
            return attempt
          })
      })
    })
  )
