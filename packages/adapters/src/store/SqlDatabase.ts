import { Context, type Effect, type Scope } from "effect"
import type { Kysely } from "kysely"
import type { EventStoreError } from "@tisync/domain"

export type TargetLockAttempt =
  | {
    readonly taken: true
    /** Fails if the lock is lost while held (its PostgreSQL session died and could not take it again). */
    readonly lost: Effect.Effect<never, EventStoreError>
  }
  | { readonly taken: false; readonly holderRunId: string | null }

/** Tables are queried with raw SQL through Kysely's `sql` tag; the database type stays open. */
export type AnyTables = Record<string, Record<string, unknown>>

/**
 * One SQL implementation, two engines: PostgreSQL (pg) and the embedded PGlite. Both speak the same SQL
 * and run the same migrations; they differ only in how sessions and locks are held.
 */
export class SqlDatabase extends Context.Tag("@tisync/adapters/SqlDatabase")<
  SqlDatabase,
  {
    readonly kind: "postgres" | "pglite"
    readonly db: Kysely<AnyTables>
    /**
     * Tries the per-target lock for the lifetime of the scope and records `runId` as its holder. On
     * PostgreSQL it is a session advisory lock on a dedicated connection, released on close or when the
     * process dies. When the lock is held elsewhere, returns the holder's run id (null if unknown).
     */
    readonly tryTargetLock: (
      targetId: string,
      runId: string
    ) => Effect.Effect<TargetLockAttempt, EventStoreError, Scope.Scope>
  }
>() {}
