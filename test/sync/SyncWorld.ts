import {
  DefenderSimulatorTag,
  makeInMemoryIndicatorSinkWithControls,
  MemoryEventStoreLive,
  MemoryProjectionStoreLive,
  PgliteStoreLive
} from "@tisync/adapters"
import { RunIdGeneratorLive } from "@tisync/app"
import {
  DefenderServerError,
  DefenderTransportError,
  EventStore,
  externalIdOf,
  type IdGenerator,
  IndicatorSink,
  type IndicatorSource,
  type ProjectionStore,
  Policy,
  type PolicyInput
} from "@tisync/domain"
import { Chunk, Clock, Context, Duration, Effect, Layer, Schema, Stream } from "effect"
import { simulatorSinkLayer } from "../sink/SinkTestControls.js"
import { hmacAuth, memoryImplementation, simulatorImplementation } from "../source/SourceFixtures.js"
import type { SourceFixture } from "../source/IndicatorSourceConformance.js"
import { pgliteDataDir } from "../support/pglite.js"

/** What Defender holds, as a test reads it (no API call counted against a run). */
export interface HeldIndicator {
  readonly id: string
  readonly indicatorType: string
  readonly indicatorValue: string
  readonly action: string | null
  readonly externalId: string | null
  readonly generateAlert: boolean | null
  readonly expirationTime: string | null
}

export type ImportFault = "none" | "fail" | "lose-response"

/** The Defender side of a test world: foreign indicators, what is held, injected import faults. */
export class DefenderFixture extends Context.Tag("test/sync/DefenderFixture")<DefenderFixture, {
  readonly seedForeign: (items: ReadonlyArray<{ readonly indicatorType: string; readonly indicatorValue: string; readonly action: string }>) => Effect.Effect<void>
  readonly held: Effect.Effect<ReadonlyArray<HeldIndicator>>
  /** `fail`: every import fails (503 after retries); `lose-response`: Defender applies it, the answer is lost. */
  readonly setImportFault: (fault: ImportFault) => Effect.Effect<void>
  /** An empty tenant without faults (a test's start). */
  readonly reset: Effect.Effect<void>
}>() {}

export type World = EventStore | ProjectionStore | IndicatorSource | IndicatorSink | IdGenerator | SourceFixture | DefenderFixture

/** Wraps the sink so tests can break imports the two ways a run must survive. */
const faultableSink = (fault: { current: ImportFault }) =>
  Layer.effect(
    IndicatorSink,
    Effect.map(IndicatorSink, (inner) =>
      IndicatorSink.of({
        ...inner,
        importBatch: (payloads) => {
          if (fault.current === "fail") {
            return Effect.fail(new DefenderServerError({ endpoint: "import", status: 503, code: "ServiceUnavailable", serverMessage: "injected outage", correlationId: null }))
          }
          if (fault.current === "lose-response") {
            return inner.importBatch(payloads).pipe(
              Effect.zipRight(Effect.fail(new DefenderTransportError({ endpoint: "import", kind: "connection", detail: "connection dropped after Defender applied the import" })))
            )
          }
          return inner.importBatch(payloads)
        }
      })
    )
  )

const heldFrom = (i: {
  id: string; indicatorType: string; indicatorValue: string; action: string | null; generateAlert: boolean | null; expirationTime: string | null
}, externalId: string | null): HeldIndicator => ({
  id: i.id, indicatorType: i.indicatorType, indicatorValue: i.indicatorValue, action: i.action, externalId, generateAlert: i.generateAlert, expirationTime: i.expirationTime
})

