import { expect, layer } from "@effect/vitest"
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

/**
 * Every test gets its own target and its own values (the store is shared by the suite, so the log of
 * earlier tests stays, as it would in production), and an empty source and tenant.
 */
interface Case {
  readonly target: string
  /** `45.0.<net>.<i>`: values no other test uses, so `history VALUE` sees only this test's events. */
  readonly net: number
  readonly ip: (i: number) => string
}
let cases = 0
const fresh = Effect.gen(function* () {
  yield* Effect.flatMap(SourceFixture, (f) => f.reset)
  yield* Effect.flatMap(DefenderFixture, (d) => d.reset)
  const net = ++cases
  const c: Case = { target: `t${net}`, net, ip: (i) => `45.0.${net}.${i}` }
  return c
})

const sync = (c: Case, policy: Policy, options: { readonly full?: boolean; readonly dryRun?: boolean } = {}) =>
  runSync({ targetId: c.target, full: options.full ?? false, dryRun: options.dryRun ?? false, policy })

/** n Address records of ACME, 45.0.<net>.i, modified a few minutes ago. */
const seedAddresses = (c: Case, n: number, from = 1) =>
  Effect.gen(function* () {
    const f = yield* SourceFixture
    const ids: Array<string> = []
    for (let i = from; i < from + n; i++) {
      ids.push(
        yield* f.add({ ownerName: ACME, type: "Address", summary: c.ip(i), lastModified: minutesAgo(30 - i / 10), rating: 3, confidence: 80, threatAssessScore: 500 + i })
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
  layer(world(), { excludeTestServices: true, timeout: 120_000 })(`sync use cases: ${name}`, (it) => {
    const run = <A, E>(body: Effect.Effect<A, E, World>) => body

    it.effect("initial sync: a full run submits every selected indicator in one import call", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const ids = yield* seedAddresses(c, 10)
        const report = yield* sync(c, testPolicy())
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

    it.effect("an immediate re-run is incremental and makes zero write calls", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 8)
        yield* sync(c, testPolicy())
        const before = yield* writeCalls
        const again = yield* sync(c, testPolicy())
        expect(again.status).toBe("completed")
        expect(again.mode).toBe("incremental")
        expect((yield* writeCalls) - before).toBe(0)
        expect(again.apiCalls.import + again.apiCalls.batchDelete + again.apiCalls.delete + again.apiCalls.submit).toBe(0)
        expect(again.counts.submitted + again.counts.updated + again.counts.renewed + again.counts.revoked).toBe(0)
        expect(again.quota.live).toBe(8)
      })))

    it.effect("a modified record is updated in place (same Defender id)", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const [first] = yield* seedAddresses(c, 3)
        yield* sync(c, testPolicy())
        const before = (yield* ownHeld).find((x) => x.externalId === `threatconnect:${first}`)
        const f = yield* SourceFixture
        yield* f.modify(first ?? "", { rating: 5 }, minutesAgo(1))
        const report = yield* sync(c, testPolicy())
        expect(report.counts.updated).toBe(1)
        expect(report.counts.submitted).toBe(0)
        const after = (yield* ownHeld).find((x) => x.externalId === `threatconnect:${first}`)
        expect(after?.id).toBe(before?.id)
        expect((yield* ownHeld).length).toBe(3)
        yield* expectReplayMatches
      })))

    it.effect("a record that no longer matches the policy is revoked on an incremental run", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const [first] = yield* seedAddresses(c, 4)
        const policy = testPolicy({ minConfidence: 50 })
        yield* sync(c, policy)
        const f = yield* SourceFixture
        yield* f.modify(first ?? "", { confidence: 10 }, minutesAgo(1))
        const report = yield* sync(c, policy)
        expect(report.mode).toBe("incremental")
        expect(report.counts.revoked).toBe(1)
        expect((yield* ownHeld).map((x) => x.externalId)).not.toContain(`threatconnect:${first}`)
        const history = yield* historyOf(c.ip(1))
        expect(history.events.at(-1)).toMatchObject({ type: "IndicatorRevoked", reason: "deselected" })
      })))

    it.effect("a record deleted in ThreatConnect is revoked", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const [first] = yield* seedAddresses(c, 3)
        yield* sync(c, testPolicy())
        const f = yield* SourceFixture
        yield* f.remove(first ?? "", new Date().toISOString())
        const report = yield* sync(c, testPolicy())
        expect(report.counts.revoked).toBe(1)
        expect((yield* ownHeld).length).toBe(2)
        const history = yield* historyOf(c.ip(1))
        expect(history.events.at(-1)).toMatchObject({ type: "IndicatorRevoked", reason: "deleted-in-source" })
        yield* expectReplayMatches
      })))

    it.effect("the same value in two owners is submitted once; the other is a duplicate", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const f = yield* SourceFixture
        yield* f.add({ ownerName: ACME, type: "Host", summary: `shared-${c.net}.example`, lastModified: minutesAgo(5), rating: 5, confidence: 90, threatAssessScore: 900 })
        yield* f.add({ ownerName: DEMO, type: "Host", summary: `shared-${c.net}.example`, lastModified: minutesAgo(5), rating: 1, confidence: 10, threatAssessScore: 100 })
        const report = yield* sync(c, testPolicy({ owners: [ACME, DEMO] }))
        expect(report.counts.submitted).toBe(1)
        expect(report.counts.rejectedDuplicate).toBe(1)
        expect((yield* ownHeld).filter((x) => x.indicatorValue === `shared-${c.net}.example`).length).toBe(1)
      })))

    it.effect("quota: foreign indicators and the reserve bound what is sent; the rest is deferred", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const d = yield* DefenderFixture
        yield* d.seedForeign([
          { indicatorType: "IpAddress", indicatorValue: "46.0.0.1", action: "Block" },
          { indicatorType: "IpAddress", indicatorValue: "46.0.0.2", action: "Block" },
          { indicatorType: "DomainName", indicatorValue: "foreign.example", action: "Audit" }
        ])
        yield* seedAddresses(c, 10)
        const report = yield* sync(c, testPolicy({ indicatorReserveCount: 14_992 }))
        expect(report.quota).toEqual({ limit: 15000, reserve: 14992, foreign: 3, live: 5, capacity: 5 })
        expect(report.counts.submitted).toBe(5)
        expect(report.counts.deferredQuota).toBe(5)
        const status = yield* statusOf([c.target])
        expect(status.targets[0]?.quota).toEqual({ limit: 15000, reserve: 14992, foreign: 3, live: 5, capacity: 5 })
        expect(status.targets[0]?.states.deferred).toBe(5)
        yield* expectReplayMatches
      })))

    it.effect("a reserve above 15,000 sends nothing and says why", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 3)
        const report = yield* sync(c, testPolicy({ indicatorReserveCount: 15_001 }))
        expect(report.status).toBe("completed")
        expect(report.counts.submitted).toBe(0)
        expect(report.apiCalls.import).toBe(0)
        expect(report.quota.capacity).toBe(0)
        expect(report.notes.join("\n")).toMatch(/15001/)
      })))

    it.effect("invalid values and unreadable records are rejected, counted and recorded, never dropped silently", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const f = yield* SourceFixture
        yield* seedAddresses(c, 2)
        yield* f.add({ ownerName: ACME, type: "Address", summary: `10.0.${c.net}.1`, lastModified: minutesAgo(3) })
        yield* f.addUndecodable("4242", minutesAgo(3))
        const report = yield* sync(c, testPolicy())
        expect(report.status).toBe("completed")
        expect(report.counts.submitted).toBe(2)
        expect(report.counts.rejectedInvalid).toBe(2)
        expect(report.notes.join("\n")).toMatch(/4242/)
        const history = yield* historyOf(`10.0.${c.net}.1`)
        expect(history.events.map((e) => e.type)).toEqual(["IndicatorSelected", "IndicatorRejected"])
        expect(history.events[1]).toMatchObject({ origin: "local" })
      })))

    it.effect("policy action Alert is sent as Audit with generateAlert", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 2)
        const report = yield* sync(c, testPolicy({ action: "Alert" }))
        expect(report.counts.submitted).toBe(2)
        const own = yield* ownHeld
        expect(own.map((x) => x.action)).toEqual(["Audit", "Audit"])
        expect(own.every((x) => x.generateAlert === true)).toBe(true)
      })))

    it.effect("renewal: an indicator near its expiration is resubmitted in place with a new one", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 3)
        const policy = testPolicy({ expirationDays: { network: 10 }, renewWithinDays: 3 })
        yield* sync(c, policy)
        const before = yield* ownHeld
        const report = yield* sync(c, policy).pipe(Effect.withClock(clockAhead("8 days")))
        expect(report.status).toBe("completed")
        expect(report.counts.renewed).toBe(3)
        expect(report.apiCalls.import).toBe(1)
        const after = yield* ownHeld
        expect(after.map((x) => x.id).sort()).toEqual(before.map((x) => x.id).sort())
        expect(after[0]?.expirationTime ?? "").not.toBe(before.find((b) => b.id === after[0]?.id)?.expirationTime)
        yield* expectReplayMatches
      })))

    it.effect("expiry: a live indicator past its expiration is recorded expired (and sent again while selected)", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 2)
        const policy = testPolicy({ expirationDays: { network: 2 }, renewWithinDays: 0 })
        yield* sync(c, policy)
        const report = yield* sync(c, policy).pipe(Effect.withClock(clockAhead("3 days")))
        expect(report.counts.expired).toBe(2)
        const history = yield* historyOf(c.ip(1))
        expect(history.events.map((e) => e.type)).toContain("IndicatorExpired")
        yield* expectReplayMatches
      })))

    it.effect("a changed action is revoke + submit; the old indicator is gone", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 3)
        yield* sync(c, testPolicy({ action: "Block" }))
        const report = yield* sync(c, testPolicy({ action: "Warn" }))
        expect(report.mode).toBe("full")
        expect(report.notes.join("\n")).toMatch(/policy changed/)
        expect(report.counts.revoked).toBe(3)
        expect(report.counts.submitted).toBe(3)
        const own = yield* ownHeld
        expect(own.map((x) => x.action)).toEqual(["Warn", "Warn", "Warn"])
        yield* expectReplayMatches
      })))

    it.effect("dry run: plans, writes no event and calls no write API", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 5)
        const events = yield* eventCount
        const writes = yield* writeCalls
        const report = yield* sync(c, testPolicy(), { dryRun: true })
        expect(report.mode).toBe("dry-run")
        expect(report.counts.submitted).toBe(5)
        expect(yield* eventCount).toBe(events)
        expect(yield* writeCalls).toBe(writes)
        expect((yield* statusOf([c.target])).targets[0]?.lastRun).toBeNull()
      })))

    it.effect("crash recovery: imports failing mid-run end in RunFailed; the next run finishes the pending ones", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const d = yield* DefenderFixture
        yield* seedAddresses(c, 6)
        yield* d.setImportFault("fail")
        const failed = yield* sync(c, testPolicy())
        expect(failed.status).toBe("failed")
        expect(failed.counts.failed).toBe(6)
        expect(failed.error).toMatch(/injected outage/)
        expect((yield* statusOf([c.target])).targets[0]?.lastRun?.status).toBe("failed")
        yield* d.setImportFault("none")
        const next = yield* sync(c, testPolicy())
        expect(next.status).toBe("completed")
        expect(next.counts.submitted).toBe(6)
        expect(next.apiCalls.import).toBe(1)
        expect((yield* ownHeld).length).toBe(6)
        yield* expectReplayMatches
      })))

    it.effect("crash between import and confirmation: the next run adopts tisync's own indicators, no duplicate, not foreign", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const d = yield* DefenderFixture
        yield* seedAddresses(c, 4)
        yield* d.setImportFault("lose-response")
        const failed = yield* sync(c, testPolicy())
        expect(failed.status).toBe("failed")
        expect((yield* ownHeld).length).toBe(4)
        yield* d.setImportFault("none")
        const next = yield* sync(c, testPolicy())
        expect(next.status).toBe("completed")
        expect(next.quota.foreign).toBe(0)
        expect(next.counts.rejectedDuplicate).toBe(0)
        expect(next.counts.submitted).toBe(4)
        expect((yield* ownHeld).length).toBe(4)
        yield* expectReplayMatches
      })))

    it.effect("crash between import and confirmation, then the record is deleted: the next run deletes what Defender holds", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const d = yield* DefenderFixture
        const [first] = yield* seedAddresses(c, 3)
        yield* d.setImportFault("lose-response")
        yield* sync(c, testPolicy())
        expect((yield* ownHeld).length).toBe(3)
        yield* d.setImportFault("none")
        const f = yield* SourceFixture
        yield* f.remove(first ?? "", new Date().toISOString())
        const next = yield* sync(c, testPolicy())
        expect(next.status).toBe("completed")
        expect(next.counts.revoked).toBe(1)
        // Never confirmed, but Defender applied it: revoking it must delete it there, not only in the log.
        expect((yield* ownHeld).map((h) => h.indicatorValue)).not.toContain(c.ip(1))
        expect((yield* ownHeld).length).toBe(2)
        yield* expectReplayMatches
      })))

    it.effect("a run is refused with TargetLocked while another holds the target", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const store = yield* EventStore
        const result = yield* store.withTargetLock(
          TargetId.make(c.target),
          "0190f3a0-0000-7000-8000-00000000abcd",
          Effect.either(sync(c, testPolicy()))
        )
        expect(Either.isLeft(result) && result.left._tag).toBe("TargetLocked")
        if (Either.isLeft(result) && result.left._tag === "TargetLocked") {
          expect(result.left.message).toContain("0190f3a0-0000-7000-8000-00000000abcd")
        }
        const dry = yield* store.withTargetLock(TargetId.make(c.target), "0190f3a0-0000-7000-8000-00000000abcd", sync(c, testPolicy(), { dryRun: true }))
        expect(dry.mode).toBe("dry-run")
      })))

    it.effect("reconcile reports drift and repairs it, never touching another app's indicator", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const d = yield* DefenderFixture
        const sink = yield* IndicatorSink
        yield* seedAddresses(c, 4)
        yield* sync(c, testPolicy())
        const own = yield* ownHeld
        const gone = own[0]
        yield* sink.deleteOne(gone?.id ?? "")
        yield* d.seedForeign([{ indicatorType: "IpAddress", indicatorValue: own[1]?.indicatorValue ?? "", action: "Audit" }])
        yield* sink.submit({
          indicatorValue: "47.0.0.1", indicatorType: "IpAddress", action: "Block", title: "left over", description: "left over", severity: "Low",
          externalId: "threatconnect:999999"
        })
        const found = yield* reconcile({ targetId: c.target, repair: false })
        expect(found.missing.map((m) => m.value)).toEqual([gone?.indicatorValue])
        expect(found.foreignDuplicate.map((m) => m.value)).toEqual([own[1]?.indicatorValue])
        expect(found.unknownOwn.map((m) => m.value)).toEqual(["47.0.0.1"])
        expect(found.defender.foreign).toBe(2)
        expect(found.drift).toBe(true)
        const repaired = yield* reconcile({ targetId: c.target, repair: true })
        expect(repaired.repaired.resubmitted).toBe(1)
        expect(repaired.repaired.deleted).toBe(1)
        const after = yield* reconcile({ targetId: c.target, repair: false })
        expect(after.missing).toEqual([])
        expect(after.unknownOwn).toEqual([])
        expect(after.foreignDuplicate.length).toBe(1)
        expect((yield* held).some((x) => x.indicatorValue === own[1]?.indicatorValue && x.action === "Audit")).toBe(true)
        const next = yield* sync(c, testPolicy())
        expect(next.counts.submitted + next.counts.updated).toBe(0)
        yield* expectReplayMatches
      })))

    it.effect("submit and revoke by hand: recorded as events, only tisync's indicators removed", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const d = yield* DefenderFixture
        yield* d.seedForeign([{ indicatorType: "IpAddress", indicatorValue: c.ip(99), action: "Audit" }])
        const submitted = yield* submitIndicator({ targetId: c.target, type: "IpAddress", value: c.ip(99), action: "Block", severity: "High" })
        expect(submitted.status).toBe("submitted")
        expect(submitted.defenderId).not.toBeNull()
        const dup = yield* submitIndicator({ targetId: c.target, type: "IpAddress", value: c.ip(99), action: "Audit" })
        expect(dup.status).toBe("duplicate")
        const bad = yield* Effect.either(submitIndicator({ targetId: c.target, type: "IpAddress", value: "10.1.1.1" }))
        expect(Either.isLeft(bad) && bad.left._tag).toBe("SyncInputError")
        yield* seedAddresses(c, 2)
        const report = yield* sync(c, testPolicy())
        expect(report.quota.live).toBe(3)
        const revoked = yield* revokeIndicators({ targetId: c.target, selector: { value: c.ip(99) } })
        expect(revoked.revoked.length).toBe(1)
        expect((yield* held).filter((x) => x.indicatorValue === c.ip(99)).map((x) => x.externalId)).toEqual([null])
        const byRun = yield* revokeIndicators({ targetId: c.target, selector: { runId: report.runId } })
        expect(byRun.revoked.length).toBe(2)
        expect((yield* ownHeld).length).toBe(0)
        const history = yield* historyOf(c.ip(99))
        expect(history.events.map((e) => e.type)).toEqual([
          "IndicatorMapped", "IndicatorSubmitted", "IndicatorRejectedDuplicate", "IndicatorRevoked"
        ])
        expect(history.events.every((e) => e.runId === null)).toBe(true)
        yield* expectReplayMatches
      })))

    it.effect("revoke --all removes every indicator tisync holds and nothing else", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        const d = yield* DefenderFixture
        yield* d.seedForeign([{ indicatorType: "IpAddress", indicatorValue: "46.1.1.1", action: "Block" }])
        yield* seedAddresses(c, 3)
        yield* sync(c, testPolicy())
        const all = yield* revokeIndicators({ targetId: c.target, selector: { all: true } })
        expect(all.revoked.length).toBe(3)
        expect((yield* held).map((x) => x.indicatorValue)).toEqual(["46.1.1.1"])
      })))

    it.effect("status, history and runs have the DESIGN §6 shapes", () =>
      run(Effect.gen(function* () {
        const c = yield* fresh
        yield* seedAddresses(c, 2)
        const report = yield* sync(c, testPolicy())
        const status = yield* statusOf([c.target, `${c.target}-other`], (id) => (id === `${c.target}-other` ? testPolicy({ indicatorReserveCount: 100 }) : undefined))
        expect(status.targets[0]).toEqual({
          targetId: c.target,
          lastRun: { runId: report.runId, status: "completed", completedAt: expect.any(String), watermark: report.watermark },
          quota: { limit: 15000, reserve: 0, foreign: 0, live: 2, capacity: 15000 },
          states: { live: 2, rejected: 0, deferred: 0, expired: 0, revoked: 0 }
        })
        expect(status.targets[1]).toEqual({
          targetId: `${c.target}-other`,
          lastRun: null,
          quota: { limit: 15000, reserve: 100, foreign: 0, live: 0, capacity: 14900 },
          states: { live: 0, rejected: 0, deferred: 0, expired: 0, revoked: 0 }
        })
        const history = yield* historyOf(c.ip(1))
        expect(history.events.map((e) => e.type)).toEqual(["IndicatorSelected", "IndicatorMapped", "IndicatorSubmitted"])
        for (const e of history.events) {
          expect(e).toMatchObject({ runId: report.runId, streamId: `indicator-${c.target}-IpAddress-${c.ip(1)}` })
          expect(typeof e.at).toBe("string")
        }
        const runs = yield* runsList(10, c.target)
        expect(runs.runs.map((r) => r.runId)).toEqual([report.runId])
        const projections = yield* ProjectionStore
        expect((yield* projections.indicators({ targetId: c.target })).length).toBe(2)
        const store = yield* EventStore
        expect((yield* store.readStream(StreamId.make(`run-${c.target}-${report.runId}`))).map((e) => e.event._tag)).toEqual(["RunStarted", "RunCompleted"])
        const missing = yield* Effect.either(runShow("0190f3a0-0000-7000-8000-0000000000ff"))
        expect(Either.isLeft(missing) && missing.left._tag).toBe("RunNotFound")
      })))
  })
