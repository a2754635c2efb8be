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

const REASON = "must be a whole number of milliseconds from 1 to 3600000"

/** Unset or empty (as an env file's `NAME=` line leaves it): the adapter's default. */
const millis = (name: string): Effect.Effect<Option.Option<number>, { readonly key: string; readonly reason: string }> =>
  Effect.gen(function* () {
    const raw = yield* Effect.mapError(Config.option(Config.string(name)), (e) => ({ key: name, reason: e.toString() }))
    const text = Option.getOrElse(raw, () => "").trim()
    if (text === "") return Option.none()
    const n = Number(text)
    if (!/^[0-9]+$/.test(text) || n < 1 || n > 3_600_000) return yield* Effect.fail({ key: name, reason: REASON })
    return Option.some(n)
  })

/** Fails with the variable's name and the reason (the callers turn it into their config error: exit 2). */
export const httpTuningFromEnv: Effect.Effect<HttpTuning, { readonly key: string; readonly reason: string }> = Effect.gen(function* () {
  return { requestTimeoutMillis: yield* millis(REQUEST_TIMEOUT_ENV), retryBaseDelayMillis: yield* millis(RETRY_BASE_DELAY_ENV) }
})
