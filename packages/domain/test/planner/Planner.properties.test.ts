import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import {
  compareRankedKeys,
  type ForeignIndicator,
  type IndicatorStateRow,
  isFileIndicatorType,
  normalizeIndicatorValue,
  PolicyAction,
  plan,
  type Plan,
  type PlanInput,
  type Policy,
  type PolicyInput,
  type RankedKey,
  type SourceDeletion,
  type SourceIndicator,
  validateDefenderPayload
} from "@tisync/domain"
import { applyPlan, days, input, policy, record, RUN_2, T0 } from "./PlannerFixtures.js"

// --- a small universe, so that keys collide across owners, runs and Defender ----------------------

const OWNERS = [
  ["ACME Corp", "10"],
  ["Beta", "20"],
  ["Gamma", "30"]
] as const

const kindArb = fc.oneof(
  fc.constantFrom("8.8.8.8", "1.1.1.1", "9.9.9.9", "4.4.4.4", "2001:4860:4860::8888", "10.0.0.1", "8.8.8.0/24").map(
    (summary) => ({ type: "Address", summary, fileHashes: null })
  ),
  fc.constantFrom("evil.example.com", "EVIL.example.com.", "bad.test.org", "localhost").map((summary) => ({
    type: "Host",
    summary,
    fileHashes: null
  })),
  fc.constantFrom("http://evil.example.com/a", "https://bad.test.org/x?y=1", "ftp://x.example.com/").map((summary) => ({
    type: "URL",
    summary,
    fileHashes: null
  })),
  fc
    .record({
      md5: fc.constantFrom("a".repeat(32), "B".repeat(32), "zz", null),
      sha1: fc.constantFrom("c".repeat(40), null),
      sha256: fc.constantFrom("d".repeat(64), "e".repeat(64), null)
    })
    .map((fileHashes) => ({ type: "File", summary: "", fileHashes })),
  fc.constant({ type: "EmailAddress", summary: "x@example.com", fileHashes: null })
)

const recordArb: fc.Arbitrary<SourceIndicator> = fc
  .record({
    id: fc.integer({ min: 1, max: 12 }),
    owner: fc.constantFrom(...OWNERS),
    kind: kindArb,
    active: fc.constantFrom(true, true, true, false),
    rating: fc.constantFrom(null, 0, 1, 2, 2.5, 3, 4, 5),
    confidence: fc.constantFrom(null, 10, 50, 90),
    threatAssessScore: fc.constantFrom(null, 100, 500, 900),
    falsePositives: fc.constantFrom(null, 0, 2),
    tags: fc.subarray(["apt", "phish", "c2"]),
    modified: fc.integer({ min: -5, max: 0 })
  })
  .map((r) =>
    record({
      id: String(r.id),
      ownerName: r.owner[0],
      ownerId: r.owner[1],
      type: r.kind.type,
      summary: r.kind.summary,
      fileHashes: r.kind.fileHashes,
      active: r.active,
      rating: r.rating,
      confidence: r.confidence,
      threatAssessScore: r.threatAssessScore,
      falsePositives: r.falsePositives,
      tags: r.tags,
      lastModified: days(r.modified)
    })
  )

const policyArb = fc
  .record({
    owners: fc.oneof({ arbitrary: fc.constant(["ACME Corp", "Beta"]), weight: 3 }, { arbitrary: fc.subarray(["ACME Corp", "Beta"]), weight: 1 }),
    indicatorTypes: fc.oneof(
      { arbitrary: fc.constant(["Address", "MD5", "SHA1", "SHA256", "Host", "URL"] as const), weight: 3 },
      { arbitrary: fc.subarray(["Address", "MD5", "SHA1", "SHA256", "Host", "URL"] as const), weight: 1 }
    ),
    tags: fc.constantFrom<ReadonlyArray<string>>([], [], [], ["apt"], ["apt", "c2"]),
    minThreatRating: fc.constantFrom(null, 2),
    action: fc.constantFrom(...PolicyAction.literals),
    evict: fc.boolean(),
    indicatorReserveCount: fc.constantFrom(0, 0, 0, 14_990, 14_995, 14_997, 14_999, 15_000, 16_000),
    renewWithinDays: fc.constantFrom(0, 5, 20),
    expirationDays: fc.constantFrom({ file: 30, network: 30 }, { file: 3, network: 10 }),
    tql: fc.constantFrom(null, null, null, "rating >= 1")
  })
  .map((p) => policy({ ...p, owners: [...p.owners], indicatorTypes: [...p.indicatorTypes], tags: [...p.tags] } satisfies Partial<PolicyInput>))

