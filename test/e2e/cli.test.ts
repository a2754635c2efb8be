import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postgresAvailable } from "../support/postgres.js"
import { CliWorld, OWNERS, type StoreKind } from "./CliWorld.js"

const KINDS: ReadonlyArray<StoreKind> = postgresAvailable ? ["pglite", "postgres"] : ["pglite"]

interface SyncJson {
  readonly runId: string
  readonly targetId: string
  readonly mode: string
  readonly status: string
  readonly counts: Record<string, number>
  readonly apiCalls: Record<string, number>
  readonly quota: Record<string, number>
  readonly watermark: string | null
}

const isSyncJson = (u: unknown): u is SyncJson =>
  typeof u === "object" && u !== null && "runId" in u && "counts" in u && "apiCalls" in u && "quota" in u

const syncJson = (u: unknown): SyncJson => {
  if (!isSyncJson(u)) throw new Error(`not a sync report: ${JSON.stringify(u)}`)
  return u
}

/** The JSON documents of DESIGN §6, decoded (an unexpected shape fails the test with the path). */
const HistoryJson = Schema.Struct({
  events: Schema.Array(
    Schema.Struct({ type: Schema.String, at: Schema.String, runId: Schema.NullOr(Schema.String), streamId: Schema.String })
  )
})
const RunsJson = Schema.Struct({
  runs: Schema.Array(
    Schema.Struct({
      runId: Schema.String,
      status: Schema.String,
      counts: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Number }))
    })
  )
})
const RunShowJson = Schema.Struct({ events: Schema.Array(Schema.Struct({ type: Schema.String })) })

const WRITE_ENDPOINTS = ["import", "submit", "delete", "batchDelete"] as const

