import { NodeHttpClient } from "@effect/platform-node"
import { DateTime, Duration, Effect, Layer, Redacted } from "effect"
import {
  IndicatorSourceMemory,
  IndicatorSourceMemoryControl,
  makeThreatConnectSource,
  TC_SIM_ACCESS_ID,
  TC_SIM_API_TOKEN,
  TC_SIM_SECRET_KEY,
  ThreatConnectSimulatorService,
  threatConnectSimulatorLayer,
  type ThreatConnectAuth,
  type ThreatConnectConfig,
  type ThreatConnectSimulator,
  type ThreatConnectSimulatorOptions
} from "@tisync/adapters"
import { IndicatorSource, SourceIndicatorId, type SourceIndicator } from "@tisync/domain"
import { SourceFixture, type FixtureRecord } from "./IndicatorSourceConformance.js"

/** Retries fast enough for tests (the policy is configurable for exactly this). */
export const fastRetry = { maxRetries: 3, baseDelay: Duration.millis(5), maxDelay: Duration.millis(50), maxRetryAfter: Duration.seconds(2) }

export const hmacAuth: ThreatConnectAuth = { _tag: "Hmac", accessId: TC_SIM_ACCESS_ID, secretKey: Redacted.make(TC_SIM_SECRET_KEY) }
export const tokenAuth: ThreatConnectAuth = { _tag: "Token", token: Redacted.make(TC_SIM_API_TOKEN) }

export const adapterConfig = (sim: ThreatConnectSimulator, overrides: Partial<ThreatConnectConfig> = {}): ThreatConnectConfig => ({
  apiUrl: sim.apiUrl,
  auth: hmacAuth,
  resultLimit: 7,
  retry: fastRetry,
  ...overrides
})

/** The adapter for one test, against the running simulator. */
export const adapterFor = (sim: ThreatConnectSimulator, overrides: Partial<ThreatConnectConfig> = {}) =>
  makeThreatConnectSource(adapterConfig(sim, overrides)).pipe(Effect.provide(NodeHttpClient.layer))

const ms = (iso: string) => Date.parse(iso)

// ------------------------------------------------------------------------------------------ memory fake

const hashesOf = (summary: string) => {
  const out: { md5: string | null; sha1: string | null; sha256: string | null } = { md5: null, sha1: null, sha256: null }
  for (const part of summary.split(":").map((p) => p.trim().toLowerCase())) {
    if (part.length === 32) out.md5 = part
    if (part.length === 40) out.sha1 = part
    if (part.length === 64) out.sha256 = part
  }
  return out
}

const toSourceIndicator = (id: string, r: Omit<FixtureRecord, "id">, active = true): SourceIndicator => ({
  id: SourceIndicatorId.make(id),
  ownerId: "1",
  ownerName: r.ownerName,
  type: r.type,
  summary: r.summary,
  fileHashes: r.type === "File" ? hashesOf(r.summary) : null,
  dateAdded: DateTime.unsafeMake(r.lastModified),
  lastModified: DateTime.unsafeMake(r.lastModified),
  active,
  rating: r.rating ?? null,
  confidence: r.confidence ?? null,
  threatAssessScore: r.threatAssessScore ?? null,
  falsePositives: r.falsePositives ?? 0,
  tags: r.tags ?? [],
  securityLabels: r.securityLabels ?? [],
  attributes: r.attributes ?? [],
  webLink: null
})

const memoryFixture = Layer.effect(
  SourceFixture,
  Effect.gen(function* () {
    const control = yield* IndicatorSourceMemoryControl
    let next = 1000
    const modifyWith = (id: string, f: (r: SourceIndicator) => SourceIndicator) =>
      Effect.flatMap(control.state, (s) => {
        const current = s.records.get(id)
        return current === undefined ? Effect.die(`no record ${id}`) : control.put(f(current))
      })
    return SourceFixture.of({
      reset: control.reset,
      add: (r) => {
        const id = r.id ?? String(next++)
        return Effect.as(control.put(toSourceIndicator(id, r)), id)
      },
      modify: (id, patch, at) =>
        modifyWith(id, (r) => ({
          ...toSourceIndicator(id, {
            ownerName: r.ownerName,
            type: r.type === "File" ? "File" : r.type === "Address" ? "Address" : r.type === "URL" ? "URL" : "Host",
            summary: r.summary,
            lastModified: at,
            rating: r.rating,
            confidence: r.confidence,
            threatAssessScore: r.threatAssessScore,
            falsePositives: r.falsePositives ?? 0,
            tags: r.tags,
            securityLabels: r.securityLabels,
            attributes: r.attributes,
            ...patch
          })
        })),
      deactivate: (id, at) => modifyWith(id, (r) => ({ ...r, active: false, lastModified: DateTime.unsafeMake(at) })),
      remove: (id, at) => control.remove(SourceIndicatorId.make(id), DateTime.unsafeMake(at)),
      addUndecodable: (id, lastModified) =>
        control.putRejected({ rawId: id, reason: "lastModified: Expected DateTimeUtc, actual \"yesterday\"" }, DateTime.unsafeMake(lastModified))
    })
  })
)

export const memoryImplementation: Layer.Layer<IndicatorSource | SourceFixture> = memoryFixture.pipe(Layer.provideMerge(IndicatorSourceMemory))

// ------------------------------------------------------------------------------------------- simulator

const simulatorFixture = Layer.effect(
  SourceFixture,
  Effect.map(ThreatConnectSimulatorService, (sim) =>
    SourceFixture.of({
      reset: Effect.sync(() => {
        sim.store.reset()
        sim.clearFaults()
      }),
      add: (r) =>
        Effect.sync(() => {
          const { lastModified, ...rest } = r
          return sim.store.add({ ...rest, lastModified: ms(lastModified), dateAdded: ms(lastModified) }).id
        }),
      modify: (id, patch, at) => Effect.sync(() => void sim.store.modify(id, patch, ms(at))),
      deactivate: (id, at) => Effect.sync(() => void sim.store.deactivate(id, ms(at))),
      remove: (id, at) => Effect.sync(() => sim.store.remove(id, ms(at))),
      addUndecodable: (id, lastModified) =>
        Effect.sync(
          () =>
            void sim.store.add({
              id,
              ownerName: "ACME Corp",
              type: "Host",
              summary: `undecodable-${id}.example`,
              lastModified: ms(lastModified),
              overrides: { lastModified: "yesterday" }
            })
        )
    })
  )
)

/** The adapter (resultLimit 7, so the suite pages) against a fresh simulator. */
export const simulatorImplementation = (
  auth: ThreatConnectAuth,
  simOptions: ThreatConnectSimulatorOptions = {}
): Layer.Layer<IndicatorSource | SourceFixture | ThreatConnectSimulatorService> => {
  const source = Layer.effect(
    IndicatorSource,
    Effect.flatMap(ThreatConnectSimulatorService, (sim) => makeThreatConnectSource(adapterConfig(sim, { auth })).pipe(Effect.orDie))
  ).pipe(Layer.provide(NodeHttpClient.layer))
  return Layer.mergeAll(source, simulatorFixture).pipe(Layer.provideMerge(threatConnectSimulatorLayer(simOptions)))
}
