import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { plan, planCounts, planHasNoWrites, planIntents, type SourceDeletion } from "@tisync/domain"
import { applyPlan, days, input, policy, record, rowOf, RUN_1, RUN_2, runOnce, T0 } from "./PlannerFixtures.js"

const ip = (id: string, summary: string, extra: Parameters<typeof record>[0] = {}) =>
  record({ id, summary, ...extra })

describe("planner rules", () => {
  it("a new selected record is selected, mapped and created", () => {
    const p = plan(input({ candidates: [ip("1", "8.8.8.8")] }))
    expect(p.selected.map((s) => s.key.value)).toEqual(["8.8.8.8"])
    expect(p.create.map((c) => [c.key.value, c.intent, c.expectedVersion])).toEqual([["8.8.8.8", "create", 0]])
    expect(planCounts(p)).toMatchObject({ selected: 1, submitted: 1, revoked: 0 })
    const intents = planIntents(p, RUN_1, T0)
    expect(intents.map((i) => i.events.map((e) => e._tag))).toEqual([["IndicatorSelected", "IndicatorMapped"]])
  })

  it("an immediate re-run writes nothing", () => {
    const first = input({ candidates: [ip("1", "8.8.8.8"), ip("2", "1.1.1.1")] })
    const { rows } = runOnce(plan, first)
    const again = plan({ ...first, current: rows })
    expect(planHasNoWrites(again)).toBe(true)
    expect(again.selected).toEqual([])
    expect(planCounts(again)).toMatchObject({ unchanged: 2, submitted: 0 })
  })

  it("a changed payload is an update in place", () => {
    const first = input({ candidates: [ip("1", "8.8.8.8", { rating: 1 })] })
    const { rows } = runOnce(plan, first)
    const p = plan({ ...first, current: rows, candidates: [ip("1", "8.8.8.8", { rating: 5, lastModified: T0 })] })
    expect(p.selected).toHaveLength(1)
    expect(p.update.map((u) => [u.key.value, u.payload.severity, u.defenderId !== null])).toEqual([["8.8.8.8", "High", true]])
    expect(p.create).toEqual([])
    expect(p.revoke).toEqual([])
  })

  it("a changed action is revoke + submit", () => {
    const first = input({ candidates: [ip("1", "8.8.8.8")], policy: policy({ action: "Block" }) })
    const { rows } = runOnce(plan, first)
    const second = { ...first, current: rows, policy: policy({ action: "Alert" }) }
    const p = plan(second)
    expect(p.revoke.map((r) => [r.key.value, r.reason, r.action])).toEqual([["8.8.8.8", "action-changed", "Block"]])
    expect(p.create.map((c) => [c.key.value, c.payload.action, c.replaces?.action])).toEqual([["8.8.8.8", "Audit", "Block"]])
    expect(planCounts(p)).toMatchObject({ revoked: 1, submitted: 1 })
    const [intent] = planIntents(p, RUN_2, T0)
    expect(intent?.events).toEqual([])
    expect(intent?.withRevoke.map((e) => e._tag)).toEqual(["IndicatorMapped"])
    const after = applyPlan(p, rows, T0, { runId: RUN_2 })
    expect(rowOf(after, "8.8.8.8")).toMatchObject({ status: "live", action: "Audit" })
    expect(planHasNoWrites(plan({ ...second, current: after }))).toBe(true)
  })

  it("duplicates across owners: the highest-ranked record wins, the others are recorded once", () => {
    const p0 = policy({ owners: ["ACME Corp", "Beta"] })
    const acme = ip("1", "8.8.8.8", { threatAssessScore: 300 })
    const beta = ip("2", "8.8.8.8", { ownerName: "Beta", ownerId: "20", threatAssessScore: 900 })
    const first = input({ candidates: [acme, beta], policy: p0 })
    const { plan: p, rows } = runOnce(plan, first)
    expect(p.create.map((c) => c.source?.ownerName)).toEqual(["Beta"])
    expect(p.duplicate.map((d) => [d.source?.ownerName, d.claimedBy])).toEqual([["ACME Corp", "source"]])
    expect(planCounts(p)).toMatchObject({ submitted: 1, rejectedDuplicate: 1 })
    expect(rowOf(rows, "8.8.8.8")).toMatchObject({ status: "live", duplicateSources: ["1"] })
    const again = plan({ ...first, current: rows })
    expect(again.duplicate).toEqual([])
    expect(planHasNoWrites(again)).toBe(true)
  })

  it("a key another app holds in Defender is a duplicate and is not overwritten", () => {
    const first = input({
      candidates: [ip("1", "8.8.8.8"), ip("2", "1.1.1.1")],
      foreign: [{ indicatorType: "IpAddress", value: "8.8.8.8", action: "Allowed", defenderId: "77", createdBy: "other-app" }]
    })
    const { plan: p, rows } = runOnce(plan, first)
    expect(p.create.map((c) => c.key.value)).toEqual(["1.1.1.1"])
    expect(p.duplicate.map((d) => [d.key.value, d.claimedBy, d.holder])).toEqual([["8.8.8.8", "defender", "other-app"]])
    expect(rowOf(rows, "8.8.8.8")?.status).toBe("duplicate")
    const again = plan({ ...first, current: rows })
    expect(again.duplicate).toEqual([])
    expect(planHasNoWrites(again)).toBe(true)
  })

  it("a reserve above 15,000 sends nothing and says why", () => {
    const p = plan(input({ candidates: [ip("1", "8.8.8.8")], policy: policy({ indicatorReserveCount: 15_001 }) }))
    expect(p.quota).toEqual({ limit: 15_000, reserve: 15_001, foreign: 0, live: 0, capacity: 0 })
    expect(p.create).toEqual([])
    expect(p.defer.map((d) => d.key.value)).toEqual(["8.8.8.8"])
    expect(p.notes.some((n) => n.includes("indicatorReserveCount 15001"))).toBe(true)
  })

  it("capacity is 15,000 minus the reserve minus foreign indicators; the rest is deferred by rank", () => {
    const foreign = [
      { indicatorType: "IpAddress", value: "4.4.4.4", action: "Block", defenderId: "1", createdBy: "x" },
      { indicatorType: "Url", value: "http://other.example.com/", action: "Block", defenderId: "2", createdBy: "x" }
    ]
    const candidates = [
      ip("1", "8.8.8.8", { threatAssessScore: 100 }),
      ip("2", "1.1.1.1", { threatAssessScore: 900 }),
      ip("3", "9.9.9.9", { threatAssessScore: 500 })
    ]
    const p = plan(input({ candidates, foreign, policy: policy({ indicatorReserveCount: 14_996 }) }))
    expect(p.quota).toEqual({ limit: 15_000, reserve: 14_996, foreign: 2, live: 2, capacity: 2 })
    expect(p.create.map((c) => c.key.value)).toEqual(["1.1.1.1", "9.9.9.9"])
    expect(p.defer.map((d) => [d.key.value, d.capacity])).toEqual([["8.8.8.8", 2]])
    expect(planCounts(p)).toMatchObject({ submitted: 2, deferredQuota: 1 })
  })

  it("without evict a live indicator is never displaced by a new one", () => {
    const p0 = policy({ indicatorReserveCount: 14_999 })
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8", { threatAssessScore: 10 })], policy: p0 }))
    const p = plan(input({ current: rows, candidates: [ip("2", "1.1.1.1", { threatAssessScore: 999 })], policy: p0 }))
    expect(p.revoke).toEqual([])
    expect(p.create).toEqual([])
    expect(p.defer.map((d) => d.key.value)).toEqual(["1.1.1.1"])
  })

  it("evict replaces the lowest-ranked live indicator with a higher-ranked candidate", () => {
    const p0 = policy({ indicatorReserveCount: 14_999, evict: true })
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8", { threatAssessScore: 10 })], policy: p0 }))
    const second = input({ current: rows, candidates: [ip("2", "1.1.1.1", { threatAssessScore: 999 })], policy: p0 })
    const p = plan(second)
    expect(p.revoke.map((r) => [r.key.value, r.reason])).toEqual([["8.8.8.8", "evicted"]])
    expect(p.create.map((c) => c.key.value)).toEqual(["1.1.1.1"])
    expect(p.quota.live).toBe(1)
    const after = applyPlan(p, rows, T0, { runId: RUN_2 })
    expect(planHasNoWrites(plan({ ...second, current: after }))).toBe(true)
  })

  it("renewal resubmits a live indicator within renewWithinDays of expiry, even when its record did not come back", () => {
    const p0 = policy({ renewWithinDays: 5, expirationDays: { file: 30, network: 30 } })
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8")], policy: p0 }))
    const later = days(26)
    const p = plan(input({ current: rows, candidates: [], policy: p0, now: later }))
    expect(p.renew.map((r) => [r.key.value, r.intent, r.payload.expirationTime])).toEqual([
      ["8.8.8.8", "renew", "2026-04-26T12:00:00Z"]
    ])
    expect(planCounts(p)).toMatchObject({ renewed: 1, submitted: 0, updated: 0 })
    const notYet = plan(input({ current: rows, candidates: [], policy: p0, now: days(20) }))
    expect(notYet.renew).toEqual([])
    const disabled = plan(input({ current: rows, candidates: [], policy: policy({ renewWithinDays: 0 }), now: later }))
    expect(disabled.renew).toEqual([])
  })

  it("expiry: a live indicator past its expiration is expired, and re-created while still selected", () => {
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8"), ip("2", "1.1.1.1")] }))
    const later = days(31)
    const p = plan(input({ current: rows, candidates: [ip("1", "8.8.8.8")], mode: "incremental", now: later }))
    expect(p.expire.map((e) => e.key.value)).toEqual(["1.1.1.1", "8.8.8.8"])
    // Both are still selected (the incremental run keeps 1.1.1.1's state): both are sent again.
    expect(p.create.map((c) => c.key.value)).toEqual(["1.1.1.1", "8.8.8.8"])
    expect(planCounts(p)).toMatchObject({ expired: 2, submitted: 2 })
    const [first] = planIntents(p, RUN_2, later)
    expect(first?.events.map((e) => e._tag)).toEqual(["IndicatorExpired", "IndicatorMapped"])
  })

  it("deselection: a returned record that no longer matches the policy is revoked on an incremental run", () => {
    const p0 = policy({ minThreatRating: 3 })
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8", { rating: 4 })], policy: p0 }))
    const p = plan(input({ current: rows, candidates: [ip("1", "8.8.8.8", { rating: 2 })], policy: p0 }))
    expect(p.revoke.map((r) => [r.key.value, r.reason, r.defenderId !== null])).toEqual([["8.8.8.8", "deselected", true]])
    expect(p.revoke[0]?.detail).toContain("rating")
  })

  it("deselection: a full run revokes live keys whose record did not come back; an incremental run keeps them", () => {
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8"), ip("2", "1.1.1.1")] }))
    const full = plan(input({ current: rows, candidates: [ip("1", "8.8.8.8")], mode: "full" }))
    expect(full.revoke.map((r) => [r.key.value, r.reason])).toEqual([["1.1.1.1", "deselected"]])
    const incremental = plan(input({ current: rows, candidates: [ip("1", "8.8.8.8")], mode: "incremental" }))
    expect(incremental.revoke).toEqual([])
    expect(incremental.unchanged.map((u) => u.key.value)).toEqual(["1.1.1.1", "8.8.8.8"])
  })

  it("deletion in source revokes the key (deleted-in-source)", () => {
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8")] }))
    const deletion: SourceDeletion = { ownerName: "ACME Corp", type: "Address", summary: "8.8.8.8", deletedAt: T0 }
    const p = plan(input({ current: rows, deletions: [deletion] }))
    expect(p.revoke.map((r) => [r.key.value, r.reason])).toEqual([["8.8.8.8", "deleted-in-source"]])
    // Another owner's deletion of the same value does not touch it.
    const other = plan(input({ current: rows, deletions: [{ ...deletion, ownerName: "Beta" }] }))
    expect(other.revoke).toEqual([])
  })

  it("an inactive record is revoked as deleted in source", () => {
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8")] }))
    const p = plan(input({ current: rows, candidates: [ip("1", "8.8.8.8", { active: false })] }))
    expect(p.revoke.map((r) => [r.key.value, r.reason])).toEqual([["8.8.8.8", "deleted-in-source"]])
  })

  it("retry of pending: a mapping never confirmed (a crash) is finished by the next run", () => {
    const first = input({ candidates: [ip("1", "8.8.8.8")] })
    const crashed = applyPlan(plan(first), [], T0, { crashBeforeCalls: true })
    expect(rowOf(crashed, "8.8.8.8")?.pending?.intent).toBe("create")
    const p = plan({ ...first, current: crashed, candidates: [] })
    expect(p.retry.map((r) => [r.key.value, r.intent, r.mappedInRun])).toEqual([["8.8.8.8", "create", RUN_1]])
    expect(p.create).toEqual([])
    expect(planCounts(p)).toMatchObject({ submitted: 1 })
    expect(planIntents(p, RUN_2, T0)).toEqual([])
    const after = applyPlan(p, crashed, T0, { runId: RUN_2 })
    expect(rowOf(after, "8.8.8.8")).toMatchObject({ status: "live", pending: null })
  })

  it("an invalid value is rejected locally once", () => {
    const first = input({ candidates: [ip("1", "192.168.1.1")] })
    const { plan: p, rows } = runOnce(plan, first)
    expect(p.reject.map((r) => [r.key.value, r.reasonCode])).toEqual([["192.168.1.1", "IpPrivate"]])
    expect(p.create).toEqual([])
    expect(planCounts(p)).toMatchObject({ rejectedInvalid: 1 })
    expect(plan({ ...first, current: rows }).reject).toEqual([])
  })

  it("no owners and no tql: nothing is selected, the note says why, and live ones are kept even on a full run", () => {
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8")] }))
    for (const mode of ["incremental", "full"] as const) {
      const p = plan(input({ mode, current: rows, candidates: [ip("2", "1.1.1.1")], policy: policy({ owners: [] }) }))
      expect(p.create).toEqual([])
      expect(p.revoke).toEqual([])
      expect(p.notes[0]).toContain("no owners configured and no tql: nothing is selected")
    }
    const noTypes = plan(input({ candidates: [ip("2", "1.1.1.1")], policy: policy({ indicatorTypes: [] }) }))
    expect(noTypes.create).toEqual([])
    expect(noTypes.notes[0]).toContain("no indicator types configured")
  })

  it("a raw tql replaces the owner and type filters", () => {
    const p = plan(input({ candidates: [ip("1", "8.8.8.8", { ownerName: "Anyone" })], policy: policy({ owners: [], tql: "rating >= 1" }) }))
    expect(p.create.map((c) => c.key.value)).toEqual(["8.8.8.8"])
  })

  it("a shrinking capacity evicts the lowest-ranked live indicators", () => {
    const candidates = [ip("1", "8.8.8.8", { threatAssessScore: 1 }), ip("2", "1.1.1.1", { threatAssessScore: 2 })]
    const { rows } = runOnce(plan, input({ candidates }))
    const p = plan(input({ current: rows, candidates, policy: policy({ indicatorReserveCount: 14_999 }) }))
    expect(p.revoke.map((r) => [r.key.value, r.reason])).toEqual([["8.8.8.8", "evicted"]])
    expect(p.quota.live).toBe(1)
  })

  it("the record removed from a file's hash types is deselected for that key only", () => {
    const file = record({ type: "File", summary: "", fileHashes: { md5: "a".repeat(32), sha1: null, sha256: "c".repeat(64) } })
    const { rows } = runOnce(plan, input({ candidates: [file] }))
    const p = plan(input({ current: rows, candidates: [file], policy: policy({ indicatorTypes: ["SHA256"] }) }))
    expect(p.revoke.map((r) => [r.key.indicatorType, r.reason])).toEqual([["FileMd5", "deselected"]])
    expect(p.unchanged.map((u) => u.key.indicatorType)).toEqual(["FileSha256"])
  })

  it("expected versions come from the current rows", () => {
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8", { rating: 1 })] }))
    const p = plan(input({ current: rows, candidates: [ip("1", "8.8.8.8", { rating: 5 })] }))
    expect(p.update[0]?.expectedVersion).toBe(rowOf(rows, "8.8.8.8")?.version)
    expect(p.update[0]?.expectedVersion).toBe(3)
    expect(DateTime.toEpochMillis(p.selected[0]?.sourceLastModified ?? T0)).toBe(DateTime.toEpochMillis(days(-1)))
  })
  it("a higher-ranked record from another owner takes over a live key in place", () => {
    const p0 = policy({ owners: ["ACME Corp", "Beta"] })
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8", { threatAssessScore: 100 })], policy: p0 }))
    const beta = ip("2", "8.8.8.8", { ownerName: "Beta", ownerId: "20", threatAssessScore: 900 })
    const p = plan(input({ current: rows, candidates: [beta], policy: p0 }))
    expect(p.selected.map((s) => s.source.ownerName)).toEqual(["Beta"])
    expect(p.update.map((u) => u.payload.externalId)).toEqual(["threatconnect:2"])
    expect(p.duplicate.map((d) => [d.source?.indicatorId, d.claimedBy])).toEqual([["1", "source"]])
    expect(p.revoke).toEqual([])
  })

  it("the same record returned twice (the incremental overlap) counts once, the latest version wins", () => {
    const older = ip("1", "8.8.8.8", { rating: 1, lastModified: days(-2) })
    const newer = ip("1", "8.8.8.8", { rating: 5, lastModified: days(-1) })
    const p = plan(input({ candidates: [newer, older] }))
    expect(p.create.map((c) => c.payload.severity)).toEqual(["High"])
    expect(p.duplicate).toEqual([])
  })

  it("a deferred key whose record is deselected is revoked without a Defender call", () => {
    const p0 = policy({ indicatorReserveCount: 15_000 })
    const { rows } = runOnce(plan, input({ candidates: [ip("1", "8.8.8.8")], policy: p0 }))
    expect(rowOf(rows, "8.8.8.8")?.status).toBe("deferred")
    const p = plan(input({ current: rows, candidates: [ip("1", "8.8.8.8", { ownerName: "Gone Corp" })], policy: p0 }))
    expect(p.revoke.map((r) => [r.reason, r.defenderId])).toEqual([["deselected", null]])
  })

  it("records of types Defender has no indicator type for are skipped with a note", () => {
    const p = plan(input({ candidates: [record({ type: "EmailAddress", summary: "x@example.com" })] }))
    expect(p.create).toEqual([])
    expect(p.notes).toEqual(["records of types Defender has no indicator type for were skipped: EmailAddress (1)"])
  })
})
