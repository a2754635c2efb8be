import { NodeHttpClient } from "@effect/platform-node"
import {
  DefenderIndicatorSinkLive,
  DefenderSimulatorLive,
  DefenderSimulatorTag,
  type DefenderSimulatorOptions,
  type DefenderSinkConfig,
  InMemoryIndicatorSinkLive,
  makeInMemoryIndicatorSinkWithControls,
  MsalTokenProviderLive
} from "@tisync/adapters"
import { type DefenderPayload, IndicatorSink } from "@tisync/domain"
import { Context, Effect, Layer, Redacted } from "effect"

/** What the conformance suite needs besides the port: a clean tenant and a cap it can lower. */
export class SinkTestControls extends Context.Tag("test/SinkTestControls")<SinkTestControls, {
  readonly reset: Effect.Effect<void>
  readonly setCap: (cap: number) => Effect.Effect<void>
}>() {}

export const memorySinkLayer: Layer.Layer<IndicatorSink | SinkTestControls> = Layer.effectContext(
  Effect.map(makeInMemoryIndicatorSinkWithControls(), ({ sink, controls }) =>
    Context.make(IndicatorSink, sink).pipe(
      Context.add(SinkTestControls, {
        reset: Effect.sync(() => controls.reset()),
        setCap: (cap) => Effect.sync(() => controls.setCap(cap))
      })
    ))
)
// Kept for callers that only need the port.
export const plainMemorySinkLayer = InMemoryIndicatorSinkLive()

/** Fast schedules for tests: the retry logic is the same, only the delays shrink. */
export const FAST_RETRY = { maxRetries: 2, baseDelayMillis: 5, maxDelayMillis: 20, maxRetryAfterSeconds: 5 } as const

/**
 * The Defender adapter talking to a fresh simulator: MSAL over TLS with the committed test CA
 * (no NODE_EXTRA_CA_CERTS), the API over loopback http, client rate limits off unless asked.
 */
export const simulatorSinkLayer = (
  simOptions: DefenderSimulatorOptions = { rateLimits: false },
  sinkOptions: Partial<DefenderSinkConfig> = {}
) => {
  const sim = DefenderSimulatorLive(simOptions)
  const token = Layer.unwrapEffect(Effect.map(DefenderSimulatorTag, (s) =>
    MsalTokenProviderLive({
      tenantId: s.tenantId,
      clientId: s.clientId,
      credential: { _tag: "ClientSecret", secret: Redacted.make(s.clientSecret) },
      authorityHost: s.authorityHost,
      extraCaPem: s.caPem
    })))
  const sink = Layer.unwrapEffect(Effect.map(DefenderSimulatorTag, (s) =>
    DefenderIndicatorSinkLive({ apiUrl: s.apiUrl, rateLimits: "off", retry: FAST_RETRY, requestTimeoutMillis: 2_000, ...sinkOptions })))
  const controls = Layer.effect(SinkTestControls, Effect.map(DefenderSimulatorTag, (s) => ({
    reset: Effect.sync(() => s.reset()),
    setCap: (cap: number) => Effect.sync(() => s.setCap(cap))
  })))
  return Layer.mergeAll(sink, controls).pipe(
    Layer.provideMerge(token),
    Layer.provide(NodeHttpClient.layer),
    Layer.provideMerge(sim)
  )
}

/** n distinct public IPv4 indicators. */
export const ipPayloads = (n: number, from = 0, action: DefenderPayload["action"] = "Block"): Array<DefenderPayload> =>
  Array.from({ length: n }, (_, k) => {
    const i = k + from
    return {
      indicatorValue: `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      indicatorType: "IpAddress" as const,
      action,
      title: `ThreatConnect Address: ${i}`,
      description: "ThreatConnect Address | Owner: ACME Corp | Id: 1",
      severity: "Medium" as const
    }
  })
