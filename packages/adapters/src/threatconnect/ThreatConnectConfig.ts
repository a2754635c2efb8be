import { Config, Duration, Effect, Option, Redacted } from "effect"
import { SourceConfigError } from "@tisync/domain"

/**
 * How to reach ThreatConnect (DESIGN §7: `TC_API_URL`, `TC_ACCESS_ID` + `TC_SECRET_KEY`, or `TC_API_TOKEN`).
 * Secrets stay `Redacted` until the moment a header is computed.
 */
export type ThreatConnectAuth =
  | { readonly _tag: "Hmac"; readonly accessId: string; readonly secretKey: Redacted.Redacted<string> }
  | { readonly _tag: "Token"; readonly token: Redacted.Redacted<string> }

/** Bounded exponential backoff with jitter for 5xx, 429 and dropped connections. */
export interface ThreatConnectRetryPolicy {
  /** Retries after the first attempt (so attempts = maxRetries + 1). */
  readonly maxRetries: number
  readonly baseDelay: Duration.DurationInput
  /** Upper bound of one backoff delay. */
  readonly maxDelay: Duration.DurationInput
  /** Upper bound of a honoured `Retry-After`. */
  readonly maxRetryAfter: Duration.DurationInput
}

export const defaultThreatConnectRetryPolicy: ThreatConnectRetryPolicy = {
  maxRetries: 5,
  baseDelay: Duration.millis(500),
  maxDelay: Duration.seconds(30),
  maxRetryAfter: Duration.minutes(2)
}

export interface ThreatConnectConfig {
  /** API base including `/api`, e.g. `https://app.threatconnect.com/api`. */
  readonly apiUrl: string
  readonly auth: ThreatConnectAuth
  /** Page size, 1-10,000 (the API's maximum, and the default). */
  readonly resultLimit?: number
  /** `fields=` values, each sent as its own parameter. */
  readonly fields?: ReadonlyArray<string>
  readonly retry?: Partial<ThreatConnectRetryPolicy>
  /** Largest response body accepted (default 64 MiB). */
  readonly maxResponseBytes?: number
  /** Timeout of one HTTP attempt, body included (default 2 minutes, as Elastic's poller). */
  readonly requestTimeout?: Duration.DurationInput
}

export const DEFAULT_TC_API_URL = "https://app.threatconnect.com/api"
export const MAX_RESULT_LIMIT = 10_000
export const DEFAULT_FIELDS: ReadonlyArray<string> = ["tags", "attributes", "securityLabels", "threatAssess", "falsePositives", "observations"]
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

/** The configuration with defaults applied and the base URL checked. */
export interface ResolvedThreatConnectConfig {
  readonly base: URL
  readonly auth: ThreatConnectAuth
  readonly resultLimit: number
  readonly fields: ReadonlyArray<string>
  readonly retry: ThreatConnectRetryPolicy
  readonly maxResponseBytes: number
  readonly requestTimeout: Duration.Duration
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain http is allowed to (DESIGN §7). */
export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.toLowerCase()
  return host === "localhost" || host === "[::1]" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

const configError = (key: string | null, reason: string) => new SourceConfigError({ key, reason })

export const resolveThreatConnectConfig = (
  config: ThreatConnectConfig
): Effect.Effect<ResolvedThreatConnectConfig, SourceConfigError> =>
  Effect.gen(function* () {
    const base = yield* Effect.try({
      try: () => new URL(config.apiUrl),
      catch: () => configError("TC_API_URL", "not a valid URL")
    })
    if (base.protocol !== "https:" && base.protocol !== "http:") {
      return yield* configError("TC_API_URL", `unsupported scheme ${base.protocol}`)
    }
    if (base.protocol === "http:" && !isLoopbackHost(base.hostname)) {
      return yield* configError("TC_API_URL", "plain http is only allowed to a loopback address; use https")
    }
    if (base.username !== "" || base.password !== "" || base.search !== "" || base.hash !== "") {
      return yield* configError("TC_API_URL", "must not carry credentials, a query or a fragment")
    }
    base.pathname = base.pathname.replace(/\/+$/, "")
    const resultLimit = config.resultLimit ?? MAX_RESULT_LIMIT
    if (!Number.isInteger(resultLimit) || resultLimit < 1 || resultLimit > MAX_RESULT_LIMIT) {
      return yield* configError("resultLimit", `must be an integer from 1 to ${MAX_RESULT_LIMIT}`)
    }
    if (config.auth._tag === "Hmac" && (config.auth.accessId === "" || Redacted.value(config.auth.secretKey) === "")) {
      return yield* configError(config.auth.accessId === "" ? "TC_ACCESS_ID" : "TC_SECRET_KEY", "is empty")
    }
    if (config.auth._tag === "Token" && Redacted.value(config.auth.token) === "") {
      return yield* configError("TC_API_TOKEN", "is empty")
    }
    const retry = { ...defaultThreatConnectRetryPolicy, ...config.retry }
    if (!Number.isInteger(retry.maxRetries) || retry.maxRetries < 0) {
      return yield* configError("retry.maxRetries", "must be a non-negative integer")
    }
    return {
      base,
      auth: config.auth,
      resultLimit,
      fields: config.fields ?? DEFAULT_FIELDS,
      retry,
      maxResponseBytes: config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      requestTimeout: Duration.decode(config.requestTimeout ?? Duration.minutes(2))
    }
  })

const optionalNonEmpty = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")))
const optionalSecret = (name: string) =>
  Config.option(Config.redacted(name)).pipe(Config.map(Option.filter((s) => Redacted.value(s).trim() !== "")))

/**
 * `TC_API_URL` (default https://app.threatconnect.com/api), then HMAC when `TC_ACCESS_ID` and `TC_SECRET_KEY`
 * are both set (tcex's precedence, reference §1c), otherwise `TC_API_TOKEN`. A missing credential fails
 * naming the variable(s).
 */
export const threatConnectConfigFromEnv: Effect.Effect<ThreatConnectConfig, SourceConfigError> = Effect.gen(function* () {
  const read = Config.all({
    apiUrl: Config.string("TC_API_URL").pipe(Config.withDefault(DEFAULT_TC_API_URL)),
    accessId: optionalNonEmpty("TC_ACCESS_ID"),
    secretKey: optionalSecret("TC_SECRET_KEY"),
    token: optionalSecret("TC_API_TOKEN")
  })
  const env = yield* read.pipe(Effect.mapError((e) => configError(null, e.toString())))
  if (Option.isSome(env.accessId) && Option.isSome(env.secretKey)) {
    return { apiUrl: env.apiUrl, auth: { _tag: "Hmac", accessId: env.accessId.value, secretKey: env.secretKey.value } }
  }
  if (Option.isSome(env.token)) return { apiUrl: env.apiUrl, auth: { _tag: "Token", token: env.token.value } }
  if (Option.isSome(env.accessId)) return yield* configError("TC_SECRET_KEY", "is missing (TC_ACCESS_ID is set)")
  if (Option.isSome(env.secretKey)) return yield* configError("TC_ACCESS_ID", "is missing (TC_SECRET_KEY is set)")
  return yield* configError("TC_ACCESS_ID", "missing credential: set TC_ACCESS_ID and TC_SECRET_KEY, or TC_API_TOKEN")
})
