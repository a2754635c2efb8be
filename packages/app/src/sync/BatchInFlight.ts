import { Deferred, Effect, Fiber } from "effect"

/**
 * Runs `body` so that an interruption (SIGTERM to the daemon, Ctrl-C) stops it only at the batch
 * boundaries `body` marks by yielding the given effect (issue 7 item 2: the daemon finishes the batch in
 * flight, then stops). A Defender call and the events recording its per-item outcomes thus end together;
 * the run then records `RunFailed` ("the run was interrupted") and releases its lock. Without this, an
 * interrupted call's items stay mapped but unconfirmed until the next run retries them (safe, DESIGN §3
 * "Crash safety", but the outcomes Defender already gave would be lost to this run).
 *
 * `body` runs in a child fiber that stays interruptible inside (the sink's request timeouts and retries
 * work as everywhere else); the caller's interruption only asks it to stop at the next boundary and waits
 * for it. A batch includes the sink's retries, so a stop can wait for a `Retry-After` (at most the sink's
 * cap, 120 s by default); a grace period shorter than that ends in SIGKILL, which crash safety covers.
 */
export const withBatchBoundaries = <A, E, R>(body: (batchBoundary: Effect.Effect<void>) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const stop = yield* Deferred.make<void>()
    const batchBoundary = Effect.flatMap(Deferred.isDone(stop), (stopping) => (stopping ? Effect.interrupt : Effect.void))
    // Not a child of the caller: an interrupted parent would interrupt its children at once.
    const fiber = yield* Effect.forkDaemon(body(batchBoundary))
    return yield* Fiber.join(fiber).pipe(Effect.onInterrupt(() => Effect.zipRight(Deferred.succeed(stop, undefined), Fiber.await(fiber))))
  })