const foreignArb: fc.Arbitrary<ReadonlyArray<ForeignIndicator>> = fc.subarray([
  { indicatorType: "IpAddress", value: "8.8.8.8", action: "Allowed", defenderId: "900", createdBy: "other-app" },
  { indicatorType: "DomainName", value: "evil.example.com", action: "Block", defenderId: "901", createdBy: "analyst" },
  { indicatorType: "FileSha256", value: "D".repeat(64), action: "Block", defenderId: "902", createdBy: null },
  { indicatorType: "CertificateThumbprint", value: "f".repeat(40), action: "Allowed", defenderId: "903", createdBy: "x" }
])

const deletionsArb: fc.Arbitrary<ReadonlyArray<SourceDeletion>> = fc.subarray([
  { ownerName: "ACME Corp", type: "Address", summary: "8.8.8.8", deletedAt: T0 },
  { ownerName: "Beta", type: "Host", summary: "evil.example.com", deletedAt: T0 },
  { ownerName: "ACME Corp", type: "File", summary: `${"a".repeat(32)} : ${"d".repeat(64)}`, deletedAt: T0 }
])

/** A run's input drawn from a pool of records, so that runs see the same records again (some changed). */
const runArb = (pool: ReadonlyArray<SourceIndicator>, basePolicy: fc.Arbitrary<Policy>) =>
  fc.record({
    candidates: fc
      .tuple(fc.subarray([...pool]), fc.boolean(), fc.array(recordArb, { maxLength: 3 }))
      .map(([returned, changed, extra]) => [
        ...(changed ? returned.map((r) => ({ ...r, rating: r.rating === 5 ? 1 : 5, lastModified: days(0) })) : returned),
        ...extra
      ]),
    policy: fc.oneof({ arbitrary: basePolicy, weight: 3 }, { arbitrary: policyArb, weight: 1 }),
    foreign: foreignArb,
    deletions: deletionsArb,
    mode: fc.constantFrom("incremental" as const, "full" as const)
  })

/**
 * One to three earlier runs, each applied (the last one may crash before its calls), days apart, then
 * the input under test: the rows reach every state a real history reaches.
 */
const scenarioArb: fc.Arbitrary<PlanInput> = fc
  .tuple(fc.array(recordArb, { minLength: 1, maxLength: 14 }), policyArb)
  .chain(([pool, base]) =>
    fc.record({
      history: fc.array(fc.record({ run: runArb(pool, fc.constant(base)), gapDays: fc.constantFrom(0, 1, 8, 26, 29, 40) }), {
        minLength: 1,
        maxLength: 3
      }),
      crash: fc.boolean(),
      next: runArb(pool, fc.constant(base)),
      laterDays: fc.constantFrom(0, 1, 8, 26, 29, 40)
    })
  )
  .map(({ crash, history, laterDays, next }) => {
    let current: ReadonlyArray<IndicatorStateRow> = []
    let now = T0
    history.forEach(({ gapDays, run }, n) => {
      now = days(gapDays, now)
      const i = input({ ...run, current, now })
      current = applyPlan(plan(i), current, now, { crashBeforeCalls: crash && n === history.length - 1 })
    })
    return input({ ...next, current, now: days(laterDays, now) })
  })

export const scenarioArbForStats = scenarioArb

/** The same input with every list in another order. */
const shuffledArb = scenarioArb.chain((i) =>
  fc
    .record({
      candidates: fc.shuffledSubarray([...i.candidates], { minLength: i.candidates.length, maxLength: i.candidates.length }),
      current: fc.shuffledSubarray([...i.current], { minLength: i.current.length, maxLength: i.current.length }),
      foreign: fc.shuffledSubarray([...i.foreign], { minLength: i.foreign.length, maxLength: i.foreign.length }),
      deletions: fc.shuffledSubarray([...i.deletions], { minLength: i.deletions.length, maxLength: i.deletions.length })
    })
    .map((lists) => [i, { ...i, ...lists }] as const)
)

const sends = (p: Plan) => [...p.create, ...p.update, ...p.renew, ...p.retry]
const RUNS = { numRuns: 300 }

