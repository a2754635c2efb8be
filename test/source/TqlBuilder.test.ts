import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, FastCheck as fc, Schema, Stream } from "effect"
import { IndicatorSourceMemory, IndicatorSourceMemoryControl, ThreatConnectTql } from "@tisync/adapters"
import {
  buildTql,
  escapeTqlString,
  formatTqlDateTime,
  IndicatorSource,
  matchesPolicy,
  Policy,
  PolicyIndicatorType,
  policyMismatches,
  SourceIndicatorId,
  tqlString,
  type SourceIndicator
} from "@tisync/domain"
import { policy, utc } from "./IndicatorSourceConformance.js"

const language = ThreatConnectTql.indicatorTqlLanguage
const tqlOf = (p: Policy, since: DateTime.Utc | null = null) => {
  const q = buildTql(p, since)
  return q._tag === "Query" ? q.tql : `<nothing: ${q.reason}>`
}

describe("TQL builder", () => {
  it("emits every filter, escaped, joined with AND, with a seconds-precision watermark", () => {
    const p = policy({
      owners: ["ACME Corp", `Demo "Quoted" Org`],
      indicatorTypes: ["URL", "MD5", "SHA256", "Address", "Host"],
      tags: ["APT28", "back\\slash"],
      minThreatAssessScore: 500,
      minThreatRating: 3,
      minConfidence: 50,
      maxFalsePositives: 2
    })
    expect(tqlOf(p, utc("2024-05-01T12:34:56.789Z"))).toBe(
      `ownerName IN ("ACME Corp","Demo \\"Quoted\\" Org") AND typeName IN ("Address","File","Host","URL") AND ` +
        `tag IN ("APT28","back\\\\slash") AND threatAssessScore >= 500 AND rating >= 3 AND confidence >= 50 AND ` +
        `falsePositiveCount <= 2 AND lastModified >= "2024-05-01T12:34:56Z"`
    )
  })

  it("a raw TQL replaces the filters, parenthesised, and keeps the incremental clause", () => {
    const p = policy({ owners: ["ACME Corp"], tags: ["x"], tql: `rating >= 4 OR tag = "y"` })
    expect(tqlOf(p)).toBe(`(rating >= 4 OR tag = "y")`)
    expect(tqlOf(p, utc("2025-01-01T00:00:00Z"))).toBe(`(rating >= 4 OR tag = "y") AND lastModified >= "2025-01-01T00:00:00Z"`)
  })

  it("no owner or no type (and no TQL) matches nothing, with the reason", () => {
    expect(buildTql(policy({ owners: [] }), null)).toMatchObject({ _tag: "MatchesNothing", reason: expect.stringContaining("owner") })
    expect(buildTql(policy({ owners: ["A"], indicatorTypes: [] }), null)).toMatchObject({ _tag: "MatchesNothing", reason: expect.stringContaining("type") })
  })

  it("dates: milliseconds are dropped, never rounded up", () => {
    expect(formatTqlDateTime(utc("2024-12-31T23:59:59.999Z"))).toBe("2024-12-31T23:59:59Z")
    expect(formatTqlDateTime(utc("2024-01-01T00:00:00Z"))).toBe("2024-01-01T00:00:00Z")
  })

  it("the documented escapes", () => {
    expect(escapeTqlString(`a"b'c\`d\\e`)).toBe(`a\\"b\\'c\\\`d\\\\e`)
  })

  it("the simulator refuses a date with milliseconds, as ThreatConnect does", () => {
    expect(() => ThreatConnectTql.parseTql(`lastModified >= "2024-01-01T00:00:00.000Z"`, language)).toThrow(/invalid date/)
  })

  it.prop("any string value round-trips through escaping", [fc.fullUnicodeString()], ([value]) => {
    const expr = ThreatConnectTql.parseTql(`summary = ${tqlString(value)}`, language)
    expect(expr).toEqual({ _tag: "Compare", keyword: "summary", op: "=", values: [value] })
  }, { fastCheck: { numRuns: 500 } })

  it.prop("any owners and tags round-trip through the builder's lists", [fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }), fc.array(fc.fullUnicodeString({ minLength: 1 }), { maxLength: 3 })], ([owners, tags]) => {
    const expr = ThreatConnectTql.parseTql(tqlOf(policy({ owners, tags })), language)
    const lists: Array<ReadonlyArray<unknown>> = []
    const walk = (e: ThreatConnectTql.TqlExpr): void => {
      if (e._tag === "And") {
        walk(e.left)
        walk(e.right)
      } else if (e._tag === "Compare" && e.op === "in") lists.push(e.values)
    }
    walk(expr)
    expect(lists[0]).toEqual([...new Set(owners)])
    if (tags.length > 0) expect(lists[2]).toEqual([...new Set(tags)])
  }, { fastCheck: { numRuns: 200 } })
})

