import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref } from "effect"
import { withBatchBoundaries } from "../src/sync/BatchInFlight.js"

/** A loop of three "calls", each answered after a pause and then recorded, as executePlan's batches are. */
const batchLoop = (started: Ref.Ref<Array<number>>, recorded: Ref.Ref<Array<number>>, inFlight: Deferred.Deferred<void>) =>
  withBatchBoundaries((betweenBatches) =>
    Effect.gen(function* () {
      for (const batch of [1, 2, 3]) {
        yield* betweenBatches
        yield* Ref.update(started, (xs) => [...xs, batch])
        yield* Deferred.succeed(inFlight, undefined)
        yield* Effect.sleep("150 millis") // the call in flight
        yield* Ref.update(recorded, (xs) => [...xs, batch]) // its outcome events
      }
    })
  )

describe("withBatchBoundaries", () => {
  it.live("an interruption during a call lets it finish and be recorded, and starts no further batch", () =>
    Effect.gen(function* () {
      const started = yield* Ref.make<Array<number>>([])
      const recorded = yield* Ref.make<Array<number>>([])
      const inFlight = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(batchLoop(started, recorded, inFlight))
      yield* Deferred.await(inFlight)
      const exit = yield* Fiber.interrupt(fiber)
      expect(exit._tag).toBe("Failure")
      expect(yield* Ref.get(started)).toEqual([1])
      expect(yield* Ref.get(recorded)).toEqual([1])
    }))

  it.live("without an interruption every batch runs", () =>
    Effect.gen(function* () {
      const started = yield* Ref.make<Array<number>>([])
      const recorded = yield* Ref.make<Array<number>>([])
      yield* batchLoop(started, recorded, yield* Deferred.make<void>())
      expect(yield* Ref.get(recorded)).toEqual([1, 2, 3])
    }))

  it.live("a request timeout inside a batch still fires (the batch is not an uninterruptible region)", () =>
    Effect.gen(function* () {
      const outcome = yield* withBatchBoundaries((betweenBatches) =>
        Effect.zipRight(betweenBatches, Effect.never.pipe(Effect.timeout("100 millis"), Effect.either))
      ).pipe(Effect.timeout("5 seconds"))
      expect(outcome._tag).toBe("Left")
    }))
})
