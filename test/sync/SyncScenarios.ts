import { describe, expect, it } from "@effect/vitest"
import {
  historyOf,
  reconcile,
  revokeIndicators,
  runShow,
  runSync,
  runsList,
  statusOf,
  submitIndicator,
  verifyReplay
} from "@tisync/app"
import { EventStore, IndicatorSink, type Policy, ProjectionStore, StreamId, TargetId } from "@tisync/domain"
import { Effect, Either, type Layer } from "effect"
import { SourceFixture } from "../source/IndicatorSourceConformance.js"
import { clockAhead, DefenderFixture, eventCount, minutesAgo, testPolicy, type World, writeCalls } from "./SyncWorld.js"

const ACME = "ACME Corp"
const DEMO = "Demo Community"

const sync = (policy: Policy, options: { readonly full?: boolean; readonly dryRun?: boolean; readonly targetId?: string } = {}) =>
  runSync({ targetId: options.targetId ?? "default", full: options.full ?? false, dryRun: options.dryRun ?? false, policy })

/** n Address records of ACME, 45.0.0.x, modified a few minutes ago. */
const seedAddresses = (n: number, from = 1, extra: { readonly rating?: number; readonly confidence?: number } = {}) =>
  Effect.gen(function* () {
    const f = yield* SourceFixture
    const ids: Array<string> = []
    for (let i = from; i < from + n; i++) {
      ids.push(
        yield* f.add({ ownerName: ACME, type: "Address", summary: `45.0.0.${i}`, lastModified: minutesAgo(30 - i / 10), rating: extra.rating ?? 3, confidence: extra.confidence ?? 80, threatAssessScore: 500 + i })
      )
    }
    return ids
  })

const held = Effect.flatMap(DefenderFixture, (d) => d.held)
const ownHeld = Effect.map(held, (xs) => xs.filter((x) => x.externalId?.startsWith("threatconnect:") === true))

const expectReplayMatches = Effect.gen(function* () {
  const verdict = yield* verifyReplay
  expect(verdict.match).toBe(true)
})

