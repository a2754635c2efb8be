import { Either } from "effect"
import { ConfigError } from "./ConfigError.js"

/** Policy keys whose flag takes a comma-separated list. */
const LIST_KEYS = new Set(["owners", "indicatorTypes", "tags", "rbacGroupNames"])
const NUMBER_KEYS = new Set([
  "minThreatAssessScore",
  "minThreatRating",
  "minConfidence",
  "maxFalsePositives",
  "lastRunDays",
  "indicatorReserveCount",
  "renewWithinDays"
])
const BOOLEAN_KEYS = new Set(["onlyModifiedSinceLastRun", "evict", "generateAlert"])
const NULLABLE_KEYS = new Set([
  "minThreatAssessScore",
  "minThreatRating",
  "minConfidence",
  "maxFalsePositives",
  "tql",
  "severity",
  "recommendedActions",
  "generateAlert",
  "educateUrl",
  "application"
])

/**
 * Turns `--<policy key> VALUE` flags into config values (every policy key has a flag of the same name,
 * DESIGN §7). Lists are comma-separated; `expirationDays` takes `file=30,network=14` or one number for both;
 * `null` clears a nullable key. The result is validated with the file's schema, so errors name the key.
 */
export const parsePolicyFlag = (key: string, raw: string): Either.Either<unknown, ConfigError> => {
  const value = raw.trim()
  if (NULLABLE_KEYS.has(key) && value === "null") return Either.right(null)
  if (LIST_KEYS.has(key)) {
    return Either.right(value === "" ? [] : value.split(",").map((x) => x.trim()).filter((x) => x !== ""))
  }
  if (NUMBER_KEYS.has(key)) {
    const n = Number(value)
    return value !== "" && Number.isFinite(n)
      ? Either.right(n)
      : Either.left(new ConfigError({ key: `--${key}`, reason: `expected a number, got ${JSON.stringify(raw)}` }))
  }
  if (BOOLEAN_KEYS.has(key)) {
    if (value === "true") return Either.right(true)
    if (value === "false") return Either.right(false)
    return Either.left(new ConfigError({ key: `--${key}`, reason: `expected true or false, got ${JSON.stringify(raw)}` }))
  }
  if (key === "expirationDays") {
    const both = Number(value)
    if (value !== "" && Number.isFinite(both)) return Either.right({ file: both, network: both })
    const out: Record<string, number> = {}
    for (const part of value.split(",")) {
      const [k, v] = part.split("=").map((x) => x.trim())
      const n = Number(v)
      if ((k !== "file" && k !== "network") || v === undefined || v === "" || !Number.isFinite(n)) {
        return Either.left(new ConfigError({ key: "--expirationDays", reason: "expected file=N,network=N or one number" }))
      }
      out[k] = n
    }
    return Either.right(out)
  }
  return Either.right(value)
}
