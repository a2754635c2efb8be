import { Effect } from "effect"

/**
 * "The run stops after the batch in flight" (issue 6 item 2). SIGTERM or SIGINT interrupts the command's
 * fiber; `stopsBetweenBatches` runs a batch loop so that the interruption cannot cut a Defender call or
 * the events recording its answer: the loop is uninterruptible except at `betweenBatches`, which the loop
 * yields before starting each call. An interruption that arrives while a call is in flight waits until the
 * call is answered (the sink's retries included) and its `IndicatorSubmitted` / `IndicatorRejected` /
 * `IndicatorRevoked` events are appended, then takes effect at the next `betweenBatches`; the run then
 * records `RunFailed` ("the run was interrupted") with every answered call accounted for.
 *
 * Abandoning the call instead would leave Defender changed and the log silent: still safe (the next run
 * finds the indicators pending and adopts them) but it throws away work already done. The wait is bounded
 * by the sink's request timeout and retry schedule; a SIGKILL during it is the ordinary crash case
 * (`IndicatorMapped` is written before every call).
 */
export const stopsBetweenBatches = <A, E, R>(
  loop: (betweenBatches: Effect.Effect<void>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.uninterruptibleMask((restore) => loop(restore(Effect.void)))