describe("planner properties", () => {
  it("is deterministic: the same input, in any order, yields the same plan", () => {
    fc.assert(
      fc.property(shuffledArb, ([a, b]) => {
        expect(plan(b)).toEqual(plan(a))
      }),
      RUNS
    )
  })

  it("never plans more live indicators than capacity", () => {
    fc.assert(
      fc.property(scenarioArb, (i) => {
        const p = plan(i)
        const after = applyPlan(p, i.current, i.now, { runId: RUN_2 })
        expect(after.filter((r) => r.status === "live").length).toBe(p.quota.live)
        // A mapping never confirmed may be in Defender already: it takes a slot too.
        const held = after.filter((r) => r.status === "live" || r.pending !== null).length
        if (i.policy.indicatorReserveCount > p.quota.limit) {
          expect(sends(p)).toEqual([])
        } else {
          expect(held).toBeLessThanOrEqual(p.quota.capacity)
        }
      }),
      RUNS
    )
  })

  it("never sends a value that normalization rejects, nor a payload Defender would refuse", () => {
    fc.assert(
      fc.property(scenarioArb, (i) => {
        for (const item of sends(plan(i))) {
          const normalized = normalizeIndicatorValue(item.key.indicatorType, item.payload.indicatorValue)
          expect(Either.getOrNull(normalized)).toBe(item.key.value)
          expect(Either.isRight(validateDefenderPayload(item.payload))).toBe(true)
          expect(["Alert", "AlertAndBlock"]).not.toContain(item.payload.action)
          if (item.payload.action === "Audit") expect(item.payload.generateAlert).toBe(true)
          if (item.payload.action === "BlockAndRemediate") expect(isFileIndicatorType(item.key.indicatorType)).toBe(true)
        }
      }),
      RUNS
    )
  })

  it("applying a plan and planning again with the same input writes nothing", () => {
    fc.assert(
      fc.property(scenarioArb, (i) => {
        const p = plan(i)
        const after = applyPlan(p, i.current, i.now, { runId: RUN_2 })
        const again = plan({ ...i, current: after })
        const writes = {
          create: again.create,
          update: again.update,
          renew: again.renew,
          revoke: again.revoke,
          retry: again.retry,
          selected: again.selected,
          duplicate: again.duplicate,
          reject: again.reject,
          defer: again.defer,
          expire: again.expire
        }
        expect(writes).toEqual({
          create: [],
          update: [],
          renew: [],
          revoke: [],
          retry: [],
          selected: [],
          duplicate: [],
          reject: [],
          defer: [],
          expire: []
        })
      }),
      RUNS
    )
  })
})

describe("ranking", () => {
  const rankedKeyArb: fc.Arbitrary<RankedKey> = fc.record({
    rank: fc.record({
      threatAssessScore: fc.constantFrom(null, Number.NaN, 0, 100, 500),
      rating: fc.constantFrom(null, 0, 2.5, 5),
      confidence: fc.constantFrom(null, 0, 50),
      lastModified: fc.constantFrom(days(-2), days(-1), T0)
    }),
    key: fc.record({ indicatorType: fc.constantFrom("IpAddress", "Url"), value: fc.constantFrom("a", "b", "B") })
  })
  const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0)

  it("ranking is a total order: reflexive, antisymmetric, transitive, total", () => {
    fc.assert(
      fc.property(rankedKeyArb, rankedKeyArb, rankedKeyArb, (a, b, c) => {
        expect(compareRankedKeys(a, a)).toBe(0)
        expect(sign(compareRankedKeys(a, b)) + sign(compareRankedKeys(b, a))).toBe(0)
        if (compareRankedKeys(a, b) <= 0 && compareRankedKeys(b, c) <= 0) {
          expect(compareRankedKeys(a, c)).toBeLessThanOrEqual(0)
        }
        if (compareRankedKeys(a, b) === 0) expect(a.key).toEqual(b.key)
      }),
      { numRuns: 2000 }
    )
  })

  it("ranks by score, rating, confidence, last modified descending, unset lowest, then key ascending", () => {
    const k = (value: string, threatAssessScore: number | null, rating: number | null = 3): RankedKey => ({
      rank: { threatAssessScore, rating, confidence: 50, lastModified: T0 },
      key: { indicatorType: "IpAddress", value }
    })
    const sorted = [k("d", null), k("c", 100), k("b", 900, 1), k("a", 900, 4), k("e", 100)].sort(compareRankedKeys)
    expect(sorted.map((x) => x.key.value)).toEqual(["a", "b", "c", "e", "d"])
  })
})
