import { expect, layer } from "@effect/vitest"
import { Effect, Either, type Layer } from "effect"
import {
  encodeEvent,
  EventStore,
  indicatorStreamId,
  KnownEvents,
  type RecordedEvent,
  runStreamId,
  TargetId,
  type StreamId
} from "@tisync/domain"
import { ipKey, mapped, runStarted, selected, submitted, testRunId, uniqueStream } from "../support/sampleEvents.js"

/** What a suite needs beyond the port: ways to break the storage the way an operator or bug could. */
export interface StoreHarness<R> {
  /** Writes a row at (stream, version) whose data no longer decodes. */
  readonly corrupt: (streamId: StreamId, version: number) => Effect.Effect<void, unknown, R>
  /** Writes a valid event row stamped with an explicit transaction id (to test ordering across digit counts). */
  readonly insertAtTransaction: ((streamId: StreamId, transactionId: string, data: string) => Effect.Effect<void, unknown, R>) | null
  /** Tries UPDATE, DELETE and TRUNCATE on the events table; returns the error message of each. */
  readonly mutateEvents: Effect.Effect<ReadonlyArray<string | null>, unknown, R> | null
}

const readAllFrom = (after: RecordedEvent["checkpoint"] | null, batch: number) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const out: Array<RecordedEvent> = []
    let from = after
    for (;;) {
      const page = yield* store.readAll(from, batch)
      if (page.length === 0) return out
      out.push(...page)
      from = page[page.length - 1]?.checkpoint ?? from
    }
  })

