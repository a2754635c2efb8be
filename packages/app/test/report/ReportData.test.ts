import { describe, expect, it } from "@effect/vitest"
import { liveBreakdownOf, MAX_EXAMPLES, MAX_GROUPS, reasonGroupOf, reasonGroupsOf, reportViewOf } from "../../src/report/ReportData.js"
import { quota, runRow, stateRow, targetStatus } from "./ReportFixtures.js"

describe("report data", () => {
  it("charts one point per completed run, oldest first; the table lists every run newest first", () => {
    const view = reportViewOf({
      generatedAt: "2026-03-01T00:00:00.000Z",
      targets: [
        {
          status: targetStatus("default", 40),
          runs: [
            runRow({ runId: "r3", startedAt: "2026-02-03T10:00:00.000Z", quota: quota(40, { reserve: 500, foreign: 7 }) }),
            runRow({ runId: "r1", startedAt: "2026-02-01T10:00:00.000Z", quota: quota(10) }),
            runRow({ runId: "r2", startedAt: "2026-02-02T10:00:00.000Z", status: "failed", error: "401 from Defender" }),
            runRow({ runId: "other", startedAt: "2026-02-02T11:00:00.000Z", targetId: "tenant-b" })
          ],
          rows: []
        }
      ]
    })
    const [target] = view.targets
    expect(target?.quotaSeries.map((p) => [p.runId, p.quota.live, p.quota.capacity])).toEqual([
      ["r1", 10, 15_000],
      ["r3", 40, 14_493]
    ])
    expect(target?.runs.map((r) => r.runId)).toEqual(["r3", "r2", "r1"])
    expect(target?.runs[1]).toMatchObject({ status: "failed", error: "401 from Defender", counts: null, apiCalls: null })
    expect(target?.runs[0]).toMatchObject({ durationSeconds: 42, apiCalls: 5 })
  })

  it("counts live indicators by type and action, telling Audit with an alert apart from plain Audit", () => {
    const live = liveBreakdownOf([
      stateRow({ value: "203.0.113.1", status: "live", action: "Block" }),
      stateRow({ value: "203.0.113.2", status: "live", action: "Block" }),
      stateRow({ value: "203.0.113.3", status: "live", action: "Audit", generateAlert: true }),
      stateRow({ value: "evil.example", indicatorType: "DomainName", status: "live", action: "Audit" }),
      stateRow({ value: "203.0.113.4", status: "revoked", action: null }),
      stateRow({ value: "203.0.113.5", status: "deferred" })
    ])
    expect(live.actions).toEqual(["Audit", "Audit + alert", "Block"])
    expect(live.types).toEqual([
      { indicatorType: "IpAddress", byAction: [0, 1, 2], total: 3 },
      { indicatorType: "DomainName", byAction: [1, 0, 0], total: 1 }
    ])
    expect(live.total).toBe(4)
  })

  it("groups rejections by reason code whatever value the text names", () => {
    const a = stateRow({ value: "10.0.0.1", status: "rejected", reason: "IpPrivate: 10.0.0.1: 10.0.0.0/8 is private" })
    const b = stateRow({ value: "192.168.1.1", status: "rejected", reason: "IpPrivate: 192.168.1.1: 192.168.0.0/16 is private" })
    expect(reasonGroupOf(a)).toBe("IpPrivate")
    expect(reasonGroupOf(b)).toBe(reasonGroupOf(a))
  })

  it("groups free-text reasons without the value, parenthesised details and numbers", () => {
    const deferredThen = stateRow({ value: "a.example", status: "deferred", reason: "no quota left under the reserve: ranked below the top 100 (capacity 100)" })
    const deferredNow = stateRow({ value: "b.example", status: "deferred", reason: "no quota left under the reserve: ranked below the top 98 (capacity 98)" })
    expect(reasonGroupOf(deferredThen)).toBe("no quota left under the reserve: ranked below the top N")
    expect(reasonGroupOf(deferredNow)).toBe(reasonGroupOf(deferredThen))
    const heldBy = (value: string, id: string, holder: string) =>
      stateRow({ value, status: "duplicate", reason: `Defender already holds IpAddress ${value} from ${holder} (Defender id ${id}, action Block); it is not overwritten` })
    expect(reasonGroupOf(heldBy("198.51.100.7", "11", "soc"))).toBe(reasonGroupOf(heldBy("198.51.100.8", "12", "soc")))
    expect(reasonGroupOf(heldBy("198.51.100.7", "11", "soc"))).not.toBe(reasonGroupOf(heldBy("198.51.100.7", "11", "another-app")))
  })

  it("puts the largest groups first with a few sorted examples, and counts every source record that lost a key", () => {
    const rows = [
      ...["10.0.0.9", "10.0.0.1", "10.0.0.5", "10.0.0.3", "10.0.0.2", "10.0.0.4", "10.0.0.8"].map((value) =>
        stateRow({ value, status: "rejected", reason: `IpPrivate: ${value} is private` })
      ),
      stateRow({ value: "203.0.113.0/24", status: "rejected", reason: "IpCidrNotSupported: CIDR blocks are not supported" }),
      stateRow({ value: "x.example", indicatorType: "DomainName", status: "live", duplicateSources: ["7", "8", "9"], ownerName: "ACME Corp" }),
      stateRow({ value: "y.example", indicatorType: "DomainName", status: "deferred", reason: "no quota left under the reserve: ranked below the top 3" }),
      stateRow({ value: "z.example", indicatorType: "DomainName", status: "live" })
    ]
    const groups = reasonGroupsOf(rows)
    expect(groups.rejected.map((g) => [g.kind, g.reason, g.count])).toEqual([
      ["rejected", "IpPrivate", 7],
      ["duplicate", "also selected from another owner; the higher-ranked record keeps the key", 3],
      ["rejected", "IpCidrNotSupported", 1]
    ])
    expect(groups.rejected[0]?.examples.map((e) => e.value)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"])
    expect(groups.rejected[0]?.examples).toHaveLength(MAX_EXAMPLES)
    expect(groups.rejected[0]?.sampleReason).toBe("IpPrivate: 10.0.0.1 is private")
    expect(groups.rejected[1]?.sampleReason).toContain("ACME Corp")
    expect(groups.deferred.map((g) => [g.reason, g.count])).toEqual([["no quota left under the reserve: ranked below the top N", 1]])
  })

  it("keeps the largest groups and says how many there were", () => {
    const codes = Array.from({ length: MAX_GROUPS + 3 }, (_, i) => `Code${String.fromCharCode(65 + i)}`)
    const rows = codes.flatMap((code, i) =>
      Array.from({ length: i + 1 }, (_, k) => stateRow({ value: `${code}-${k}.example`, status: "rejected", reason: `${code}: bad` }))
    )
    const groups = reasonGroupsOf(rows)
    expect(groups.rejected).toHaveLength(MAX_GROUPS)
    expect(groups.totals.rejected).toBe(codes.length)
    expect(groups.rejected[0]?.reason).toBe(codes[codes.length - 1])
    expect(groups.rejected.map((g) => g.count)).toEqual([...groups.rejected.map((g) => g.count)].sort((a, b) => b - a))
  })

  it("leaves another target's rows out of a target's report", () => {
    const view = reportViewOf({
      generatedAt: "2026-03-01T00:00:00.000Z",
      targets: [
        {
          status: targetStatus("default", 1),
          runs: [],
          rows: [stateRow({ value: "203.0.113.1", status: "live" }), stateRow({ value: "203.0.113.2", status: "live", targetId: "tenant-b" })]
        }
      ]
    })
    expect(view.targets[0]?.live.total).toBe(1)
  })
})
