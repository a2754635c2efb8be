import { expect, layer } from "@effect/vitest"
import { type DefenderPayload, IndicatorSink, type SinkError } from "@tisync/domain"
import { Chunk, Effect, Either, Layer, Stream } from "effect"
import { ipPayloads, SinkTestControls } from "./SinkTestControls.js"

const p = (indicatorType: DefenderPayload["indicatorType"], indicatorValue: string, action: DefenderPayload["action"] = "Block"): DefenderPayload => ({
  indicatorValue,
  indicatorType,
  action,
  title: `ThreatConnect ${indicatorType}: ${indicatorValue}`,
  description: "ThreatConnect Host | Owner: ACME Corp | Id: 7",
  severity: "High",
  ...(action === "Audit" ? { generateAlert: true } : {})
})

const fresh = Effect.flatMap(SinkTestControls, (c) => c.reset)

/**
 * The IndicatorSink contract (DESIGN §4), run against every implementation: the in-memory fake and the
 * HTTP adapter talking to the simulator.
 */
export const indicatorSinkConformance = <E>(name: string, implementation: Layer.Layer<IndicatorSink | SinkTestControls, E>) =>
  layer(implementation, { timeout: 60_000, excludeTestServices: true })(`IndicatorSink conformance: ${name}`, (it) => {
    it.effect("import reports per-item outcomes matched by value and type, not position", () =>
      Effect.gen(function* () {
        yield* fresh
        const sink = yield* IndicatorSink
        const batch = [
          p("IpAddress", "8.8.4.4"),
          p("IpAddress", "10.1.2.3"), // internal: Defender refuses it
          p("FileSha256", "abc"), // malformed hash
          p("DomainName", "evil.example.net"),
          p("DomainName", "evil.example.net", "Audit") // same value, another action: another indicator
        ]
        const outcomes = yield* sink.importBatch(batch)
        expect(outcomes.map((o) => [o._tag, o.indicatorValue, o.action])).toEqual([
          ["Imported", "8.8.4.4", "Block"],
          ["Failed", "10.1.2.3", "Block"],
          ["Failed", "abc", "Block"],
          ["Imported", "evil.example.net", "Block"],
          ["Imported", "evil.example.net", "Audit"]
        ])
        const failed = outcomes[1]
        expect(failed?._tag === "Failed" && failed.reason).toMatch(/InvalidIpAddress/)
        const ids = outcomes.flatMap((o) => (o._tag === "Imported" ? [o.id] : []))
        expect(new Set(ids).size).toBe(3)
        // import is an upsert on (value, type, action): the same ids come back
        const again = yield* sink.importBatch([batch[3]!, batch[0]!])
        expect(again.map((o) => (o._tag === "Imported" ? o.id : null))).toEqual([ids[1], ids[0]])
        const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(sink.list()))
        expect(listed.length).toBe(3)
      }))

    it.effect("submit upserts one indicator and returns it as Defender holds it", () =>
      Effect.gen(function* () {
        yield* fresh
        const sink = yield* IndicatorSink
        const first = yield* sink.submit({ ...p("Url", "https://evil.example.org/x"), expirationTime: "2099-01-01T00:00:00Z", rbacGroupNames: ["SOC"] })
        expect(first.indicatorValue).toBe("https://evil.example.org/x")
        expect(first.rbacGroupNames).toEqual(["SOC"])
        const second = yield* sink.submit({ ...p("Url", "https://evil.example.org/x"), title: "renamed" })
        expect(second.id).toBe(first.id)
        expect(second.title).toBe("renamed")
        const invalid = yield* Effect.either(sink.submit(p("IpAddress", "192.168.1.1")))
        expect(Either.isLeft(invalid) && invalid.left._tag).toBe("DefenderValidation")
        expect(Either.isLeft(invalid) && invalid.left._tag === "DefenderValidation" && invalid.left.code).toBe("InvalidIpAddress")
      }))

    it.effect("list pages past 10,000 indicators without losing or repeating any", () =>
      Effect.gen(function* () {
        yield* fresh
        const sink = yield* IndicatorSink
        const all = ipPayloads(10_050)
        const start = yield* sink.callCounts
        for (let k = 0; k < all.length; k += 500) yield* sink.importBatch(all.slice(k, k + 500))
        const before = yield* sink.callCounts
        expect(before.import - start.import).toBe(21)
        const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(sink.list()))
        expect(listed.length).toBe(10_050)
        expect(new Set(listed.map((i) => i.id)).size).toBe(10_050)
        const after = yield* sink.callCounts
        expect(after.list - before.list).toBe(2)
        const small = Chunk.toReadonlyArray(yield* Stream.runCollect(sink.list({ pageSize: 4_000, filter: "indicatorType eq 'IpAddress'" })))
        expect(small.length).toBe(10_050)
      }), { timeout: 60_000 })

    it.effect("list filters with $filter", () =>
      Effect.gen(function* () {
        yield* fresh
        const sink = yield* IndicatorSink
        yield* sink.importBatch([p("IpAddress", "8.8.8.8"), p("DomainName", "a.evil.net"), p("DomainName", "b.evil.net")])
        const domains = Chunk.toReadonlyArray(yield* Stream.runCollect(sink.list({ filter: "indicatorType eq 'DomainName'" })))
        expect(domains.map((d) => d.indicatorValue).sort()).toEqual(["a.evil.net", "b.evil.net"])
      }))

    it.effect("deleteOne: a missing id is AlreadyGone, not an error", () =>
      Effect.gen(function* () {
        yield* fresh
        const sink = yield* IndicatorSink
        const created = yield* sink.submit(p("FileSha1", "3395856ce81f2b7382dee72602f798b642f14140"))
        expect(yield* sink.deleteOne(created.id)).toBe("Deleted")
        expect(yield* sink.deleteOne(created.id)).toBe("AlreadyGone")
        expect(yield* sink.deleteOne("987654321")).toBe("AlreadyGone")
      }))

    it.effect("BatchDelete with a missing id still deletes all the others", () =>
      Effect.gen(function* () {
        yield* fresh
        const sink = yield* IndicatorSink
        const outcomes = yield* sink.importBatch(ipPayloads(9))
        const ids = outcomes.flatMap((o) => (o._tag === "Imported" ? [o.id] : []))
        expect(ids.length).toBe(9)
        const result = yield* sink.batchDelete([...ids.slice(0, 4), "999999", ...ids.slice(4)])
        expect([...result.deleted].sort()).toEqual([...ids].sort())
        expect(result.alreadyGone).toEqual(["999999"])
        const left = Chunk.toReadonlyArray(yield* Stream.runCollect(sink.list()))
        expect(left.length).toBe(0)
      }))

    it.effect("the tenant cap: import items fail as quota, submit fails with DefenderQuotaExceeded", () =>
      Effect.gen(function* () {
        yield* fresh
        const controls = yield* SinkTestControls
        yield* controls.setCap(3)
        const sink = yield* IndicatorSink
        const outcomes = yield* sink.importBatch(ipPayloads(5))
        expect(outcomes.map((o) => o._tag)).toEqual(["Imported", "Imported", "Imported", "Failed", "Failed"])
        expect(outcomes.every((o) => o._tag === "Imported" || o.quotaExceeded)).toBe(true)
        // an update in place does not need room
        const update = yield* sink.submit({ ...ipPayloads(1)[0]!, title: "still fits" })
        expect(update.title).toBe("still fits")
        const refused = yield* Effect.either(sink.submit(ipPayloads(1, 100)[0]!))
        expect(Either.isLeft(refused) && refused.left._tag).toBe("DefenderQuotaExceeded")
        yield* controls.setCap(15_000)
      }))

    it.effect("more than 500 per batch is refused before any request", () =>
      Effect.gen(function* () {
        yield* fresh
        const sink = yield* IndicatorSink
        const before = yield* sink.callCounts
        const tooMany = yield* Effect.either(sink.importBatch(ipPayloads(501)))
        const tooManyIds = yield* Effect.either(sink.batchDelete(Array.from({ length: 501 }, (_, k) => String(k + 1))))
        const code = (e: Either.Either<unknown, SinkError>) => (Either.isLeft(e) && e.left._tag === "DefenderValidation" ? e.left.code : null)
        expect(code(tooMany)).toBe("MaximumBatchSizeExceeded")
        expect(code(tooManyIds)).toBe("MaximumBatchSizeExceeded")
        expect(yield* sink.callCounts).toEqual(before)
      }))
  })
