import * as path from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { Effect, Layer } from "effect"
import { Kysely } from "kysely"
import { PGliteDialect } from "kysely-pglite-dialect"
import { EventStoreError, type StoreInUse } from "@tisync/domain"
import { acquireDataDirLock } from "./DataDirLock.js"
import { migrateToLatest } from "./Migrations.js"
import { SqlDatabase, type AnyTables, type TargetLockAttempt } from "./SqlDatabase.js"

export interface PgliteOptions {
  /** Directory holding `pgdata/` and the process lock; `memory://` for a throwaway in-memory store. */
  readonly dataDir: string
}

/**
 * The embedded store: real PostgreSQL compiled to WASM, same SQL and migrations as the server. It has a
 * single session, so target locks are held in-process (a second process is kept out by the lock file).
 */
export const PgliteDatabaseLive = (options: PgliteOptions): Layer.Layer<SqlDatabase, EventStoreError | StoreInUse> =>
  Layer.scoped(
    SqlDatabase,
    Effect.gen(function* () {
      const inMemory = options.dataDir.startsWith("memory://")
      if (!inMemory) yield* acquireDataDirLock(options.dataDir)
      const location = inMemory ? "memory://" : path.join(options.dataDir, "pgdata")
      const pglite = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () => PGlite.create(location),
          catch: (e) => new EventStoreError({ operation: "open embedded store", reason: String(e) })
        }),
        (db) => Effect.promise(() => db.close()).pipe(Effect.ignore)
      )
      const db = new Kysely<AnyTables>({ dialect: new PGliteDialect(pglite) })
      yield* migrateToLatest(db)
      const held = new Map<string, string>()
      return SqlDatabase.of({
        kind: "pglite",
        db,
        tryTargetLock: (targetId, runId) =>
          Effect.acquireRelease(
            Effect.sync((): TargetLockAttempt => {
              const holder = held.get(targetId)
              if (holder !== undefined) return { taken: false, holderRunId: holder }
              held.set(targetId, runId)
              return { taken: true, lost: Effect.never }
            }),
            (attempt) => Effect.sync(() => (attempt.taken ? held.delete(targetId) : undefined))
          )
      })
    })
  )
