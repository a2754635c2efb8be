import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { PostgresStoreLive } from "@tisync/adapters"
import { EventStore, StreamId } from "@tisync/domain"
import { freshPostgresDatabase, postgresAvailable, TEST_DATABASE_URL } from "../support/postgres.js"
import { ipKey, selected } from "../support/sampleEvents.js"

/** A session with an open write transaction (an xid assigned), closed with the scope. */
const openWriteTransaction = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query("BEGIN")
      await client.query("SELECT pg_current_xact_id()")
      return client
    }),
    (client) => Effect.promise(() => client.end())
  )

/**
 * readAll holds back events a running transaction could still precede, but only transactions that can
 * write this database's events count (found by the fault matrix: another database's long transaction on
 * a shared server hid a run's own last events from its report).
 */
describe.runIf(postgresAvailable)("EventStore.readAll visibility (postgres)", () => {
  it.live("a write transaction open in another database does not hide this database's events", () =>
    Effect.gen(function* () {
      const db = yield* Effect.acquireRelease(Effect.promise(() => freshPostgresDatabase()), (d) => Effect.promise(() => d.drop()))
      const store = Context.get(yield* Layer.build(PostgresStoreLive(Redacted.make(db.url))), EventStore)
      yield* openWriteTransaction(TEST_DATABASE_URL ?? "")
      yield* store.append({ streamId: StreamId.make("visible"), expectedVersion: 0, events: [selected(ipKey("203.0.113.60"), null)] })
      const all = yield* store.readAll(null, 100)
      expect(all.map((e) => e.streamId)).toEqual(["visible"])
    }).pipe(Effect.scoped)
  )

  it.live("a write transaction open in this database still holds back the events committed after it began", () =>
    Effect.gen(function* () {
      const db = yield* Effect.acquireRelease(Effect.promise(() => freshPostgresDatabase()), (d) => Effect.promise(() => d.drop()))
      const store = Context.get(yield* Layer.build(PostgresStoreLive(Redacted.make(db.url))), EventStore)
      yield* store.append({ streamId: StreamId.make("before"), expectedVersion: 0, events: [selected(ipKey("203.0.113.61"), null)] })
      const open = yield* openWriteTransaction(db.url)
      yield* store.append({ streamId: StreamId.make("after"), expectedVersion: 0, events: [selected(ipKey("203.0.113.62"), null)] })
      expect((yield* store.readAll(null, 100)).map((e) => e.streamId)).toEqual(["before"])
      yield* Effect.promise(() => open.query("COMMIT"))
      expect((yield* store.readAll(null, 100)).map((e) => e.streamId)).toEqual(["before", "after"])
    }).pipe(Effect.scoped)
  )
})
