import { describe, expect, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted, Schema } from "effect"
import { InMemoryIndicatorSinkLive, PgliteStoreLive, threatConnectSourceLayer } from "@tisync/adapters"
import { RunIdGeneratorLive, runSync } from "@tisync/app"
import { EventStore, type IndicatorEvent, Policy } from "@tisync/domain"
import { pgliteDataDir } from "../support/pglite.js"
import { casesOf, expandBody, expectedError, type HostileCase, optional, optionalInt, values } from "./HostileCorpus.js"
import { rawServer } from "./RawHttpServer.js"

/**
 * The whole ThreatConnect corpus through whole sync runs: every page case that is meant to be read (no
 * `# error:`) is served as one page of a single paged listing to the real ThreatConnectSource, inside
 * `runSync` on the embedded store (PGlite, so what PostgreSQL cannot hold fails here) with the in-memory
 * Defender. The run must complete, every unreadable record must be reported, every key the corpus maps must
 * end with the outcome its case states, and a second run must write nothing new.
 */

const policy = Schema.decodeUnknownSync(Policy)({
  owners: ["ACME Corp"],
  indicatorTypes: ["Address", "MD5", "SHA1", "SHA256", "Host", "URL"],
  action: "Block",
  lastRunDays: 3650
})

/** Page cases a run reads to the end: no failure expected and served without special framing. */
const readable = casesOf("tc-page").filter(
  (c) =>
    expectedError(c) === undefined &&
    optional(c, "serve") === undefined &&
    optional(c, "max-response-bytes") === undefined &&
    !c.rawBody.includes(`"next"`) &&
    c.rawBody.startsWith(`{"status":"Success",`)
)

/** Case i's body with a `next` link to case i + 1. */
const pagesOf = (cases: ReadonlyArray<HostileCase>, origin: string): ReadonlyArray<Buffer> =>
  cases.map((c, i) => {
    const body = expandBody(c, { origin })
    if (i === cases.length - 1) return body
    const head = Buffer.from(`{"status":"Success","next":"${origin}/api/v3/indicators?page=${i + 1}",`)
    return Buffer.concat([head, body.subarray(`{"status":"Success",`.length)])
  })

const indicatorEvents = Effect.gen(function* () {
  const store = yield* EventStore
  const all = yield* store.readAll(null, 1_000_000)
  return all.filter((r) => r.streamId.startsWith("indicator-")).map((r) => ({ streamId: r.streamId, event: r.event }))
})

const isIndicatorEvent = (e: { readonly _tag: string }): e is IndicatorEvent => e._tag.startsWith("Indicator")

describe("the ThreatConnect corpus through whole sync runs", () => {
  it.live("the run completes, reports every unreadable record, ends every mapped key with its case's outcome, and a re-run writes nothing", () =>
    Effect.gen(function* () {
      expect(readable.length).toBeGreaterThanOrEqual(40)
      const server = yield* rawServer()
      const pages = pagesOf(readable, server.origin)
      const empty = Buffer.from(`{"status":"Success","data":[]}`)
      server.handler = (r) => {
        const url = new URL(r.url, server.origin)
        // the corpus is the active listing; the deletion and deactivation listings are empty
        if (url.pathname.endsWith("/deleted") || (url.searchParams.get("tql") ?? "").includes("indicatorActive = false")) {
          return { status: 200, body: empty }
        }
        return { status: 200, body: pages[Number(url.searchParams.get("page") ?? "0")] ?? empty }
      }
      const source = threatConnectSourceLayer({
        apiUrl: `${server.origin}/api`,
        auth: { _tag: "Token", token: Redacted.make("hostile-run-token") },
        retry: { maxRetries: 0 }
      }).pipe(Layer.provide(NodeHttpClient.layer))
      const world = Layer.mergeAll(PgliteStoreLive(pgliteDataDir()), source, InMemoryIndicatorSinkLive(), RunIdGeneratorLive)

      yield* Effect.gen(function* () {
        const first = yield* runSync({ targetId: "default", full: true, dryRun: false, policy })
        expect(first.status, JSON.stringify(first.notes)).toBe("completed")
        expect(first.counts.failed).toBe(0)

        // every record the adapter could not read is reported by the run (named, or counted past 50)
        const unreadable = readable.reduce((n, c) => n + (optionalInt(c, "rejected") ?? 0), 0)
        expect(unreadable).toBeGreaterThan(10)
        const named = first.notes.filter((n) => n.includes("could not be read")).length
        const more = Number(/\.\.\. and (\d+) more unreadable/.exec(first.notes.join("\n"))?.[1] ?? "0")
        expect(named + more).toBe(unreadable)

        const events = yield* indicatorEvents
        const ofRecord = (id: string, type: string) =>
          events.map((e) => e.event).filter(isIndicatorEvent).filter((e) => e.key.indicatorType === type && "key" in e && (
            (e._tag === "IndicatorRejected" && e.source?.indicatorId === id) ||
            (e._tag === "IndicatorMapped" && e.payload.externalId === `threatconnect:${id}`) ||
            (e._tag === "IndicatorSelected" && e.source.indicatorId === id)
          ))
        for (const c of readable) {
          for (const line of values(c, "map")) {
            const [id = "", type = "", verdict = "", code = ""] = line.split(/\s+/)
            const mine = ofRecord(id, type)
            if (verdict === "Rejected") {
              expect(mine.some((e) => e._tag === "IndicatorRejected" && e.reasonCode === code && e.reason.length > 10), `${c.name}: ${line}`).toBe(true)
              expect(mine.some((e) => e._tag === "IndicatorMapped"), `${c.name}: ${id} never sent`).toBe(false)
            } else if (verdict === "Mapped") {
              expect(mine.some((e) => e._tag === "IndicatorMapped" && e.key.value === code), `${c.name}: ${line}`).toBe(true)
            } else {
              expect(mine.some((e) => e._tag === "IndicatorMapped"), `${c.name}: ${id} not sent`).toBe(false)
            }
          }
        }
        // nothing half-written: every stream that holds an IndicatorMapped ends with its outcome
        const last = new Map<string, string>()
        for (const e of events) last.set(e.streamId, e.event._tag)
        const mappedStreams = new Set(events.filter((e) => e.event._tag === "IndicatorMapped").map((e) => e.streamId))
        expect(mappedStreams.size).toBeGreaterThanOrEqual(15)
        for (const s of mappedStreams) expect(["IndicatorSubmitted", "IndicatorRejected", "IndicatorDeferred"], s).toContain(last.get(s))

        const second = yield* runSync({ targetId: "default", full: true, dryRun: false, policy })
        expect(second.status).toBe("completed")
        expect((yield* indicatorEvents).length, "a re-run over the same corpus writes nothing new").toBe(events.length)
      }).pipe(Effect.provide(world))
    }).pipe(Effect.scoped), 120_000)
})
