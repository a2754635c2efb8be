import { describe, expect, it, layer } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, ConfigProvider, Effect, Either, Redacted, Stream } from "effect"
import {
  makeThreatConnectSource,
  TC_SIM_SECRET_KEY,
  threatConnectConfigFromEnv,
  ThreatConnectSimulator,
  ThreatConnectSimulatorService,
  threatConnectSimulatorLayer
} from "@tisync/adapters"
import { type SourceError, type SourceItem } from "@tisync/domain"
import { policy } from "./IndicatorSourceConformance.js"
import { adapterFor, fastRetry, tokenAuth } from "./SourceFixtures.js"

const ACME = "ACME Corp"
const hosts = policy({ owners: [ACME], indicatorTypes: ["Host"] })

const seedHosts = (sim: ThreatConnectSimulator, n: number) => {
  sim.store.reset()
  sim.clearFaults()
  sim.clearJournal()
  for (let i = 0; i < n; i++) {
    sim.store.add({ ownerName: ACME, type: "Host", summary: `h${String(i).padStart(3, "0")}.example`, lastModified: Date.UTC(2025, 0, 1, 0, 0, i) })
  }
}

const collect = (source: Effect.Effect.Success<ReturnType<typeof adapterFor>>) =>
  Stream.runCollect(source.indicators({ policy: hosts, since: null })).pipe(Effect.map(Chunk.toReadonlyArray))

const failure = <A>(e: Effect.Effect<A, SourceError>) =>
  Effect.flip(e).pipe(Effect.map((err) => ({ err, json: JSON.stringify(err), message: err.message })))

const count = (items: ReadonlyArray<SourceItem>) => items.filter((i) => i._tag === "Indicator").length