describe.each(KINDS)("tisync CLI end to end (%s)", (kind) => {
  let world: CliWorld
  const policy = ["--owners", OWNERS, "--lastRunDays", "31"]

  beforeAll(async () => {
    world = await CliWorld.start(kind, { indicators: 60 })
  }, 60_000)
  afterAll(async () => world?.close())

  it("plan writes no event and calls no write API", async () => {
    const plan = await world.run(["plan", "--json", ...policy])
    expect(plan.code, plan.stderr).toBe(0)
    const report = syncJson(plan.json)
    expect(report.mode).toBe("dry-run")
    expect(report.counts["submitted"]).toBeGreaterThan(0)
    const calls = world.defender.simulator.callCounts()
    for (const endpoint of WRITE_ENDPOINTS) expect(calls[endpoint]).toBe(0)
    const status = await world.run(["status", "--json"])
    expect(status.json).toMatchObject({ targets: [{ targetId: "default", lastRun: null }] })
  })

  it("the first sync submits every valid selected indicator in one import call", async () => {
    const sync = await world.run(["sync", "--json", ...policy])
    expect(sync.code, sync.stderr).toBe(0)
    const report = syncJson(sync.json)
    expect(report.status).toBe("completed")
    expect(report.counts["submitted"]).toBeGreaterThan(0)
    expect(report.apiCalls["import"]).toBe(1)
    const own = world.defender.simulator.indicators().filter((i) => i.createdBy === world.defender.simulator.appId)
    expect(own.length).toBe(report.counts["submitted"])
    expect(report.quota["live"]).toBe(own.length)
    expect(Object.keys(report.counts).sort()).toEqual(
      ["deferredQuota", "expired", "failed", "rejectedDuplicate", "rejectedInvalid", "renewed", "revoked", "selected", "submitted", "unchanged", "updated"]
    )
    expect(Object.keys(report.apiCalls).sort()).toEqual(["batchDelete", "delete", "import", "list", "submit", "threatconnect"])
  }, 60_000)

  it("an immediate re-run writes nothing", async () => {
    const before = world.defender.simulator.callCounts()
    const sync = await world.run(["sync", "--json", ...policy])
    expect(sync.code, sync.stderr).toBe(0)
    const report = syncJson(sync.json)
    for (const endpoint of WRITE_ENDPOINTS) expect(report.apiCalls[endpoint]).toBe(0)
    const after = world.defender.simulator.callCounts()
    for (const endpoint of WRITE_ENDPOINTS) expect(after[endpoint]).toBe(before[endpoint])
    expect(report.counts["submitted"]).toBe(0)
  }, 60_000)

  it("a record deactivated in ThreatConnect is revoked on an ordinary run", async () => {
    const own = world.defender.simulator.indicators().filter((i) => i.createdBy === world.defender.simulator.appId)
    const target = own.find((i) => i.indicatorType === "IpAddress" || i.indicatorType === "DomainName")
    expect(target).toBeDefined()
    const record = world.tc.store.all().find((r) => r.summary.toLowerCase() === target?.indicatorValue)
    if (record === undefined) throw new Error("no ThreatConnect record behind the indicator")
    world.tc.store.deactivate(record.id)
    const sync = await world.run(["sync", "--json", ...policy])
    expect(sync.code, sync.stderr).toBe(0)
    expect(syncJson(sync.json).counts["revoked"]).toBeGreaterThanOrEqual(1)
    expect(world.defender.simulator.indicators().some((i) => i.id === target?.id)).toBe(false)
  }, 60_000)

  it("status --json has the DESIGN shape", async () => {
    const status = await world.run(["status", "--json"])
    expect(status.code, status.stderr).toBe(0)
    expect(status.json).toMatchObject({
      targets: [
        {
          targetId: "default",
          lastRun: { status: "completed" },
          quota: { limit: 15000, reserve: 0 },
          states: { revoked: 1 }
        }
      ]
    })
  })

  it("replay --verify matches the live projections", async () => {
    const replay = await world.run(["replay", "--verify", "--json"])
    expect(replay.code, replay.stderr).toBe(0)
    expect(replay.json).toMatchObject({
      match: true,
      projections: { indicator_state: { match: true }, target_quota: { match: true }, target_last_run: { match: true }, run_summary: { match: true } }
    })
  }, 60_000)

  it("history VALUE --json is the audit trail of a value, oldest first", async () => {
    const own = world.defender.simulator.indicators().filter((i) => i.createdBy === world.defender.simulator.appId)
    const value = own[0]?.indicatorValue ?? ""
    const history = await world.run(["history", value, "--json"])
    expect(history.code, history.stderr).toBe(0)
    const events = Schema.decodeUnknownSync(HistoryJson)(history.json).events
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(["IndicatorSelected", "IndicatorMapped", "IndicatorSubmitted"])
    for (const e of events) expect(Object.keys(e)).toEqual(expect.arrayContaining(["type", "at", "runId", "streamId"]))
    expect([...events.map((e) => e.at)]).toEqual([...events.map((e) => e.at)].sort())
  })

  it("runs --json lists the runs newest first and runs show RUN_ID gives one run's counts and events", async () => {
    const runs = await world.run(["runs", "--json", "--limit", "10"])
    expect(runs.code, runs.stderr).toBe(0)
    const list = Schema.decodeUnknownSync(RunsJson)(runs.json).runs
    expect(list.length).toBe(3)
    expect([...list.map((r) => r.runId)]).toEqual([...list.map((r) => r.runId)].sort().reverse())
    const first = list[list.length - 1]
    if (first === undefined) throw new Error("no run listed")
    const show = await world.run(["runs", "show", first.runId, "--json"])
    expect(show.code, show.stderr).toBe(0)
    expect(show.json).toMatchObject({ run: { runId: first.runId, status: "completed" } })
    const events = Schema.decodeUnknownSync(RunShowJson)(show.json).events
    expect(events.filter((e) => e.type === "IndicatorSubmitted").length).toBe(first.counts?.["submitted"])
    const missing = await world.run(["runs", "show", "01a20000-0000-7000-8000-000000000000"])
    expect(missing.code).toBe(2)
  })

  it("submit then revoke by value: recorded as events, and Defender follows", async () => {
    const submit = await world.run(["submit", "--type", "IpAddress", "--value", "45.33.32.156", "--action", "Block", "--json"])
    expect(submit.code, submit.stderr).toBe(0)
    expect(submit.json).toMatchObject({ status: "submitted", value: "45.33.32.156", action: "Block" })
    expect(world.defender.simulator.indicators().some((i) => i.indicatorValue === "45.33.32.156")).toBe(true)
    const revoke = await world.run(["revoke", "45.33.32.156", "--json"])
    expect(revoke.code, revoke.stderr).toBe(0)
    expect(revoke.json).toMatchObject({ revoked: [{ value: "45.33.32.156" }] })
    expect(world.defender.simulator.indicators().some((i) => i.indicatorValue === "45.33.32.156")).toBe(false)
    const history = await world.run(["history", "45.33.32.156", "--json"])
    const types = Schema.decodeUnknownSync(HistoryJson)(history.json).events.map((e) => e.type)
    expect(types).toEqual(["IndicatorMapped", "IndicatorSubmitted", "IndicatorRevoked"])
    const bad = await world.run(["submit", "--type", "IpAddress", "--value", "10.0.0.1"])
    expect(bad.code).toBe(2)
  }, 60_000)

  it("reconcile finds no drift after clean runs", async () => {
    const reconcile = await world.run(["reconcile", "--json"])
    expect(reconcile.code, reconcile.stderr).toBe(0)
    expect(reconcile.json).toMatchObject({ targetId: "default", drift: false, missing: [], changed: [] })
  }, 60_000)

  it("exit 2: an unknown config key, named", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tisync-cfg-")), "policy.yaml")
    fs.writeFileSync(file, "owners: [ACME Corp]\nminConfidance: 50\n")
    const sync = await world.run(["sync", "--config", file])
    expect(sync.code).toBe(2)
    expect(sync.stderr).toContain("minConfidance")
  })

  it("exit 2: a missing credential names the variable, before any API call", async () => {
    const before = world.defender.simulator.callCounts()
    const sync = await world.run(["sync", ...policy], { AZURE_CLIENT_SECRET: "" })
    expect(sync.code).toBe(2)
    expect(sync.stderr).toContain("AZURE_CLIENT_SECRET")
    expect(world.defender.simulator.callCounts()).toEqual(before)
  })

  it("exit 2: plain http to a non-loopback host is refused", async () => {
    const sync = await world.run(["sync", ...policy], { DEFENDER_API_URL: "http://defender.example.com" })
    expect(sync.code).toBe(2)
    expect(sync.stderr).toContain("DEFENDER_API_URL")
  })

  it("exit 2: a bad TISYNC_DATABASE_URL, without echoing its password", async () => {
    const password = "db-pass-8c1e55"
    const status = await world.run(["status"], { TISYNC_DATABASE_URL: `postgres://tisync:${password}@127.0.0.1:1/nowhere` })
    expect(status.code).toBe(2)
    expect(status.stderr).toContain("TISYNC_DATABASE_URL")
    expect(status.stdout + status.stderr).not.toContain(password)
  })

  it("exit 1: credentials refused by the API; the secret is never printed", async () => {
    const secret = "wrong-secret-3f9a1c7e"
    const sync = await world.run(["sync", "--json", ...policy], { AZURE_CLIENT_SECRET: secret })
    expect(sync.code).toBe(1)
    expect(sync.stdout + sync.stderr).not.toContain(secret)
  }, 60_000)
})

describe("embedded store: one process at a time", () => {
  it("a second process on the same data dir exits 3 at once", async () => {
    const world = await CliWorld.start("pglite", { indicators: 20 })
    try {
      // The first run's import is held until the second process has been refused: a fixed latency let
      // the first run finish before the second started on a loaded machine, and the test then saw exit 0.
      const sim = world.defender.simulator
      const importHeld = sim.hold("import")
      const first = world.spawn(["sync", "--owners", OWNERS, "--lastRunDays", "31"])
      const firstDone = new Promise<number | null>((resolve) => first.on("close", resolve))
      for (let i = 0; i < 600 && sim.callCounts().import === 0; i++) await new Promise((r) => setTimeout(r, 100))
      expect(sim.callCounts().import).toBe(1)
      const started = Date.now()
      const second = await world.run(["status"])
      importHeld.release()
      expect(second.code).toBe(3)
      expect(second.stderr).toMatch(/in use by process \d+/)
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(await firstDone).toBe(0)
    } finally {
      await world.close()
    }
  }, 90_000)
})
