import { expect, layer } from "@effect/vitest"
import { Chunk, Context, DateTime, Effect, Either, type Layer, Schema, Stream } from "effect"
import { IndicatorSource, Policy, type PolicyInput, type SourceIndicator, type SourceItem } from "@tisync/domain"

/**
 * One conformance suite for every IndicatorSource implementation (STYLE.md "One suite per port"): the
 * in-memory fake and the ThreatConnect adapter talking to the simulator (HMAC and token). A `SourceFixture`
 * seeds the implementation's data; every test starts from an empty source.
 */
export interface FixtureRecord {
  readonly id?: string
  readonly ownerName: string
  readonly type: "Address" | "Host" | "URL" | "File"
  readonly summary: string
  /** ISO instant */
  readonly lastModified: string
  readonly rating?: number | null
  readonly confidence?: number | null
  readonly threatAssessScore?: number | null
  readonly falsePositives?: number
  readonly tags?: ReadonlyArray<string>
  readonly securityLabels?: ReadonlyArray<string>
  readonly attributes?: ReadonlyArray<{ readonly type: string; readonly value: string }>
}

export class SourceFixture extends Context.Tag("test/SourceFixture")<SourceFixture, {
  readonly reset: Effect.Effect<void>
  readonly add: (record: FixtureRecord) => Effect.Effect<string>
  /** Apply the patch; lastModified moves to `at`. */
  readonly modify: (id: string, patch: Partial<Omit<FixtureRecord, "id" | "lastModified">>, at: string) => Effect.Effect<void>
  readonly deactivate: (id: string, at: string) => Effect.Effect<void>
  readonly remove: (id: string, at: string) => Effect.Effect<void>
  /** A Host of owner "ACME Corp" that the source holds but that cannot be decoded. */
  readonly addUndecodable: (id: string, lastModified: string) => Effect.Effect<void>
}>() {}

export const policy = (input: PolicyInput): Policy => Schema.decodeUnknownSync(Policy)(input)
export const utc = (iso: string): DateTime.Utc => DateTime.unsafeMake(iso)

const run = (p: Policy, since: DateTime.Utc | null = null) =>
  Effect.gen(function* () {
    const source = yield* IndicatorSource
    return Chunk.toReadonlyArray(yield* Stream.runCollect(source.indicators({ policy: p, since })))
  })
const indicatorsOf = (items: ReadonlyArray<SourceItem>): ReadonlyArray<SourceIndicator> =>
  items.flatMap((i) => (i._tag === "Indicator" ? [i.indicator] : []))
const summaries = (items: ReadonlyArray<SourceItem>) => indicatorsOf(items).map((i) => i.summary)
const sorted = (xs: ReadonlyArray<string>) => [...xs].sort()

const ACME = "ACME Corp"
const DEMO = "Demo Community"
const ALL_TYPES = ["Address", "MD5", "SHA1", "SHA256", "Host", "URL"] as const
const MD5 = "f5a2496cf66cb8cffe66cb1b27d7dede"
const SHA256 = "7d5fffbfe8d098e369466164f705b4d692517a2b4659a03901daf67cf78a1b2c"

