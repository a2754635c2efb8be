import { describe, expect, it } from "vitest"
import { dueTargets, firstRunAt, MAX_JITTER, nextRunAt } from "../src/daemon/DaemonSchedule.js"

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 5, 1, 12)

describe("daemon schedule", () => {
  it("a target that never completed a run runs at once", () => {
    expect(firstRunAt({ lastCompletedAtMillis: null, nowMillis: NOW, intervalMillis: HOUR, jitter: 0.05 })).toBe(NOW)
  })

  it("catches up once: a run older than the interval (even by many intervals) is due now, not once per missed interval", () => {
    for (const age of [HOUR, HOUR + 1, 10 * HOUR, 1000 * HOUR]) {
      expect(firstRunAt({ lastCompletedAtMillis: NOW - age, nowMillis: NOW, intervalMillis: HOUR, jitter: 0.09 })).toBe(NOW)
    }
  })

  it("a fresh run: the next one comes one interval plus jitter after it", () => {
    const last = NOW - 20 * 60_000
    expect(firstRunAt({ lastCompletedAtMillis: last, nowMillis: NOW, intervalMillis: HOUR, jitter: 0 })).toBe(last + HOUR)
    expect(firstRunAt({ lastCompletedAtMillis: last, nowMillis: NOW, intervalMillis: HOUR, jitter: 0.1 })).toBe(last + 1.1 * HOUR)
  })

  it("a run a little under one interval old whose jittered due time passed is due now, never in the past", () => {
    const last = NOW - HOUR + 1000
    expect(firstRunAt({ lastCompletedAtMillis: last, nowMillis: NOW, intervalMillis: HOUR, jitter: 0 })).toBe(NOW + 1000)
    expect(firstRunAt({ lastCompletedAtMillis: NOW + 5000, nowMillis: NOW, intervalMillis: HOUR, jitter: 0 })).toBe(NOW + 5000 + HOUR)
  })

  it("after a run the next is the interval plus at most 10% jitter later", () => {
    expect(nextRunAt(NOW, HOUR, 0)).toBe(NOW + HOUR)
    expect(nextRunAt(NOW, HOUR, MAX_JITTER)).toBe(NOW + 1.1 * HOUR)
  })

  it("picks the targets that are due and the earliest later due time", () => {
    const due = new Map([["a", NOW - 1], ["b", NOW], ["c", NOW + 5000], ["d", NOW + 2000]])
    expect(dueTargets(due, NOW)).toEqual({ due: ["a", "b"], nextAtMillis: NOW + 2000 })
    expect(dueTargets(new Map([["a", NOW + 1]]), NOW)).toEqual({ due: [], nextAtMillis: NOW + 1 })
  })
})