export const syncScenarios = (name: string, world: () => Layer.Layer<World, unknown>) =>
  describe(`sync use cases: ${name}`, () => {
    const run = <A, E>(body: Effect.Effect<A, E, World>) => body.pipe(Effect.provide(world()))

    it.live("initial sync: a full run submits every selected indicator in one import call", () =>
      run(Effect.gen(function* () {
        const ids = yield* seedAddresses(10)
        const report = yield* sync(testPolicy())
        expect(report.status).toBe("completed")
        expect(report.mode).toBe("full")
        expect(report.counts.submitted).toBe(10)
        expect(report.counts.selected).toBe(10)
        expect(report.apiCalls.import).toBe(1)
        expect(report.apiCalls.list).toBeGreaterThanOrEqual(1)
        expect(report.apiCalls.threatconnect).toBeGreaterThanOrEqual(1)
        expect(report.quota).toEqual({ limit: 15000, reserve: 0, foreign: 0, live: 10, capacity: 15000 })
        expect(report.watermark).not.toBeNull()
        const own = yield* ownHeld
        expect(own.map((x) => x.externalId).sort()).toEqual(ids.map((id) => `threatconnect:${id}`).sort())
        const shown = yield* runShow(report.runId)
        expect(shown.run.status).toBe("completed")
        expect(shown.events.map((e) => e.type)).toContain("IndicatorSubmitted")
        expect(shown.events[0]?.type).toBe("RunStarted")
        yield* expectReplayMatches
      })))

    it.live("an immediate re-run is incremental and makes zero write calls", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(8)
        yield* sync(testPolicy())
        const before = yield* writeCalls
        const again = yield* sync(testPolicy())
        expect(again.status).toBe("completed")
        expect(again.mode).toBe("incremental")
        expect((yield* writeCalls) - before).toBe(0)
        expect(again.apiCalls.import + again.apiCalls.batchDelete + again.apiCalls.delete + again.apiCalls.submit).toBe(0)
        expect(again.counts.submitted + again.counts.updated + again.counts.renewed + again.counts.revoked).toBe(0)
        expect(again.quota.live).toBe(8)
      })))

    it.live("a modified record is updated in place (same Defender id)", () =>
      run(Effect.gen(function* () {
        const [first] = yield* seedAddresses(3)
        yield* sync(testPolicy())
        const before = (yield* ownHeld).find((x) => x.externalId === `threatconnect:${first}`)
        const f = yield* SourceFixture
        yield* f.modify(first ?? "", { rating: 5 }, minutesAgo(1))
        const report = yield* sync(testPolicy())
        expect(report.counts.updated).toBe(1)
        expect(report.counts.submitted).toBe(0)
        const after = (yield* ownHeld).find((x) => x.externalId === `threatconnect:${first}`)
        expect(after?.id).toBe(before?.id)
        expect((yield* ownHeld).length).toBe(3)
        yield* expectReplayMatches
      })))

    it.live("a record that no longer matches the policy is revoked on an incremental run", () =>
      run(Effect.gen(function* () {
        const [first] = yield* seedAddresses(4)
        const policy = testPolicy({ minConfidence: 50 })
        yield* sync(policy)
        const f = yield* SourceFixture
        yield* f.modify(first ?? "", { confidence: 10 }, minutesAgo(1))
        const report = yield* sync(policy)
        expect(report.mode).toBe("incremental")
        expect(report.counts.revoked).toBe(1)
        expect((yield* ownHeld).map((x) => x.externalId)).not.toContain(`threatconnect:${first}`)
        const history = yield* historyOf("45.0.0.1")
        expect(history.events.at(-1)).toMatchObject({ type: "IndicatorRevoked", reason: "deselected" })
      })))

    it.live("a record deleted in ThreatConnect is revoked", () =>
      run(Effect.gen(function* () {
        const [first] = yield* seedAddresses(3)
        yield* sync(testPolicy())
        const f = yield* SourceFixture
        yield* f.remove(first ?? "", new Date().toISOString())
        const report = yield* sync(testPolicy())
        expect(report.counts.revoked).toBe(1)
        expect((yield* ownHeld).length).toBe(2)
        const history = yield* historyOf("45.0.0.1")
        expect(history.events.at(-1)).toMatchObject({ type: "IndicatorRevoked", reason: "deleted-in-source" })
        yield* expectReplayMatches
      })))

    it.live("the same value in two owners is submitted once; the other is a duplicate", () =>
      run(Effect.gen(function* () {
        const f = yield* SourceFixture
        yield* f.add({ ownerName: ACME, type: "Host", summary: "shared.example", lastModified: minutesAgo(5), rating: 5, confidence: 90, threatAssessScore: 900 })
        yield* f.add({ ownerName: DEMO, type: "Host", summary: "shared.example", lastModified: minutesAgo(5), rating: 1, confidence: 10, threatAssessScore: 100 })
        const report = yield* sync(testPolicy({ owners: [ACME, DEMO] }))
        expect(report.counts.submitted).toBe(1)
        expect(report.counts.rejectedDuplicate).toBe(1)
        expect((yield* ownHeld).filter((x) => x.indicatorValue === "shared.example").length).toBe(1)
      })))

    it.live("quota: foreign indicators and the reserve bound what is sent; the rest is deferred", () =>
      run(Effect.gen(function* () {
        const d = yield* DefenderFixture
        yield* d.seedForeign([
          { indicatorType: "IpAddress", indicatorValue: "46.0.0.1", action: "Block" },
          { indicatorType: "IpAddress", indicatorValue: "46.0.0.2", action: "Block" },
          { indicatorType: "DomainName", indicatorValue: "foreign.example", action: "Audit" }
        ])
        yield* seedAddresses(10)
        const report = yield* sync(testPolicy({ indicatorReserveCount: 14_992 }))
        expect(report.quota).toEqual({ limit: 15000, reserve: 14992, foreign: 3, live: 5, capacity: 5 })
        expect(report.counts.submitted).toBe(5)
        expect(report.counts.deferredQuota).toBe(5)
        const status = yield* statusOf(["default"])
        expect(status.targets[0]?.quota).toEqual({ limit: 15000, reserve: 14992, foreign: 3, live: 5, capacity: 5 })
        expect(status.targets[0]?.states.deferred).toBe(5)
        yield* expectReplayMatches
      })))

    it.live("a reserve above 15,000 sends nothing and says why", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(3)
        const report = yield* sync(testPolicy({ indicatorReserveCount: 15_001 }))
        expect(report.status).toBe("completed")
        expect(report.counts.submitted).toBe(0)
        expect(report.apiCalls.import).toBe(0)
        expect(report.quota.capacity).toBe(0)
        expect(report.notes.join("\n")).toMatch(/15001/)
      })))

    it.live("invalid values and unreadable records are rejected, counted and recorded, never dropped silently", () =>
      run(Effect.gen(function* () {
        const f = yield* SourceFixture
        yield* seedAddresses(2)
        yield* f.add({ ownerName: ACME, type: "Address", summary: "10.0.0.1", lastModified: minutesAgo(3) })
        yield* f.addUndecodable("4242", minutesAgo(3))
        const report = yield* sync(testPolicy())
        expect(report.status).toBe("completed")
        expect(report.counts.submitted).toBe(2)
        expect(report.counts.rejectedInvalid).toBe(2)
        expect(report.notes.join("\n")).toMatch(/4242/)
        const history = yield* historyOf("10.0.0.1")
        expect(history.events.map((e) => e.type)).toEqual(["IndicatorSelected", "IndicatorRejected"])
        expect(history.events[1]).toMatchObject({ origin: "local" })
      })))

    it.live("policy action Alert is sent as Audit with generateAlert", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(2)
        const report = yield* sync(testPolicy({ action: "Alert" }))
        expect(report.counts.submitted).toBe(2)
        const own = yield* ownHeld
        expect(own.map((x) => x.action)).toEqual(["Audit", "Audit"])
        expect(own.every((x) => x.generateAlert === true)).toBe(true)
      })))

    it.live("renewal: an indicator near its expiration is resubmitted in place with a new one", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(3)
        const policy = testPolicy({ expirationDays: { network: 10 }, renewWithinDays: 3 })
        yield* sync(policy)
        const before = yield* ownHeld
        const report = yield* sync(policy).pipe(Effect.withClock(clockAhead("8 days")))
        expect(report.status).toBe("completed")
        expect(report.counts.renewed).toBe(3)
        expect(report.apiCalls.import).toBe(1)
        const after = yield* ownHeld
        expect(after.map((x) => x.id).sort()).toEqual(before.map((x) => x.id).sort())
        expect(after[0]?.expirationTime ?? "").not.toBe(before.find((b) => b.id === after[0]?.id)?.expirationTime)
        yield* expectReplayMatches
      })))

    it.live("expiry: a live indicator past its expiration is recorded expired (and sent again while selected)", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(2)
        const policy = testPolicy({ expirationDays: { network: 2 }, renewWithinDays: 0 })
        yield* sync(policy)
        const report = yield* sync(policy).pipe(Effect.withClock(clockAhead("3 days")))
        expect(report.counts.expired).toBe(2)
        const history = yield* historyOf("45.0.0.1")
        expect(history.events.map((e) => e.type)).toContain("IndicatorExpired")
        yield* expectReplayMatches
      })))

    it.live("a changed action is revoke + submit; the old indicator is gone", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(3)
        yield* sync(testPolicy({ action: "Block" }))
        const report = yield* sync(testPolicy({ action: "Warn" }))
        expect(report.mode).toBe("full")
        expect(report.notes.join("\n")).toMatch(/policy changed/)
        expect(report.counts.revoked).toBe(3)
        expect(report.counts.submitted).toBe(3)
        const own = yield* ownHeld
        expect(own.map((x) => x.action)).toEqual(["Warn", "Warn", "Warn"])
        yield* expectReplayMatches
      })))

    it.live("dry run: plans, writes no event and calls no write API", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(5)
        const events = yield* eventCount
        const writes = yield* writeCalls
        const report = yield* sync(testPolicy(), { dryRun: true })
        expect(report.mode).toBe("dry-run")
        expect(report.counts.submitted).toBe(5)
        expect(yield* eventCount).toBe(events)
        expect(yield* writeCalls).toBe(writes)
        expect((yield* statusOf(["default"])).targets[0]?.lastRun).toBeNull()
      })))

    it.live("crash recovery: imports failing mid-run end in RunFailed; the next run finishes the pending ones", () =>
      run(Effect.gen(function* () {
        const d = yield* DefenderFixture
        yield* seedAddresses(6)
        yield* d.setImportFault("fail")
        const failed = yield* sync(testPolicy())
        expect(failed.status).toBe("failed")
        expect(failed.counts.failed).toBe(6)
        expect(failed.error).toMatch(/injected outage/)
        expect((yield* statusOf(["default"])).targets[0]?.lastRun?.status).toBe("failed")
        yield* d.setImportFault("none")
        const next = yield* sync(testPolicy())
        expect(next.status).toBe("completed")
        expect(next.counts.submitted).toBe(6)
        expect(next.apiCalls.import).toBe(1)
        expect((yield* ownHeld).length).toBe(6)
        yield* expectReplayMatches
      })))

    it.live("crash between import and confirmation: the next run adopts tisync's own indicators, no duplicate, not foreign", () =>
      run(Effect.gen(function* () {
        const d = yield* DefenderFixture
        yield* seedAddresses(4)
        yield* d.setImportFault("lose-response")
        const failed = yield* sync(testPolicy())
        expect(failed.status).toBe("failed")
        expect((yield* ownHeld).length).toBe(4)
        yield* d.setImportFault("none")
        const next = yield* sync(testPolicy())
        expect(next.status).toBe("completed")
        expect(next.quota.foreign).toBe(0)
        expect(next.counts.rejectedDuplicate).toBe(0)
        expect(next.counts.submitted).toBe(4)
        expect((yield* ownHeld).length).toBe(4)
        yield* expectReplayMatches
      })))

    it.live("a run is refused with TargetLocked while another holds the target", () =>
      run(Effect.gen(function* () {
        const store = yield* EventStore
        const result = yield* store.withTargetLock(
          TargetId.make("default"),
          "0190f3a0-0000-7000-8000-00000000abcd",
          Effect.either(sync(testPolicy()))
        )
        expect(Either.isLeft(result) && result.left._tag).toBe("TargetLocked")
        if (Either.isLeft(result) && result.left._tag === "TargetLocked") {
          expect(result.left.message).toContain("0190f3a0-0000-7000-8000-00000000abcd")
        }
        const dry = yield* store.withTargetLock(TargetId.make("default"), "0190f3a0-0000-7000-8000-00000000abcd", sync(testPolicy(), { dryRun: true }))
        expect(dry.mode).toBe("dry-run")
      })))

    it.live("reconcile reports drift and repairs it, never touching another app's indicator", () =>
      run(Effect.gen(function* () {
        const d = yield* DefenderFixture
        const sink = yield* IndicatorSink
        yield* seedAddresses(4)
        yield* sync(testPolicy())
        const own = yield* ownHeld
        const gone = own[0]
        yield* sink.deleteOne(gone?.id ?? "")
        yield* d.seedForeign([{ indicatorType: "IpAddress", indicatorValue: own[1]?.indicatorValue ?? "", action: "Audit" }])
        yield* sink.submit({
          indicatorValue: "47.0.0.1", indicatorType: "IpAddress", action: "Block", title: "left over", description: "left over", severity: "Low",
          externalId: "threatconnect:999999"
        })
        const found = yield* reconcile({ targetId: "default", repair: false })
        expect(found.missing.map((m) => m.value)).toEqual([gone?.indicatorValue])
        expect(found.foreignDuplicate.map((m) => m.value)).toEqual([own[1]?.indicatorValue])
        expect(found.unknownOwn.map((m) => m.value)).toEqual(["47.0.0.1"])
        expect(found.defender.foreign).toBe(2)
        expect(found.drift).toBe(true)
        const repaired = yield* reconcile({ targetId: "default", repair: true })
        expect(repaired.repaired.resubmitted).toBe(1)
        expect(repaired.repaired.deleted).toBe(1)
        const after = yield* reconcile({ targetId: "default", repair: false })
        expect(after.missing).toEqual([])
        expect(after.unknownOwn).toEqual([])
        expect(after.foreignDuplicate.length).toBe(1)
        expect((yield* held).some((x) => x.indicatorValue === own[1]?.indicatorValue && x.action === "Audit")).toBe(true)
        const next = yield* sync(testPolicy())
        expect(next.counts.submitted + next.counts.updated).toBe(0)
        yield* expectReplayMatches
      })))

    it.live("submit and revoke by hand: recorded as events, only tisync's indicators removed", () =>
      run(Effect.gen(function* () {
        const d = yield* DefenderFixture
        yield* d.seedForeign([{ indicatorType: "IpAddress", indicatorValue: "45.9.9.9", action: "Audit" }])
        const submitted = yield* submitIndicator({ targetId: "default", type: "IpAddress", value: "45.9.9.9", action: "Block", severity: "High" })
        expect(submitted.status).toBe("submitted")
        expect(submitted.defenderId).not.toBeNull()
        const dup = yield* submitIndicator({ targetId: "default", type: "IpAddress", value: "45.9.9.9", action: "Audit" })
        expect(dup.status).toBe("duplicate")
        const bad = yield* Effect.either(submitIndicator({ targetId: "default", type: "IpAddress", value: "10.1.1.1" }))
        expect(Either.isLeft(bad) && bad.left._tag).toBe("SyncInputError")
        yield* seedAddresses(2)
        const report = yield* sync(testPolicy())
        expect(report.quota.live).toBe(3)
        const revoked = yield* revokeIndicators({ targetId: "default", selector: { value: "45.9.9.9" } })
        expect(revoked.revoked.length).toBe(1)
        expect((yield* held).filter((x) => x.indicatorValue === "45.9.9.9").map((x) => x.externalId)).toEqual([null])
        const byRun = yield* revokeIndicators({ targetId: "default", selector: { runId: report.runId } })
        expect(byRun.revoked.length).toBe(2)
        expect((yield* ownHeld).length).toBe(0)
        const history = yield* historyOf("45.9.9.9")
        expect(history.events.map((e) => e.type)).toEqual([
          "IndicatorMapped", "IndicatorSubmitted", "IndicatorRejectedDuplicate", "IndicatorRevoked"
        ])
        expect(history.events.every((e) => e.runId === null)).toBe(true)
        yield* expectReplayMatches
      })))

    it.live("revoke --all removes every indicator tisync holds and nothing else", () =>
      run(Effect.gen(function* () {
        const d = yield* DefenderFixture
        yield* d.seedForeign([{ indicatorType: "IpAddress", indicatorValue: "46.1.1.1", action: "Block" }])
        yield* seedAddresses(3)
        yield* sync(testPolicy())
        const all = yield* revokeIndicators({ targetId: "default", selector: { all: true } })
        expect(all.revoked.length).toBe(3)
        expect((yield* held).map((x) => x.indicatorValue)).toEqual(["46.1.1.1"])
      })))

    it.live("status, history and runs have the DESIGN §6 shapes", () =>
      run(Effect.gen(function* () {
        yield* seedAddresses(2)
        const report = yield* sync(testPolicy())
        const status = yield* statusOf(["default", "other"], (id) => (id === "other" ? testPolicy({ indicatorReserveCount: 100 }) : undefined))
        expect(status.targets[0]).toEqual({
          targetId: "default",
          lastRun: { runId: report.runId, status: "completed", completedAt: expect.any(String), watermark: report.watermark },
          quota: { limit: 15000, reserve: 0, foreign: 0, live: 2, capacity: 15000 },
          states: { live: 2, rejected: 0, deferred: 0, expired: 0, revoked: 0 }
        })
        expect(status.targets[1]).toEqual({
          targetId: "other",
          lastRun: null,
          quota: { limit: 15000, reserve: 100, foreign: 0, live: 0, capacity: 14900 },
          states: { live: 0, rejected: 0, deferred: 0, expired: 0, revoked: 0 }
        })
        const history = yield* historyOf("45.0.0.1")
        expect(history.events.map((e) => e.type)).toEqual(["IndicatorSelected", "IndicatorMapped", "IndicatorSubmitted"])
        for (const e of history.events) {
          expect(e).toMatchObject({ runId: report.runId, streamId: "indicator-default-IpAddress-45.0.0.1" })
          expect(typeof e.at).toBe("string")
        }
        const runs = yield* runsList(10)
        expect(runs.runs.map((r) => r.runId)).toEqual([report.runId])
        const projections = yield* ProjectionStore
        expect((yield* projections.indicators({ targetId: "default" })).length).toBe(2)
        const store = yield* EventStore
        expect((yield* store.readStream(StreamId.make(`run-default-${report.runId}`))).map((e) => e.event._tag)).toEqual(["RunStarted", "RunCompleted"])
        const missing = yield* Effect.either(runShow("0190f3a0-0000-7000-8000-0000000000ff"))
        expect(Either.isLeft(missing) && missing.left._tag).toBe("RunNotFound")
      })))
  })