layer(threatConnectSimulatorLayer(), { excludeTestServices: true })("ThreatConnect adapter against the simulator", (it) => {
  it.effect("pages with resultLimit and absolute next links; fields repeated; sorted by lastModified asc", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 25)
      const source = yield* adapterFor(sim, { resultLimit: 10 })
      expect(count(yield* collect(source))).toBe(25)
      const calls = sim.callJournal()
      expect(calls.map((c) => new URLSearchParams(c.query).get("resultStart"))).toEqual(["0", "10", "20"])
      const first = new URLSearchParams(calls[0]?.query)
      expect(first.getAll("fields")).toEqual(["tags", "attributes", "securityLabels", "threatAssess", "falsePositives", "observations"])
      expect(first.get("sorting")).toBe("lastModified asc")
      expect(first.get("resultLimit")).toBe("10")
      expect(first.get("tql")).toBe(`ownerName IN ("ACME Corp") AND typeName IN ("Host")`)
      expect(calls.every((c) => c.status === 200 && c.auth === "hmac")).toBe(true)
      expect(yield* source.requestCount).toBe(3)
    }))

  it.effect("resultLimit defaults to 10,000", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 3)
      const source = yield* makeThreatConnectSource({ apiUrl: sim.apiUrl, auth: tokenAuth, retry: fastRetry }).pipe(Effect.provide(NodeHttpClient.layer))
      yield* collect(source)
      expect(new URLSearchParams(sim.callJournal()[0]?.query).get("resultLimit")).toBe("10000")
    }))

  it.effect("a wrong secret is a SourceAuthError naming the usual causes, without the secret", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 1)
      const wrongSecret = "not-the-right-secret-42"
      const source = yield* adapterFor(sim, { auth: { _tag: "Hmac", accessId: "12345678901234567890", secretKey: Redacted.make(wrongSecret) } })
      const { err, json, message } = yield* failure(collect(source))
      expect(err._tag).toBe("SourceAuthError")
      expect(message).toContain("Signature Data Did Not Match Expected Result")
      expect(message).toContain("GET /api/v3/indicators")
      expect(message).toMatch(/clock/)
      expect(message).toMatch(/URL-encoding/)
      for (const text of [json, message, String(err)]) {
        expect(text).not.toContain(wrongSecret)
        expect(text).not.toContain(TC_SIM_SECRET_KEY)
      }
      expect(sim.callJournal().map((c) => c.status)).toEqual([401])
    }))

  it.effect("a clock more than 5 minutes off is refused with the documented message", () =>
    Effect.gen(function* () {
      const skewed = new ThreatConnectSimulator({ now: () => Date.now() + 10 * 60_000 })
      yield* Effect.acquireRelease(Effect.promise(() => skewed.listen()), () => Effect.promise(() => skewed.close()))
      seedHosts(skewed, 1)
      const { err, message } = yield* failure(collect(yield* adapterFor(skewed)))
      expect(err._tag).toBe("SourceAuthError")
      expect(message).toContain("Timestamp Out of Acceptable Time Range")
    }).pipe(Effect.scoped))

  it.effect("a wrong API token is a SourceAuthError without the token", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 1)
      const { err, json, message } = yield* failure(collect(yield* adapterFor(sim, { auth: { _tag: "Token", token: Redacted.make("APIV2:bogus-token") } })))
      expect(err._tag).toBe("SourceAuthError")
      expect(json + message).not.toContain("bogus-token")
    }))

  it.effect("403 is a SourcePermissionError", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 1)
      sim.failNextRequests(1, 403, null, "Access to owner denied")
      const { err } = yield* failure(collect(yield* adapterFor(sim)))
      expect(err._tag).toBe("SourcePermissionError")
      expect(err.message).toContain("Access to owner denied")
    }))

  it.effect("a TQL the server cannot parse is a SourceQueryError quoting the query and the server's message", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 1)
      const source = yield* adapterFor(sim)
      const { err } = yield* failure(Stream.runDrain(source.indicators({ policy: policy({ tql: "rating >>= 3" }), since: null })))
      expect(err._tag).toBe("SourceQueryError")
      expect(err.message).toContain("(rating >>= 3)")
      expect(err.message).toContain("Invalid TQL query")
    }))

  it.effect("5xx is retried, then the stream succeeds; retries are counted as requests", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 25)
      sim.failNextRequests(2, 503)
      sim.failPage(2, 500, 1)
      const source = yield* adapterFor(sim, { resultLimit: 10 })
      expect(count(yield* collect(source))).toBe(25)
      expect(sim.callJournal().map((c) => c.status)).toEqual([503, 503, 200, 200, 500, 200])
      expect(yield* source.requestCount).toBe(6)
    }))

  it.effect("a connection dropped mid-page is retried", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 25)
      sim.dropConnectionOnCall(sim.requestCount + 2)
      const source = yield* adapterFor(sim, { resultLimit: 10 })
      const items = yield* collect(source)
      expect(count(items)).toBe(25)
      expect(new Set(items.map((i) => (i._tag === "Indicator" ? i.indicator.id : ""))).size).toBe(25)
      expect(yield* source.requestCount).toBe(4)
    }))

  it.effect("429 waits for Retry-After before retrying", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 2)
      sim.failNextRequests(1, 429, 1)
      const started = Date.now()
      expect(count(yield* collect(yield* adapterFor(sim)))).toBe(2)
      expect(Date.now() - started).toBeGreaterThanOrEqual(950)
      expect(sim.callJournal().map((c) => c.status)).toEqual([429, 200])
    }))

  it.effect("retries exhausted is a SourceUnavailableError with the attempts and status", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 2)
      sim.failNextRequests(100, 502)
      const { err } = yield* failure(collect(yield* adapterFor(sim)))
      expect(err._tag).toBe("SourceUnavailableError")
      if (err._tag === "SourceUnavailableError") {
        expect(err.attempts).toBe(fastRetry.maxRetries + 1)
        expect(err.status).toBe(502)
        expect(err.method).toBe("GET")
        expect(err.path).toBe("/api/v3/indicators")
      }
      expect(sim.requestCount).toBeGreaterThanOrEqual(fastRetry.maxRetries + 1)
    }))

  it.effect("a connection refused is retried, then a SourceUnavailableError", () =>
    Effect.gen(function* () {
      const closed = new ThreatConnectSimulator()
      yield* Effect.promise(() => closed.listen())
      yield* Effect.promise(() => closed.close())
      const source = yield* adapterFor(closed)
      const { err } = yield* failure(collect(source))
      expect(err._tag).toBe("SourceUnavailableError")
      if (err._tag === "SourceUnavailableError") expect(err.status).toBeNull()
      expect(yield* source.requestCount).toBe(fastRetry.maxRetries + 1)
    }))

  it.effect("a next link to another host is refused and never requested", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 25)
      sim.setNextLinkBase("http://127.0.0.2:9/api")
      const { err } = yield* failure(collect(yield* adapterFor(sim, { resultLimit: 10 })))
      expect(err._tag).toBe("SourceNextLinkRefused")
      expect(err.message).toContain("http://127.0.0.2:9")
      expect(sim.callJournal()).toHaveLength(1)
    }))

  it.effect("a body above the size bound is a SourceResponseTooLarge", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 25)
      const { err } = yield* failure(collect(yield* adapterFor(sim, { maxResponseBytes: 2000 })))
      expect(err._tag).toBe("SourceResponseTooLarge")
    }))

  it.effect("wire quirks decode: rating 3.00, upper-case hashes, a File known only by its summary, missing fields", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      seedHosts(sim, 0)
      const md5 = "F5A2496CF66CB8CFFE66CB1B27D7DEDE"
      const sha1 = "0E8F1D2C3B4A59687766554433221100FFEEDDCC"
      sim.store.add({ id: "11", ownerName: ACME, type: "File", summary: `${md5} : ${sha1}`, rating: 3, lastModified: Date.UTC(2025, 0, 1) })
      sim.store.add({ id: "12", ownerName: ACME, type: "File", summary: md5, lastModified: Date.UTC(2025, 0, 2), overrides: { md5: null, rating: "4.00" } })
      sim.store.add({ id: "13", ownerName: ACME, type: "Address", summary: "9.9.9.9", lastModified: Date.UTC(2025, 0, 3), tags: ["X"], securityLabels: ["TLP:AMBER"], attributes: [{ type: "Phase of Intrusion", value: "Delivery" }] })
      const source = yield* adapterFor(sim)
      const items = (yield* Stream.runCollect(source.indicators({ policy: policy({ owners: [ACME] }), since: null })).pipe(Effect.map(Chunk.toReadonlyArray)))
        .flatMap((i) => (i._tag === "Indicator" ? [i.indicator] : []))
      expect(items.map((i) => i.id)).toEqual(["11", "12", "13"])
      expect(items[0]).toMatchObject({ rating: 3, fileHashes: { md5: md5.toLowerCase(), sha1: sha1.toLowerCase(), sha256: null }, confidence: null, threatAssessScore: null })
      expect(items[1]).toMatchObject({ rating: 4, fileHashes: { md5: md5.toLowerCase(), sha1: null, sha256: null } })
      expect(items[2]).toMatchObject({ tags: ["X"], securityLabels: ["TLP:AMBER"], attributes: [{ type: "Phase of Intrusion", value: "Delivery" }], falsePositives: 0 })
      expect(items[2]?.webLink).toContain("/#/details/indicators/13/overview")
    }))

  it.effect("the generated data set streams whole: owners, types, duplicates across owners, big ids", () =>
    Effect.gen(function* () {
      const sim = yield* ThreatConnectSimulatorService
      sim.clearFaults()
      const records = sim.seed(500, 7)
      const active = records.filter((r) => r.active)
      const source = yield* adapterFor(sim, { resultLimit: 100 })
      const items = yield* Stream.runCollect(source.indicators({ policy: policy({ owners: ["ACME Corp", "Demo Community", "Partner Source", "Common Community"] }), since: null })).pipe(Effect.map(Chunk.toReadonlyArray))
      const decoded = items.flatMap((i) => (i._tag === "Indicator" ? [i.indicator] : []))
      expect(decoded.length).toBe(active.length)
      expect(new Set(decoded.map((i) => i.id)).size).toBe(active.length)
      expect(new Set(decoded.map((i) => i.type))).toEqual(new Set(["Address", "File", "Host", "URL"]))
      expect(decoded.some((i) => i.ownerId === "9007199254740993")).toBe(true)
      expect(decoded.every((i) => BigInt(i.id) > 9007199254740992n)).toBe(true)
      const byValue = new Map<string, Set<string>>()
      for (const i of decoded) byValue.set(i.summary, (byValue.get(i.summary) ?? new Set()).add(i.ownerName))
      expect([...byValue.values()].some((owners) => owners.size > 1)).toBe(true)
      expect(decoded.some((i) => i.attributes.some((a) => a.type === "Last Seen"))).toBe(true)
    }))
})

