import type { SinkEndpoint } from "@tisync/domain"
import { Effect, RateLimiter, Scope } from "effect"
import { globalValue } from "effect/GlobalValue"

/**
 * Client-side budgets per endpoint (reference/defender-api.md §0, §4): Defender counts per
 * application + tenant, so one set of limiters is shared by every sink of the process talking to the
 * same API base, tenant and client.
 */
export const DOCUMENTED_LIMITS: Readonly<Record<SinkEndpoint, { readonly perMinute: number; readonly perHour: number | null }>> = {
  import: { perMinute: 30, perHour: null },
  submit: { perMinute: 100, perHour: 1500 },
  list: { perMinute: 100, perHour: 1500 },
  delete: { perMinute: 100, perHour: 1500 },
  batchDelete: { perMinute: 30, perHour: 1500 }
}

/**
 * `documented`: the limits above in real time. `off`: none (tests, benchmarks against a simulator with
 * limits off). `{ timeScale }`: the documented counts over windows `timeScale` times shorter (benchmarks
 * against a simulator whose clock runs that much faster).
 */
export type RateLimitSetting = "documented" | "off" | { readonly timeScale: number }

/**
 * Effect's token bucket holds `limit` tokens and adds one every `interval / limit`. In any window W it
 * lets through at most `limit + W / (interval / limit)` calls; Defender's windows are not documented
 * (fixed or sliding), so the bucket is sized for the strictest, a sliding window of `max - 1` calls:
 * a burst of max/6, then the steady rate that keeps every window under the limit (one call of margin
 * for network jitter between the permit and the server's clock).
 */
export const bucketFor = (max: number, windowMillis: number, timeScale: number): RateLimiter.RateLimiter.Options => {
  const effective = max - 1
  const burst = Math.max(1, Math.floor(max / 6))
  const interval = (windowMillis * burst) / (effective - burst) / timeScale
  return { limit: burst, interval: Math.ceil(interval), algorithm: "token-bucket" }
}

export type EndpointLimiters = Readonly<Record<SinkEndpoint, <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>>>

const noLimit = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => effect

/** Limiters live as long as the process: their refill fibers sleep only while refilling, so they never keep it alive. */
const processScope = globalValue(Symbol.for("@tisync/adapters/DefenderRateLimits/scope"), () => Effect.runSync(Scope.make()))
const registry = globalValue(Symbol.for("@tisync/adapters/DefenderRateLimits/registry"), () => new Map<string, EndpointLimiters>())

const makeLimiters = (timeScale: number): EndpointLimiters => {
  const build = (ep: SinkEndpoint) => {
    const { perMinute, perHour } = DOCUMENTED_LIMITS[ep]
    const minute = Effect.runSync(Scope.extend(RateLimiter.make(bucketFor(perMinute, 60_000, timeScale)), processScope))
    const hour = perHour === null ? null : Effect.runSync(Scope.extend(RateLimiter.make(bucketFor(perHour, 3_600_000, timeScale)), processScope))
    return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => (hour === null ? minute(effect) : hour(minute(effect)))
  }
  return {
    import: build("import"),
    submit: build("submit"),
    list: build("list"),
    delete: build("delete"),
    batchDelete: build("batchDelete")
  }
}

/** The process-wide limiters for one (API base, tenant, client); the same key always gets the same limiters. */
export const limitersFor = (key: string, setting: RateLimitSetting): EndpointLimiters => {
  if (setting === "off") return { import: noLimit, submit: noLimit, list: noLimit, delete: noLimit, batchDelete: noLimit }
  const timeScale = setting === "documented" ? 1 : setting.timeScale
  const full = `${key}|x${timeScale}`
  const existing = registry.get(full)
  if (existing !== undefined) return existing
  const made = makeLimiters(timeScale)
  registry.set(full, made)
  return made
}
