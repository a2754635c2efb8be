import { describe, expect, it } from "@effect/vitest"
import { makeRunIdGenerator, policyHashOf, runWindow, type RunHistory } from "@tisync/app"
import type { RunSummaryRow } from "@tisync/domain"
import { DateTime, Effect } from "effect"
import { testPolicy } from "./SyncWorld.js"

const now = DateTime.unsafeMake("2026-03-01T12:00:00Z")
const policy = testPolicy()
const completed = (policyHash: string): RunSummaryRow => ({
  runId: "0190f3a0-0000-7000-8000-000000000001", targetId: "default", mode: "full", since: null, policyHash, status: "completed",
  startedAt: "2026-02-28T12:00:00.000Z", finishedAt: "2026-02-28T12:01:00.000Z", counts: null, apiCalls: null, quota: null,
  watermark: "2026-02-28T11:00:00.000Z", error: null, notes: [], indicatorEvents: 0
})
const history = (hash: string | null, watermark: string | null): RunHistory => ({
  lastCompleted: hash === null ? null : completed(hash),
  watermark: watermark === null ? null : DateTime.unsafeMake(watermark)
})

describe("run window", () => {
  it("the first run is full and reads lastRunDays back", () => {
    const w = runWindow({ full: false, policy, policyHash: policyHashOf(policy), history: history(null, null), now })
    expect(w.mode).toBe("full")
    expect(w.since && DateTime.formatIso(w.since)).toBe("2026-02-22T12:00:00.000Z")
  })
  it("an incremental run reads from the watermark minus five minutes", () => {
    const w = runWindow({ full: false, policy, policyHash: policyHashOf(policy), history: history(policyHashOf(policy), "2026-02-28T11:00:00Z"), now })
    expect(w.mode).toBe("incremental")
    expect(w.since && DateTime.formatIso(w.since)).toBe("2026-02-28T10:55:00.000Z")
    expect(DateTime.formatIso(w.deletionsSince)).toBe("2026-02-28T10:55:00.000Z")
  })
  it("a changed policy or --full reads everything; logLevel alone is not a change", () => {
    const changed = runWindow({ full: false, policy, policyHash: policyHashOf(testPolicy({ minConfidence: 10 })), history: history(policyHashOf(policy), "2026-02-28T11:00:00Z"), now })
    expect(changed).toMatchObject({ mode: "full", since: null })
    expect(changed.notes.join()).toMatch(/policy changed/)
    expect(runWindow({ full: true, policy, policyHash: policyHashOf(policy), history: history(policyHashOf(policy), null), now })).toMatchObject({ mode: "full", since: null })
    expect(policyHashOf(testPolicy({ logLevel: "Debug" }))).toBe(policyHashOf(policy))
  })
  it("onlyModifiedSinceLastRun false reads lastRunDays back on every run", () => {
    const p = testPolicy({ onlyModifiedSinceLastRun: false, lastRunDays: 2 })
    const w = runWindow({ full: false, policy: p, policyHash: policyHashOf(p), history: history(policyHashOf(p), "2026-02-28T11:00:00Z"), now })
    expect(w.mode).toBe("incremental")
    expect(w.since && DateTime.formatIso(w.since)).toBe("2026-02-27T12:00:00.000Z")
  })
  it.effect("run ids are UUIDv7 and strictly increasing within a millisecond", () =>
    Effect.gen(function* () {
      const ids = yield* makeRunIdGenerator
      const all = yield* Effect.forEach(Array.from({ length: 50 }), () => ids.runId)
      expect([...all].sort()).toEqual(all)
      expect(new Set(all).size).toBe(50)
      for (const id of all) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    }))
})
