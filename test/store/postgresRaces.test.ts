import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { PostgresStoreLive } from "@tisync/adapters"
import { type Checkpoint, EventStore, type RecordedEvent, StreamId, TargetId } from "@tisync/domain"
import { freshPostgresDatabase, postgresAvailable } from "../support/postgres.js"
import { ipKey, selected, testRunId } from "../support/sampleEvents.js"

const WRITERS = 8
const EVENTS_PER_WRITER = 2_000
const EVENTS_PER_APPEND = 20

/** Races are only real on PostgreSQL: PGlite has a single session. */
describe.runIf(postgresAvailable)("EventStore races (postgres)", () => {
  it.live(
    "8 concurrent writers x 2,000 events: a tailing reader sees every event exactly once, in a stable order",
    () =>
      Effect.gen(function* () {
        const db = yield* Effect.acquireRelease(Effect.promise(() => freshPostgresDatabase()), (d) =>
          Effect.promise(() => d.drop())
        )
        const context = yield* Layer.build(PostgresStoreLive(Redacted.make(db.url)))
        const store = Context.get(context, EventStore)
        const key = ipKey("203.0.113.50")
        const writer = (w: number) =>
          Effect.forEach(
            Array.from({ length: EVENTS_PER_WRITER / EVENTS_PER_APPEND }, (_, i) => i),
            (i) =>
              store.append({
                streamId: StreamId.make(`race-${w}-${i}`),
                expectedVersion: 0,
                events: Array.from({ length: EVENTS_PER_APPEND }, () => selected(key, null))
              }),
            { discard: true }
          )
        const total = WRITERS * EVENTS_PER_WRITER
        const seen: Array<RecordedEvent> = []
        const tail = Effect.gen(function* () {
          let from: Checkpoint | null = null
          const deadline = Date.now() + 120_000
          while (seen.length < total && Date.now() < deadline) {
            const page: ReadonlyArray<RecordedEvent> = yield* store.readAll(from, 700)
            if (page.length === 0) {
              yield* Effect.sleep("5 millis")
              continue
            }
            seen.push(...page)
            from = page[page.length - 1]?.checkpoint ?? from
          }
        })
        yield* Effect.all([tail, ...Array.from({ length: WRITERS }, (_, w) => writer(w))], {
          concurrency: "unbounded"
        })
        const ids = seen.map((e) => `${e.streamId}@${e.version}`)
        expect(ids.length).toBe(total)
        expect(new Set(ids).size).toBe(total)
        const again: Array<RecordedEvent> = []
        let from: Checkpoint | null = null
        for (;;) {
          const page: ReadonlyArray<RecordedEvent> = yield* store.readAll(from, 5_000)
          if (page.length === 0) break
          again.push(...page)
          from = page[page.length - 1]?.checkpoint ?? from
        }
        expect(again.map((e) => `${e.streamId}@${e.version}`)).toEqual(ids)
        // Within a stream, versions arrive in order.
        const lastVersion = new Map<string, number>()
        for (const e of seen) {
          expect(e.version).toBe((lastVersion.get(e.streamId) ?? 0) + 1)
          lastVersion.set(e.streamId, e.version)
        }
      }).pipe(Effect.scoped),
    180_000
  )

  it.live("two sessions racing for the same target lock: exactly one wins and the other names it", () =>
    Effect.gen(function* () {
      const db = yield* Effect.acquireRelease(Effect.promise(() => freshPostgresDatabase()), (d) =>
        Effect.promise(() => d.drop())
      )
      const a = Context.get(yield* Layer.build(PostgresStoreLive(Redacted.make(db.url))), EventStore)
      const b = Context.get(yield* Layer.build(PostgresStoreLive(Redacted.make(db.url))), EventStore)
      const runA = testRunId()
      const runB = testRunId()
      const hold = Effect.sleep("400 millis").pipe(Effect.as("ran"))
      const results = yield* Effect.all(
        [Effect.either(a.withTargetLock(TargetId.make("default"), runA, hold)), Effect.either(b.withTargetLock(TargetId.make("default"), runB, hold))],
        { concurrency: 2 }
      )
      const winners = results.filter((r) => r._tag === "Right")
      const losers = results.flatMap((r) => (r._tag === "Left" ? [r.left] : []))
      expect(winners).toHaveLength(1)
      expect(losers).toHaveLength(1)
      const winner = results[0]?._tag === "Right" ? runA : runB
      expect(losers[0]).toMatchObject({ _tag: "TargetLocked", targetId: "default", holderRunId: winner })
      // Released with the winner's session: the loser can now take it.
      expect(yield* b.withTargetLock(TargetId.make("default"), runB, Effect.succeed("next"))).toBe("next")
    }).pipe(Effect.scoped)
  )

  it.live("a concurrent append to the same stream loses with WrongExpectedVersion and burns no position", () =>
    Effect.gen(function* () {
      const db = yield* Effect.acquireRelease(Effect.promise(() => freshPostgresDatabase()), (d) =>
        Effect.promise(() => d.drop())
      )
      const store = Context.get(yield* Layer.build(PostgresStoreLive(Redacted.make(db.url))), EventStore)
      const key = ipKey("203.0.113.51")
      const stream = StreamId.make("contended")
      const attempts = yield* Effect.all(
        Array.from({ length: 6 }, () => Effect.either(store.append({ streamId: stream, expectedVersion: 0, events: [selected(key, null)] }))),
        { concurrency: "unbounded" }
      )
      expect(attempts.filter((r) => r._tag === "Right")).toHaveLength(1)
      for (const r of attempts) if (r._tag === "Left") expect(r.left).toMatchObject({ _tag: "WrongExpectedVersion", actual: 1 })
      yield* store.append({ streamId: StreamId.make("after"), expectedVersion: 0, events: [selected(key, null)] })
      const all = yield* store.readAll(null, 100)
      // Losers drew no global position: positions are 1 and 2.
      expect(all.map((e) => e.checkpoint.position)).toEqual(["1", "2"])
    }).pipe(Effect.scoped)
  )
})