describe("ThreatConnect configuration", () => {
  const fromEnv = (env: Record<string, string>) =>
    threatConnectConfigFromEnv.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

  it.effect("plain http to a non-loopback host is a configuration error", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(
        makeThreatConnectSource({ apiUrl: "http://tc.example.com/api", auth: tokenAuth }).pipe(Effect.provide(NodeHttpClient.layer))
      )
      expect(Either.isLeft(result) && result.left._tag === "SourceConfigError" && result.left.key === "TC_API_URL").toBe(true)
    }))

  it.effect("plain http to loopback is accepted (127.0.0.0/8, ::1, localhost)", () =>
    Effect.gen(function* () {
      for (const apiUrl of ["http://127.0.0.1:1/api", "http://127.9.8.7/api", "http://[::1]:8080/api", "http://localhost/api"]) {
        const result = yield* Effect.either(makeThreatConnectSource({ apiUrl, auth: tokenAuth }).pipe(Effect.provide(NodeHttpClient.layer)))
        expect(Either.isRight(result)).toBe(true)
      }
    }))

  it.effect("environment: HMAC wins when both are set; the default URL is the public cloud", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ TC_ACCESS_ID: "id", TC_SECRET_KEY: "s3cret", TC_API_TOKEN: "tok" })
      expect(config.apiUrl).toBe("https://app.threatconnect.com/api")
      expect(config.auth._tag).toBe("Hmac")
      expect(String(config.auth._tag === "Hmac" ? config.auth.secretKey : "")).not.toContain("s3cret")
      const token = yield* fromEnv({ TC_API_TOKEN: "tok", TC_API_URL: "https://tc.example.com/api" })
      expect(token).toMatchObject({ apiUrl: "https://tc.example.com/api", auth: { _tag: "Token" } })
    }))

  it.effect("environment: a missing credential names the variable", () =>
    Effect.gen(function* () {
      const none = yield* Effect.flip(fromEnv({}))
      expect(none.message).toContain("TC_ACCESS_ID")
      expect(none.message).toContain("TC_API_TOKEN")
      const half = yield* Effect.flip(fromEnv({ TC_ACCESS_ID: "id" }))
      expect(half.key).toBe("TC_SECRET_KEY")
    }))

  it.effect("resultLimit above 10,000 is refused", () =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(makeThreatConnectSource({ apiUrl: "https://x.example/api", auth: tokenAuth, resultLimit: 10_001 }).pipe(Effect.provide(NodeHttpClient.layer)))
      expect(err.key).toBe("resultLimit")
    }))
})
