import { Effect } from "effect"

/**
 * Runs `body` so that an interruption (SIGTERM to the daemon, Ctrl-C) takes effect only at the batch
 * boundaries `body` marks by yielding the given effect (issue 7 item 2: the daemon finishes the batch in
 * flight, then stops). A Defender call and the events recording its per-item outcomes thus end together;
 * the run then records `RunFailed` ("the run was interrupted") and releases its lock. Without this, an
 * interrupted call's items stay mapped but unconfirmed until the next run retries them (safe, DESIGN §3
 * "Crash safety", but the outcomes Defender already gave would be lost to this run).
 *
 * A batch includes the sink's retries, so a stop can wait for a `Retry-After` (at most the sink's cap,
 * 120 s by default); a grace period shorter than that ends in SIGKILL, which crash safety covers.
 */
export const withBatchBoundaries = <A, E, R>(body: (batchBoundary: Effect.Effect<void>) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.uninterruptibleMask((restore) => body(restore(Effect.void)))
