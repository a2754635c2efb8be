import { describe, expect, it, layer } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import {
  DefenderIndicatorSinkLive,
  DefenderSimulatorTag,
  makeDefenderIndicatorSink,
  MsalTokenProviderLive
} from "@tisync/adapters"
import { IndicatorSink, TokenProvider } from "@tisync/domain"
import { Chunk, Effect, Either, Layer, Redacted, Stream } from "effect"
import { indicatorSinkConformance } from "./IndicatorSinkConformance.js"
import { FAST_RETRY, ipPayloads, simulatorSinkLayer } from "./SinkTestControls.js"

indicatorSinkConformance("Defender adapter against the simulator", simulatorSinkLayer())

const sim = DefenderSimulatorTag

describe("Defender adapter: retries, throttling, tokens", () => {
  layer(simulatorSinkLayer(), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("a 429 is retried after Retry-After, then succeeds", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.setFaults([{ endpoint: "submit", calls: [1], fault: { kind: "throttle", retryAfterSeconds: 1 } }])
        const sink = yield* IndicatorSink
        const started = Date.now()
        const created = yield* sink.submit(ipPayloads(1)[0]!)
        expect(Date.now() - started).toBeGreaterThanOrEqual(950)
        expect(created.indicatorValue).toBe("45.0.0.0")
        expect(s.journal().filter((j) => j.endpoint === "submit").map((j) => j.status)).toEqual([429, 200])
        expect((yield* sink.callCounts).submit).toBe(2)
      }))

    it.effect("5xx and dropped connections are retried with backoff; every request is counted", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.setFaults([
          { endpoint: "import", calls: [1], fault: { kind: "status", status: 503 } },
          { endpoint: "import", calls: [2], fault: { kind: "drop" } }
        ])
        const sink = yield* IndicatorSink
        const before = (yield* sink.callCounts).import
        const outcomes = yield* sink.importBatch(ipPayloads(3))
        expect(outcomes.every((o) => o._tag === "Imported")).toBe(true)
        expect(s.journal().filter((j) => j.endpoint === "import").map((j) => j.status)).toEqual([503, "dropped", 200])
        expect((yield* sink.callCounts).import - before).toBe(3)
      }))

    it.effect("retries are bounded: a persistent 500 surfaces as DefenderServerError with the correlation id", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.setFaults([{ endpoint: "list", calls: "all", fault: { kind: "status", status: 500 } }])
        const sink = yield* IndicatorSink
        const result = yield* Effect.either(Stream.runCollect(sink.list()))
        expect(Either.isLeft(result) && result.left._tag).toBe("DefenderServerError")
        if (Either.isLeft(result) && result.left._tag === "DefenderServerError") expect(result.left.correlationId).toMatch(/^[0-9a-f-]{36}$/)
        expect(s.callCounts().list).toBe(1 + FAST_RETRY.maxRetries)
      }))

    it.effect("a persistent 429 surfaces as DefenderThrottled", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.setFaults([{ endpoint: "delete", calls: "all", fault: { kind: "throttle", retryAfterSeconds: 0 } }])
        const sink = yield* IndicatorSink
        const result = yield* Effect.either(sink.deleteOne("1"))
        expect(Either.isLeft(result) && result.left._tag).toBe("DefenderThrottled")
        expect(s.callCounts().delete).toBe(1 + FAST_RETRY.maxRetries)
      }))

    it.effect("token expiry mid-run: the 401 forces one token refresh and the call succeeds", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        const sink = yield* IndicatorSink
        yield* sink.importBatch(ipPayloads(1))
        const issued = s.tokensIssued()
        s.setFaults([{ endpoint: "import", calls: [2], fault: { kind: "expireTokens" } }])
        const outcomes = yield* sink.importBatch(ipPayloads(2, 10))
        expect(outcomes.every((o) => o._tag === "Imported")).toBe(true)
        expect(s.tokensIssued()).toBe(issued + 1)
        expect(s.journal().filter((j) => j.endpoint === "import").map((j) => j.status)).toEqual([200, 401, 200])
      }))

    it.effect("403 is DefenderForbidden and says which permission to grant", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.setFaults([{ endpoint: "submit", calls: "all", fault: { kind: "status", status: 403 } }])
        const sink = yield* IndicatorSink
        const result = yield* Effect.either(sink.submit(ipPayloads(1)[0]!))
        expect(Either.isLeft(result) && result.left._tag).toBe("DefenderForbidden")
        expect(Either.isLeft(result) && result.left.message).toMatch(/Ti\.ReadWrite\.All.*WindowsDefenderATP.*not Microsoft Graph/)
        expect(s.callCounts().submit).toBe(1) // not retried
      }))

    it.effect("a hung request times out and is retried", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.setFaults([{ endpoint: "submit", calls: [1], fault: { kind: "delay", ms: 3_000 } }])
        const sink = yield* IndicatorSink
        const created = yield* sink.submit(ipPayloads(1)[0]!)
        expect(created.id).toBeDefined()
        expect(s.callCounts().submit).toBe(2)
      }), { timeout: 30_000 })

    it.effect("partial import failures injected by the simulator come back per item", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.failImportValues(["45.0.0.1"], "Temporary failure for this indicator")
        const sink = yield* IndicatorSink
        const outcomes = yield* sink.importBatch(ipPayloads(3))
        expect(outcomes.map((o) => o._tag)).toEqual(["Imported", "Failed", "Imported"])
        expect(outcomes[1]?._tag === "Failed" && outcomes[1].reason).toBe("Temporary failure for this indicator")
      }))

    it.effect("foreign indicators are listed leniently (comma-separated rbacGroupNames, integer category)", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.reset()
        s.seedForeign([{ indicatorValue: "evil.example.com", indicatorType: "DomainName", rbacGroupNames: ["Servers", "Laptops"], rbacAsString: true }])
        const sink = yield* IndicatorSink
        const [foreign] = Chunk.toReadonlyArray(yield* Stream.runCollect(sink.list()))
        expect(foreign?.createdBy).not.toBe(s.appId)
        expect(foreign?.rbacGroupNames).toEqual(["Servers", "Laptops"])
        expect(foreign?.category).toBe(1)
      }))
  })

  layer(simulatorSinkLayer({ rateLimits: false, alwaysNextLink: true }), { timeout: 60_000, excludeTestServices: true })("@odata.nextLink", (it) => {
    it.effect("list follows @odata.nextLink when Defender sends one", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.seedOwn(ipPayloads(25).map((p) => ({ ...p, severity: p.severity, expirationTime: null, generateAlert: null, recommendedActions: null, rbacGroupNames: [], educateUrl: null, application: null, externalId: null })))
        const sink = yield* IndicatorSink
        const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(sink.list({ pageSize: 10 })))
        expect(listed.length).toBe(25)
        expect(s.journal().filter((j) => j.endpoint === "list").map((j) => j.items)).toEqual([10, 10, 5])
      }))
  })

  layer(simulatorSinkLayer({ rateLimits: true, timeScale: 120 }, { rateLimits: { timeScale: 120 }, rateLimitKey: "conformance-scaled" }), { timeout: 60_000, excludeTestServices: true })(
    "client rate limits",
    (it) => {
      it.effect("with the documented limits (time scaled x120) the client never draws a 429", () =>
        Effect.gen(function* () {
          const s = yield* sim
          const sink = yield* IndicatorSink
          // 40 imports > 30/min and 120 submits > 100/min of simulated time
          yield* Effect.forEach(Array.from({ length: 40 }, (_, k) => k), (k) => sink.importBatch(ipPayloads(1, k)), { concurrency: 8 })
          yield* Effect.forEach(Array.from({ length: 120 }, (_, k) => k), (k) => sink.submit(ipPayloads(1, 1000 + k)[0]!), { concurrency: 8 })
          expect(s.rateLimitRejections()).toBe(0)
          expect(s.callCounts().import).toBe(40)
          expect(s.callCounts().submit).toBe(120)
        }), { timeout: 60_000 })
    }
  )
})

describe("Defender adapter: configuration", () => {
  layer(NodeHttpClient.layer)((it) => {
    it.effect("plain http is refused for a non-loopback API host", () =>
      Effect.gen(function* () {
        const token = TokenProvider.of({ token: Effect.die("unused"), refresh: Effect.die("unused") })
        const result = yield* Effect.either(makeDefenderIndicatorSink({ apiUrl: "http://api.securitycenter.microsoft.com" }).pipe(Effect.provideService(TokenProvider, token)))
        expect(Either.isLeft(result) && result.left._tag).toBe("DefenderConfigError")
        expect(Either.isLeft(result) && result.left.key).toBe("DEFENDER_API_URL")
      }))
  })

  it("DefenderIndicatorSinkLive builds from an explicit config", () => {
    const live = DefenderIndicatorSinkLive({ apiUrl: "https://api-eu.securitycenter.microsoft.com" })
    expect(Layer.isLayer(live)).toBe(true)
    const token = MsalTokenProviderLive({ tenantId: "t", clientId: "c", credential: { _tag: "ClientSecret", secret: Redacted.make("x") } })
    expect(Layer.isLayer(token)).toBe(true)
  })
})
