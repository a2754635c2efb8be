import { Config, Effect, Option } from "effect"

/**
 * Two operator knobs for the HTTP adapters, read from the environment: `TISYNC_REQUEST_TIMEOUT_MS` (one
 * request's time limit; defaults: Defender 60 s, ThreatConnect 2 min) and `TISYNC_RETRY_BASE_DELAY_MS` (the
 * first backoff delay before a retry, doubled each time; default 500 ms). They exist for slow links and
 * for the fault-matrix tests, which must see a timeout or exhaust the retries within seconds.
 */
export interface HttpTuning {
  readonly requestTimeoutMillis: Option.Option<number>
  readonly retryBaseDelayMillis: Option.Option<number>
}

export const REQUEST_TIMEOUT_ENV = "TISYNC_REQUEST_TIMEOUT_MS"
export const RETRY_BASE_DELAY_ENV = "TISYNC_RETRY_BASE_DELAY_MS"

const millis = (name: string) =>
  Config.option(
    Config.integer(name).pipe(
      Config.validate({ message: "must be a whole number of milliseconds from 1 to 3600000", validation: (n) => n >= 1 && n <= 3_600_000 })
    )
  )

/** Fails with the variable's name and the reason (the callers turn it into their config error: exit 2). */
export const httpTuningFromEnv: Effect.Effect<HttpTuning, { readonly key: string; readonly reason: string }> = Effect.gen(function* () {
  const read = (name: string) => Effect.mapError(millis(name), (e) => ({ key: name, reason: e.toString() }))
  return { requestTimeoutMillis: yield* read(REQUEST_TIMEOUT_ENV), retryBaseDelayMillis: yield* read(RETRY_BASE_DELAY_ENV) }
})