/** The EventStore contract, run against every implementation (memory, PGlite, PostgreSQL). */
export const eventStoreSuite = <R>(
  name: string,
  storeLayer: Layer.Layer<EventStore | R, unknown>,
  harness: StoreHarness<R>
) =>
  layer(storeLayer, { timeout: 120_000 })(`EventStore conformance (${name})`, (it) => {
    it.effect("appends events to a new stream and reads them back in order", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const key = ipKey("203.0.113.10")
        const stream = uniqueStream("indicator")
        const runId = testRunId()
        const result = yield* store.append({
          streamId: stream,
          expectedVersion: 0,
          events: [selected(key, runId), mapped(key, runId), submitted(key, runId, 1)]
        })
        expect(result.nextVersion).toBe(3)
        const events = yield* store.readStream(stream)
        expect(events.map((e) => [e.version, e.event._tag])).toEqual([
          [1, "IndicatorSelected"],
          [2, "IndicatorMapped"],
          [3, "IndicatorSubmitted"]
        ])
        expect(events[0]?.event).toEqual(selected(key, runId))
        expect(yield* store.streamVersion(stream)).toBe(3)
      }))

    it.effect("a stale expected version is WrongExpectedVersion carrying expected and actual", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const key = ipKey("203.0.113.11")
        const stream = uniqueStream()
        yield* store.append({ streamId: stream, expectedVersion: 0, events: [selected(key, null), mapped(key, null)] })
        const again = yield* Effect.flip(store.append({ streamId: stream, expectedVersion: 0, events: [selected(key, null)] }))
        expect(again).toMatchObject({ _tag: "WrongExpectedVersion", streamId: stream, expected: 0, actual: 2 })
        const ahead = yield* Effect.flip(store.append({ streamId: stream, expectedVersion: 5, events: [selected(key, null)] }))
        expect(ahead).toMatchObject({ _tag: "WrongExpectedVersion", expected: 5, actual: 2 })
        const behind = yield* Effect.flip(store.append({ streamId: stream, expectedVersion: 1, events: [selected(key, null)] }))
        expect(behind).toMatchObject({ _tag: "WrongExpectedVersion", expected: 1, actual: 2 })
        expect((yield* store.readStream(stream)).length).toBe(2)
      }))

    it.effect("a stream that does not exist is empty at version 0", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = uniqueStream("nothing")
        expect(yield* store.readStream(stream)).toEqual([])
        expect(yield* store.streamVersion(stream)).toBe(0)
      }))

    it.effect("a multi-stream append is all or nothing", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const a = uniqueStream("a")
        const b = uniqueStream("b")
        const key = ipKey("203.0.113.12")
        yield* store.append({ streamId: b, expectedVersion: 0, events: [selected(key, null)] })
        const failed = yield* Effect.flip(
          store.appendMany([
            { streamId: a, expectedVersion: 0, events: [selected(key, null)] },
            { streamId: b, expectedVersion: 0, events: [mapped(key, null)] }
          ])
        )
        expect(failed).toMatchObject({ _tag: "WrongExpectedVersion", streamId: b, expected: 0, actual: 1 })
        expect(yield* store.readStream(a)).toEqual([])
        const ok = yield* store.appendMany([
          { streamId: a, expectedVersion: 0, events: [selected(key, null)] },
          { streamId: b, expectedVersion: 1, events: [mapped(key, null)] }
        ])
        expect(ok.map((r) => r.nextVersion)).toEqual([1, 2])
      }))

    it.effect("takes 10,000 events in one append", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = uniqueStream("large")
        const key = ipKey("203.0.113.13")
        const events = Array.from({ length: 10_000 }, (_, i) => selected(key, null, i % 1000))
        yield* store.append({ streamId: stream, expectedVersion: 0, events })
        const back = yield* store.readStream(stream)
        expect(back.length).toBe(10_000)
        expect(back[9_999]?.version).toBe(10_000)
      }))

    it.effect("reads all in commit order and resumes from a checkpoint without gaps or repeats", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const before = yield* readAllFrom(null, 5_000)
        const start = before.length === 0 ? null : (before[before.length - 1]?.checkpoint ?? null)
        const streams = [uniqueStream("r1"), uniqueStream("r2"), uniqueStream("r3")]
        const key = ipKey("203.0.113.14")
        for (const [i, s] of streams.entries()) {
          yield* store.append({ streamId: s, expectedVersion: 0, events: [selected(key, null, i), mapped(key, null, i)] })
        }
        yield* store.append({ streamId: streams[0]!, expectedVersion: 2, events: [submitted(key, null, 9)] })
        const whole = yield* readAllFrom(start, 1_000)
        const paged = yield* readAllFrom(start, 2)
        expect(paged.map((e) => `${e.streamId}@${e.version}`)).toEqual(whole.map((e) => `${e.streamId}@${e.version}`))
        expect(whole.map((e) => `${e.streamId}@${e.version}`)).toEqual([
          `${streams[0]}@1`,
          `${streams[0]}@2`,
          `${streams[1]}@1`,
          `${streams[1]}@2`,
          `${streams[2]}@1`,
          `${streams[2]}@2`,
          `${streams[0]}@3`
        ])
        const resumed = yield* store.readAll(whole[3]!.checkpoint, 100)
        expect(resumed.map((e) => `${e.streamId}@${e.version}`)).toEqual(whole.slice(4).map((e) => `${e.streamId}@${e.version}`))
      }))

    it.effect("readAllKnown takes the events the caller holds as they are and reads the others", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const marker = uniqueStream("marker")
        yield* store.append({ streamId: marker, expectedVersion: 0, events: [selected(ipKey("203.0.113.30"), null)] })
        const after = (yield* store.readStream(marker))[0]?.checkpoint ?? null
        const runId = testRunId()
        const ours = uniqueStream("ours")
        const theirs = uniqueStream("theirs")
        const ourEvents = [selected(ipKey("203.0.113.31"), runId), mapped(ipKey("203.0.113.31"), runId)]
        yield* store.appendMany([
          { streamId: ours, expectedVersion: 0, events: ourEvents },
          { streamId: theirs, expectedVersion: 0, events: [selected(ipKey("203.0.113.32"), runId)] }
        ])
        const known = new KnownEvents()
        known.add(ours, 0, ourEvents)
        const plain = yield* store.readAll(after, 3)
        const withKnown = yield* store.readAllKnown(after, 3, known)
        expect(withKnown.map((e) => [e.streamId, e.version, e.checkpoint, e.event._tag])).toEqual(
          plain.map((e) => [e.streamId, e.version, e.checkpoint, e.event._tag])
        )
        expect(withKnown.filter((e) => e.streamId === ours).map((e) => e.event)).toEqual(ourEvents)
        for (const e of withKnown) {
          if (e.streamId === ours) expect(e.event).toBe(ourEvents[e.version - 1])
          else expect(e.event).toEqual(plain.find((p) => p.streamId === e.streamId)?.event)
        }
        expect(withKnown.map((e) => e.streamId)).toContain(theirs)
      }))

    it.effect("reads a run's events by run id", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const runId = testRunId()
        const key = ipKey("203.0.113.15")
        yield* store.append({ streamId: runStreamId(key.targetId, runId), expectedVersion: 0, events: [runStarted(runId)] })
        yield* store.append({ streamId: uniqueStream(), expectedVersion: 0, events: [selected(key, runId), mapped(key, null)] })
        const events = yield* store.readByRun(runId)
        expect(events.map((e) => e.event._tag)).toEqual(["RunStarted", "IndicatorSelected"])
      }))

    it.effect("a corrupted stored event is a typed decode error naming stream and position", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = uniqueStream("corrupt")
        const key = ipKey("203.0.113.16")
        yield* store.append({ streamId: stream, expectedVersion: 0, events: [selected(key, null)] })
        yield* harness.corrupt(stream, 2)
        const error = yield* Effect.flip(store.readStream(stream))
        expect(error._tag).toBe("EventDecodeError")
        if (error._tag === "EventDecodeError") {
          expect(error.streamId).toBe(stream)
          expect(error.version).toBe(2)
          expect(error.message).toContain(stream)
        }
      }))

    if (harness.insertAtTransaction !== null) {
      const insert = harness.insertAtTransaction
      it.effect("orders by transaction id as a number, not as text (9 before 10)", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const data = encodeEvent(selected(ipKey("203.0.113.18"), null)).data
          const ten = uniqueStream("tx10")
          const nine = uniqueStream("tx9")
          yield* insert(ten, "10", data)
          yield* insert(nine, "9", data)
          // Every other event has a far larger transaction id: in numeric order these two come first.
          // (Read only them: the suite's corrupted row lies further on.)
          const first = yield* store.readAll(null, 2)
          expect(first.map((e) => e.streamId)).toEqual([nine, ten])
        }))
    }

    if (harness.mutateEvents !== null) {
      const mutate = harness.mutateEvents
      it.effect("the events table is append-only: UPDATE, DELETE and TRUNCATE are refused", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = uniqueStream("append-only")
          yield* store.append({ streamId: stream, expectedVersion: 0, events: [selected(ipKey("203.0.113.17"), null)] })
          const errors = yield* mutate
          expect(errors).toHaveLength(3)
          for (const e of errors) expect(e).toMatch(/append-only/)
          expect((yield* store.readStream(stream)).length).toBe(1)
        }))
    }

    it.effect("a held target lock refuses a second run and names the holder", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const first = testRunId()
        const second = testRunId()
        const target = TargetId.make(`lock-${Math.random().toString(36).slice(2, 8)}`)
        const inner = yield* store
          .withTargetLock(target, first, Effect.either(store.withTargetLock(target, second, Effect.succeed("ran"))))
        expect(Either.isLeft(inner)).toBe(true)
        if (Either.isLeft(inner)) expect(inner.left).toMatchObject({ _tag: "TargetLocked", holderRunId: first })
        // Released afterwards: the next run takes it.
        expect(yield* store.withTargetLock(target, second, Effect.succeed("ran"))).toBe("ran")
      }))

    it.effect("indicator stream ids are stable and hash long values", () =>
      Effect.sync(() => {
        const short = indicatorStreamId(ipKey("1.2.3.4"))
        expect(short).toBe("indicator-default-IpAddress-1.2.3.4")
        const long = indicatorStreamId({ targetId: ipKey("x").targetId, indicatorType: "Url", value: `https://e.example/${"a".repeat(300)}` })
        expect(long).toMatch(/^indicator-default-Url-sha256:[0-9a-f]{64}$/)
      }))
  })