// ------------------------------------------------------------------------------------------ SourceFilter

const arbRecord: fc.Arbitrary<SourceIndicator> = fc.record({
  id: fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map((n) => SourceIndicatorId.make(String(n))),
  ownerName: fc.constantFrom("ACME Corp", "Demo Community", "Other"),
  type: fc.constantFrom("Address", "Host", "URL", "File", "CIDR"),
  active: fc.boolean(),
  rating: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  confidence: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
  threatAssessScore: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
  falsePositives: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  tags: fc.subarray(["APT28", "phishing", "Botnet", "C2"])
}).map((r) => ({
  ...r,
  ownerId: "1",
  summary: "value",
  fileHashes: null,
  dateAdded: DateTime.unsafeMake(0),
  lastModified: DateTime.unsafeMake(0),
  securityLabels: [],
  attributes: [],
  webLink: null
}))

const arbPolicy: fc.Arbitrary<Policy> = fc.record({
  owners: fc.subarray(["ACME Corp", "Demo Community"], { minLength: 1 }),
  indicatorTypes: fc.subarray([...PolicyIndicatorType.literals], { minLength: 1 }),
  tags: fc.subarray(["APT28", "Phishing", "c2"]),
  minThreatAssessScore: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
  minThreatRating: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  minConfidence: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
  maxFalsePositives: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null })
}).map((input) => Schema.decodeUnknownSync(Policy)(input))

const selectedBySource = (p: Policy, record: SourceIndicator): boolean =>
  Effect.gen(function* () {
    const control = yield* IndicatorSourceMemoryControl
    yield* control.put(record)
    const source = yield* IndicatorSource
    return (yield* Stream.runCollect(source.indicators({ policy: p, since: null }))).length > 0
  }).pipe(Effect.provide(IndicatorSourceMemory), Effect.runSync)

describe("SourceFilter: the domain re-check of the policy", () => {
  it("names every filter a record fails", () => {
    const p = policy({ owners: ["ACME Corp"], indicatorTypes: ["Host"], tags: ["APT28"], minThreatRating: 3, minConfidence: 50, minThreatAssessScore: 100, maxFalsePositives: 0 })
    const record: SourceIndicator = {
      id: SourceIndicatorId.make("1"), ownerId: "2", ownerName: "Other", type: "URL", summary: "x", fileHashes: null,
      dateAdded: DateTime.unsafeMake(0), lastModified: DateTime.unsafeMake(0), active: false, rating: null, confidence: 10,
      threatAssessScore: null, falsePositives: 1, tags: ["C2"], securityLabels: [], attributes: [], webLink: null
    }
    expect(policyMismatches(p, record)).toEqual(["inactive", "owner", "type", "tags", "threatAssessScore", "rating", "confidence", "falsePositives"])
    expect(matchesPolicy(p, { ...record, active: true, ownerName: "ACME Corp", type: "Host", rating: 3, confidence: 50, threatAssessScore: 100, falsePositives: null, tags: ["apt28"] })).toBe(true)
  })

  it("a raw TQL policy only checks activity (the TQL is ThreatConnect's to interpret)", () => {
    const p = policy({ tql: "rating >= 5" })
    const base = { id: SourceIndicatorId.make("1"), ownerId: "1", ownerName: "X", type: "Host", summary: "x", fileHashes: null, dateAdded: DateTime.unsafeMake(0), lastModified: DateTime.unsafeMake(0), rating: 1, confidence: null, threatAssessScore: null, falsePositives: null, tags: [], securityLabels: [], attributes: [], webLink: null }
    expect(matchesPolicy(p, { ...base, active: true })).toBe(true)
    expect(policyMismatches(p, { ...base, active: false })).toEqual(["inactive"])
  })

  it.prop("agrees with the TQL the source is queried with, for any policy and record", [arbPolicy, arbRecord], ([p, record]) => {
    expect(matchesPolicy(p, record)).toBe(selectedBySource(p, record))
  }, { fastCheck: { numRuns: 300 } })
})