/** In-memory store, source fake and sink fake. */
export const memoryWorld = (): Layer.Layer<World> => {
  const fault: { current: ImportFault } = { current: "none" }
  const base = Layer.effectContext(
    Effect.map(makeInMemoryIndicatorSinkWithControls(), ({ sink, controls }) =>
      Context.make(IndicatorSink, sink).pipe(
        Context.add(DefenderFixture, {
          seedForeign: (items) =>
            Effect.sync(() =>
              controls.seedForeign(
                items.map((i) => ({
                  indicatorType: i.indicatorType === "IpAddress" ? "IpAddress" as const : "DomainName" as const,
                  indicatorValue: i.indicatorValue,
                  action: i.action === "Audit" ? "Audit" as const : "Block" as const,
                  title: "another app",
                  description: "another app's indicator",
                  severity: "Low" as const,
                  ...(i.action === "Audit" ? { generateAlert: true } : {})
                }))
              )
            ),
          held: Stream.runCollect(sink.list()).pipe(
            Effect.map((c) => Chunk.toReadonlyArray(c).map((i) => heldFrom(i, externalIdOf(i)))),
            Effect.orDie
          ),
          setImportFault: (f) => Effect.sync(() => void (fault.current = f)),
          reset: Effect.sync(() => {
            controls.reset()
            fault.current = "none"
          })
        })
      ))
  )
  const sink = Layer.merge(faultableSink(fault), Layer.effect(DefenderFixture, DefenderFixture)).pipe(Layer.provide(base))
  return Layer.mergeAll(MemoryEventStoreLive(), MemoryProjectionStoreLive(), memoryImplementation, sink, RunIdGeneratorLive)
}

/** PGlite store, the ThreatConnect adapter against its simulator, the Defender adapter against its simulator. */
export const simulatorWorld = (): Layer.Layer<World, unknown> => {
  const fault: { current: ImportFault } = { current: "none" }
  const defender = simulatorSinkLayer()
  const fixture = Layer.effect(
    DefenderFixture,
    Effect.map(DefenderSimulatorTag, (s) =>
      DefenderFixture.of({
        seedForeign: (items) => Effect.sync(() => void s.seedForeign(items)),
        held: Effect.sync(() =>
          s.indicators().map((i) =>
            heldFrom(
              {
                id: i.id,
                indicatorType: i.indicatorType,
                indicatorValue: i.indicatorValue,
                action: i.action ?? null,
                generateAlert: typeof i.generateAlert === "boolean" ? i.generateAlert : null,
                expirationTime: i.expirationTime ?? null
              },
              i.externalId ?? null
            )
          )
        ),
        setImportFault: (f) => Effect.sync(() => void (fault.current = f)),
        reset: Effect.sync(() => {
          s.reset()
          fault.current = "none"
        })
      })
    )
  )
  const sink = Layer.merge(faultableSink(fault), fixture).pipe(Layer.provide(defender))
  // Renewal and expiry tests run the engine on a clock days ahead; the HMAC timestamp check must let it.
  const source = simulatorImplementation(hmacAuth, { maxSkewSeconds: 60 * 24 * 60 * 60 })
  return Layer.mergeAll(PgliteStoreLive(pgliteDataDir()), source, sink, RunIdGeneratorLive)
}

export const testPolicy = (overrides: PolicyInput = {}): Policy =>
  Schema.decodeUnknownSync(Policy)({ owners: ["ACME Corp"], action: "Block", ...overrides })

export const minutesAgo = (n: number): string => new Date(Date.now() - n * 60_000).toISOString()

/** A clock `offset` ahead of the wall clock (renewal, expiry), for the engine only. */
export const clockAhead = (offset: Duration.DurationInput): Clock.Clock => {
  const base = Clock.make()
  const ms = Duration.toMillis(offset)
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() + ms,
    currentTimeMillis: Effect.sync(() => base.unsafeCurrentTimeMillis() + ms),
    unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos() + BigInt(ms) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => base.unsafeCurrentTimeNanos() + BigInt(ms) * 1_000_000n),
    sleep: (d) => base.sleep(d)
  }
}

/** Write calls made so far (import, submit, delete, batchDelete). */
export const writeCalls = Effect.map(
  Effect.flatMap(IndicatorSink, (s) => s.callCounts),
  (c) => c.import + c.submit + c.delete + c.batchDelete
)

export const eventCount = Effect.flatMap(EventStore, (s) => Effect.map(s.readAll(null, 1_000_000), (e) => e.length))
