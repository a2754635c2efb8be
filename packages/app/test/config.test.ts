import { describe, expect, it } from "@effect/vitest"
import { Duration, Either } from "effect"
import { decodeAppConfig, resolveTargets } from "../src/config/AppConfig.js"
import { parsePolicyFlag } from "../src/config/PolicyFlags.js"
import { parseEvery } from "../src/cli/DaemonCommand.js"

const keyOf = <A>(e: Either.Either<A, { readonly key: string }>) => (Either.isLeft(e) ? e.left.key : null)

describe("config file", () => {
  it("defaults every policy key", () => {
    const config = Either.getOrThrow(decodeAppConfig({}))
    expect(config.action).toBe("Alert")
    expect(config.owners).toEqual([])
    expect(config.expirationDays).toEqual({ file: 30, network: 30 })
    expect(config.indicatorTypes).toEqual(["Address", "MD5", "SHA1", "SHA256", "Host", "URL"])
  })

  it("refuses an unknown key and names it", () => {
    expect(keyOf(decodeAppConfig({ owners: ["A"], minConfidance: 5 }))).toBe("minConfidance")
  })

  it("refuses wrong types, out-of-range numbers and unknown enums, naming the key", () => {
    expect(keyOf(decodeAppConfig({ owners: "ACME" }))).toBe("owners")
    expect(keyOf(decodeAppConfig({ minThreatRating: 6 }))).toBe("minThreatRating")
    expect(keyOf(decodeAppConfig({ indicatorReserveCount: -1 }))).toBe("indicatorReserveCount")
    expect(keyOf(decodeAppConfig({ action: "AlertAndBlock" }))).toBe("action")
    expect(keyOf(decodeAppConfig({ indicatorTypes: ["Address", "CIDR"] }))).toBe("indicatorTypes.[1]".replace(".[", "["))
    expect(keyOf(decodeAppConfig({ expirationDays: { file: 0 } }))).toBe("expirationDays.file")
  })

  it("targets override the policy and keep their credentials' variable names", () => {
    const config = Either.getOrThrow(
      decodeAppConfig({
        owners: ["ACME"],
        indicatorReserveCount: 100,
        targets: [
          { id: "eu", tenantId: "t-eu", clientSecretEnv: "EU_SECRET", indicatorReserveCount: 500 },
          { id: "us", tenantId: "t-us", cloud: "gcc" }
        ]
      })
    )
    const targets = Either.getOrThrow(resolveTargets(config, undefined))
    expect(targets.map((t) => [t.settings.id, t.policy.indicatorReserveCount, t.policy.owners])).toEqual([
      ["eu", 500, ["ACME"]],
      ["us", 100, ["ACME"]]
    ])
    expect(targets[0]?.settings.clientSecretEnv).toBe("EU_SECRET")
    expect(targets[1]?.settings.cloud).toBe("gcc")
  })

  it("a bad target entry is refused with its position and key", () => {
    const config = Either.getOrThrow(decodeAppConfig({ targets: [{ id: "a", tenantId: "x", minConfidence: 500 }] }))
    expect(keyOf(resolveTargets(config, undefined))).toBe("targets[0].minConfidence")
    const dup = Either.getOrThrow(decodeAppConfig({ targets: [{ id: "a" }, { id: "a" }] }))
    expect(keyOf(resolveTargets(dup, undefined))).toBe("targets[1].id")
  })

  it("without targets there is one target, default, on AZURE_TENANT_ID", () => {
    const targets = Either.getOrThrow(resolveTargets(Either.getOrThrow(decodeAppConfig({})), "tenant-1"))
    expect(targets.map((t) => [t.settings.id, t.settings.tenantId])).toEqual([["default", "tenant-1"]])
  })
})

describe("policy flags", () => {
  it("parse lists, numbers, booleans, null and expirationDays", () => {
    expect(Either.getOrThrow(parsePolicyFlag("owners", "ACME Corp, Partner"))).toEqual(["ACME Corp", "Partner"])
    expect(Either.getOrThrow(parsePolicyFlag("minConfidence", "50"))).toBe(50)
    expect(Either.getOrThrow(parsePolicyFlag("minConfidence", "null"))).toBeNull()
    expect(Either.getOrThrow(parsePolicyFlag("evict", "true"))).toBe(true)
    expect(Either.getOrThrow(parsePolicyFlag("expirationDays", "file=10,network=20"))).toEqual({ file: 10, network: 20 })
    expect(Either.getOrThrow(parsePolicyFlag("expirationDays", "14"))).toEqual({ file: 14, network: 14 })
  })

  it("refuse malformed values naming the flag", () => {
    expect(keyOf(parsePolicyFlag("minConfidence", "high"))).toBe("--minConfidence")
    expect(keyOf(parsePolicyFlag("evict", "yes"))).toBe("--evict")
    expect(keyOf(parsePolicyFlag("expirationDays", "files=3"))).toBe("--expirationDays")
  })
})

describe("daemon interval", () => {
  it("parses 1h, 30m, 1h30m and refuses junk or less than a minute", () => {
    expect(Duration.toSeconds(Either.getOrThrow(parseEvery("1h")))).toBe(3600)
    expect(Duration.toSeconds(Either.getOrThrow(parseEvery("1h30m")))).toBe(5400)
    expect(Duration.toSeconds(Either.getOrThrow(parseEvery("30m")))).toBe(1800)
    expect(Either.isLeft(parseEvery("soon"))).toBe(true)
    expect(Either.isLeft(parseEvery("30s"))).toBe(true)
    expect(Either.isLeft(parseEvery("1h junk"))).toBe(true)
  })
})
