import { Effect, Exit, Fiber } from "effect"
import type { EventStoreError } from "@tisync/domain"

/**
 * Runs `use` while the target lock is held, and stops it with the lock's error if the lock is lost.
 *
 * Not `Effect.raceFirst(use, lost)`: a race that is itself interrupted (SIGTERM) interrupts its fibers
 * without waiting for them, so the command ended while the run was still finishing its Defender batch
 * and recording its outcome (the process exited under it). Here an interruption is passed to `use` and
 * waited for, so a run's own interruption handling (finish the batch in flight, record RunFailed) completes.
 */
export const untilLockLost = <A, E, R>(
  use: Effect.Effect<A, E, R>,
  lost: Effect.Effect<never, EventStoreError>
): Effect.Effect<A, E | EventStoreError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const run = yield* Effect.fork(restore(use))
      // Succeeds with the error once the lock is lost, after stopping the run.
      const watch = yield* Effect.fork(restore(Effect.flatMap(Effect.flip(lost), (error) => Effect.as(Fiber.interrupt(run), error))))
      const outcome = yield* restore(Fiber.await(run)).pipe(Effect.onInterrupt(() => Effect.zipRight(Fiber.interrupt(run), Fiber.interrupt(watch))))
      const lostWith = yield* Fiber.interrupt(watch)
      if (Exit.isSuccess(lostWith)) return yield* Effect.fail(lostWith.value)
      return yield* outcome
    })
  )