export const indicatorSourceConformance = (name: string, implementation: Layer.Layer<IndicatorSource | SourceFixture>) =>
  layer(implementation, { excludeTestServices: true })(`IndicatorSource conformance: ${name}`, (it) => {
    const fresh = Effect.flatMap(SourceFixture, (f) => f.reset)

    it.effect("streams the records the owners and types select, oldest lastModified first", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        yield* f.add({ ownerName: ACME, type: "Host", summary: "b.example", lastModified: "2025-01-02T00:00:00Z" })
        yield* f.add({ ownerName: ACME, type: "Address", summary: "8.8.4.4", lastModified: "2025-01-01T00:00:00Z" })
        yield* f.add({ ownerName: DEMO, type: "Host", summary: "other-owner.example", lastModified: "2025-01-01T00:00:00Z" })
        yield* f.add({ ownerName: ACME, type: "URL", summary: "https://not-selected.example/", lastModified: "2025-01-01T00:00:00Z" })
        const items = yield* run(policy({ owners: [ACME], indicatorTypes: ["Address", "Host"] }))
        expect(summaries(items)).toEqual(["8.8.4.4", "b.example"])
      }))

    it.effect("MD5, SHA1 and SHA256 all select File indicators; a File's hashes come out lower case", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        yield* f.add({ ownerName: ACME, type: "File", summary: `${MD5.toUpperCase()} : ${SHA256.toUpperCase()}`, lastModified: "2025-01-01T00:00:00Z" })
        yield* f.add({ ownerName: ACME, type: "Host", summary: "h.example", lastModified: "2025-01-01T00:00:00Z" })
        const items = indicatorsOf(yield* run(policy({ owners: [ACME], indicatorTypes: ["SHA256"] })))
        expect(items.map((i) => i.type)).toEqual(["File"])
        expect(items[0]?.fileHashes).toEqual({ md5: MD5, sha1: null, sha256: SHA256 })
      }))

    it.effect("tags are any-of; score, rating and confidence are minimums an unset value fails; false positives a maximum", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        const base = { ownerName: ACME, type: "Host", lastModified: "2025-01-01T00:00:00Z" } as const
        yield* f.add({ ...base, summary: "tagged.example", tags: ["Phishing", "Other"], rating: 4, confidence: 80, threatAssessScore: 700, falsePositives: 1 })
        yield* f.add({ ...base, summary: "untagged.example", tags: ["Other"], rating: 4, confidence: 80, threatAssessScore: 700 })
        yield* f.add({ ...base, summary: "low-rating.example", tags: ["APT28"], rating: 2, confidence: 80, threatAssessScore: 700 })
        yield* f.add({ ...base, summary: "no-rating.example", tags: ["APT28"], rating: null, confidence: 80, threatAssessScore: 700 })
        yield* f.add({ ...base, summary: "no-confidence.example", tags: ["APT28"], rating: 5, confidence: null, threatAssessScore: 700 })
        yield* f.add({ ...base, summary: "low-score.example", tags: ["APT28"], rating: 5, confidence: 90, threatAssessScore: 100 })
        yield* f.add({ ...base, summary: "false-positive.example", tags: ["APT28"], rating: 5, confidence: 90, threatAssessScore: 900, falsePositives: 3 })
        const items = yield* run(policy({
          owners: [ACME],
          indicatorTypes: ["Host"],
          tags: ["phishing", "APT28"],
          minThreatRating: 3,
          minConfidence: 50,
          minThreatAssessScore: 500,
          maxFalsePositives: 2
        }))
        expect(summaries(items)).toEqual(["tagged.example"])
        expect(indicatorsOf(items)[0]).toMatchObject({ rating: 4, confidence: 80, threatAssessScore: 700, falsePositives: 1 })
      }))

    it.effect("a raw TQL replaces the filters and is still ANDed with the watermark", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        yield* f.add({ ownerName: DEMO, type: "URL", summary: "https://raw.example/a", lastModified: "2025-03-01T00:00:00Z", rating: 5 })
        yield* f.add({ ownerName: DEMO, type: "URL", summary: "https://raw.example/old", lastModified: "2025-01-01T00:00:00Z", rating: 5 })
        yield* f.add({ ownerName: ACME, type: "Host", summary: "low.example", lastModified: "2025-03-01T00:00:00Z", rating: 1 })
        const p = policy({ owners: [], indicatorTypes: [], tql: `rating >= 4 OR summary = "low.example"` })
        expect(sorted(summaries(yield* run(p)))).toEqual(["https://raw.example/a", "https://raw.example/old", "low.example"])
        expect(sorted(summaries(yield* run(p, utc("2025-02-01T00:00:00Z"))))).toEqual(["https://raw.example/a", "low.example"])
      }))

    it.effect("incremental: only records modified at or after the watermark (same second included)", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        const p = policy({ owners: [ACME], indicatorTypes: ["Host"] })
        yield* f.add({ ownerName: ACME, type: "Host", summary: "old.example", lastModified: "2025-01-01T00:00:00Z" })
        const id = yield* f.add({ ownerName: ACME, type: "Host", summary: "changed.example", lastModified: "2025-01-01T00:00:00Z" })
        yield* f.add({ ownerName: ACME, type: "Host", summary: "same-second.example", lastModified: "2025-02-01T10:00:00Z" })
        yield* f.modify(id, { rating: 5 }, "2025-02-02T00:00:00Z")
        const since = utc("2025-02-01T10:00:00.750Z")
        const items = indicatorsOf(yield* run(p, since))
        expect(items.map((i) => i.summary)).toEqual(["same-second.example", "changed.example"])
        expect(items[1]?.rating).toBe(5)
        expect(items[1] && DateTime.formatIso(items[1].lastModified)).toBe("2025-02-02T00:00:00.000Z")
      }))

    it.effect("inactive records are not listed; deactivations and deletions since the watermark are", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        const source = yield* IndicatorSource
        const p = policy({ owners: [ACME], indicatorTypes: ["Host", "Address"] })
        const gone = yield* f.add({ ownerName: ACME, type: "Host", summary: "deleted.example", lastModified: "2025-01-01T00:00:00Z" })
        const off = yield* f.add({ ownerName: ACME, type: "Address", summary: "1.2.3.4", lastModified: "2025-01-01T00:00:00Z" })
        const oldGone = yield* f.add({ ownerName: ACME, type: "Host", summary: "long-ago.example", lastModified: "2024-01-01T00:00:00Z" })
        yield* f.add({ ownerName: ACME, type: "Host", summary: "kept.example", lastModified: "2025-01-01T00:00:00Z" })
        yield* f.remove(oldGone, "2024-06-01T00:00:00Z")
        yield* f.remove(gone, "2025-02-01T00:00:00Z")
        yield* f.deactivate(off, "2025-02-02T00:00:00Z")
        expect(summaries(yield* run(p))).toEqual(["kept.example"])
        const deletions = Chunk.toReadonlyArray(yield* Stream.runCollect(source.deletions(utc("2025-01-15T00:00:00Z"))))
        expect(deletions.map((d) => [d.reason, d.ownerName, d.type, d.summary])).toEqual([
          ["deleted", ACME, "Host", "deleted.example"],
          ["deactivated", ACME, "Address", "1.2.3.4"]
        ])
        expect(deletions[1]?.indicatorId).toBe(off)
      }))

    it.effect("a record that cannot be decoded is a rejection with its raw id, and the stream goes on", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        yield* f.add({ ownerName: ACME, type: "Host", summary: "before.example", lastModified: "2025-01-01T00:00:00Z" })
        yield* f.addUndecodable("9007199254918401", "2025-01-02T00:00:00Z")
        yield* f.add({ ownerName: ACME, type: "Host", summary: "after.example", lastModified: "2025-01-03T00:00:00Z" })
        const items = yield* run(policy({ owners: [ACME], indicatorTypes: ["Host"] }))
        expect(sorted(summaries(items))).toEqual(["after.example", "before.example"])
        const rejected = items.flatMap((i) => (i._tag === "Rejected" ? [i.rejection] : []))
        expect(rejected.map((r) => r.rawId)).toEqual(["9007199254918401"])
        expect(rejected[0]?.reason.length).toBeGreaterThan(0)
      }))

    it.effect("ids above 2^53 stay exact: 9007199254918487 and 9007199254918489 are distinct", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        yield* f.add({ id: "9007199254918487", ownerName: ACME, type: "Host", summary: "a.example", lastModified: "2025-01-01T00:00:00Z" })
        yield* f.add({ id: "9007199254918489", ownerName: DEMO, type: "Host", summary: "a.example", lastModified: "2025-01-01T00:00:01Z" })
        const items = indicatorsOf(yield* run(policy({ owners: [ACME, DEMO], indicatorTypes: ["Host"] })))
        expect(items.map((i) => i.id)).toEqual(["9007199254918487", "9007199254918489"])
      }))

    it.effect("many records come through complete and in order (several pages for the adapter)", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        const expected: Array<string> = []
        for (let i = 0; i < 25; i++) {
          const summary = `host${String(i).padStart(2, "0")}.example`
          expected.push(summary)
          yield* f.add({ ownerName: ACME, type: "Host", summary, lastModified: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() })
        }
        expect(summaries(yield* run(policy({ owners: [ACME], indicatorTypes: ALL_TYPES })))).toEqual(expected)
      }))

    it.effect("a policy with no owner selects nothing", () =>
      Effect.gen(function* () {
        yield* fresh
        const f = yield* SourceFixture
        yield* f.add({ ownerName: ACME, type: "Host", summary: "x.example", lastModified: "2025-01-01T00:00:00Z" })
        expect(yield* run(policy({ owners: [], indicatorTypes: ALL_TYPES }))).toEqual([])
      }))

    it.effect("a TQL the source cannot parse fails with a SourceQueryError quoting the query", () =>
      Effect.gen(function* () {
        yield* fresh
        const result = yield* Effect.either(run(policy({ tql: `summary = "unterminated` })))
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) {
          expect(result.left._tag).toBe("SourceQueryError")
          if (result.left._tag === "SourceQueryError") expect(result.left.tql).toContain(`summary = "unterminated`)
          expect(result.left.message).toContain(`summary = "unterminated`)
        }
      }))

    it.effect("requestCount counts the requests made", () =>
      Effect.gen(function* () {
        yield* fresh
        const source = yield* IndicatorSource
        const before = yield* source.requestCount
        yield* run(policy({ owners: [ACME], indicatorTypes: ["Host"] }))
        expect(yield* source.requestCount).toBeGreaterThan(before)
      }))
  })
