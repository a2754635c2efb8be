import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Schema } from "effect"
import { type DefenderSimulator, startDefenderSimulator } from "@tisync/adapters"
import { describe, expect, it } from "vitest"
import { postgresAvailable } from "../support/postgres.js"
import { CliWorld, OWNERS, type StoreKind } from "./CliWorld.js"
import {
  checkConvergence,
  liveStreamsInLog,
  logMismatches,
  plannedWrites,
  quotaMismatches,
  readEventLog,
  reconcileDrift,
  replayMismatches,
  unsettledMappings
} from "./CrashConvergence.js"

const policy = ["--owners", OWNERS, "--lastRunDays", "31"]

/** Two processes on one target need PostgreSQL (the embedded store serves one process: see cli.test.ts). */
describe.runIf(postgresAvailable)("two sync processes on one target (postgres)", () => {
  it("exactly one runs; the other exits 3 at once naming the holder's run id", async () => {
    const world = await CliWorld.start("postgres", { indicators: 40 })
    try {
      // Hold the first run's import until the second run has been refused, so the first still holds the
      // target lock (a fixed latency on every call let the first run finish first on a loaded machine).
      const importHeld = world.defender.simulator.hold("import")
      const first = world.spawn(["sync", "--json", ...policy])
      let firstOut = ""
      first.stdout.on("data", (d: Buffer) => (firstOut += d.toString()))
      const firstDone = new Promise<number | null>((resolve) => first.on("close", resolve))
      // Wait until the first run has started (its RunStarted is visible to `runs`).
      let holder: string | null = null
      for (let i = 0; i < 60 && holder === null; i++) {
        await new Promise((r) => setTimeout(r, 500))
        const runs = await world.run(["runs", "--json"])
        const match = /"runId":\s*"([0-9a-f-]{36})"/.exec(runs.stdout)
        holder = match?.[1] ?? null
      }
      expect(holder).not.toBeNull()
      const started = Date.now()
      const second = await world.run(["sync", "--json", ...policy])
      expect(second.code).toBe(3)
      expect(second.stderr).toContain(`held by run ${holder}`)
      expect(Date.now() - started).toBeLessThan(20_000)
      importHeld.release()
      expect(await firstDone).toBe(0)
      expect(firstOut).toContain(`"runId": "${holder}"`)
    } finally {
      await world.close()
    }
  }, 120_000)
})

const RunsJson = Schema.Struct({
  runs: Schema.Array(
    Schema.Struct({ runId: Schema.String, targetId: Schema.String, status: Schema.String, startedAt: Schema.String, finishedAt: Schema.NullOr(Schema.String) })
  )
})
const ReplayJson = Schema.Struct({ match: Schema.Boolean })
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on("close", resolve))

const BETA_TENANT = "72f988bf-0000-4000-8000-000000000be7"

/**
 * Two targets, two Defender tenants (two simulators; the first one's token endpoint serves both tenants,
 * as one multi-tenant app registration does), one config file listing both.
 */
const twoTargets = async (kind: StoreKind) => {
  const world = await CliWorld.start(kind, { indicators: 12, otherTenants: [BETA_TENANT] })
  const alpha = world.defender.simulator
  const betaHandle = await startDefenderSimulator({ tenantId: BETA_TENANT, tokensFrom: alpha, rateLimits: true })
  const beta = betaHandle.simulator
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tisync-targets-"))
  const config = path.join(dir, "targets.json")
  fs.writeFileSync(config, JSON.stringify({
    owners: OWNERS.split(","),
    lastRunDays: 31,
    targets: [
      { id: "alpha", tenantId: alpha.tenantId, apiUrl: alpha.apiUrl },
      { id: "beta", tenantId: BETA_TENANT, apiUrl: beta.apiUrl }
    ]
  }))
  const targets = [{ id: "alpha", simulator: alpha }, { id: "beta", simulator: beta }]
  const converged = async () => [
    ...(await plannedWrites(world, ["--config", config])),
    ...(await quotaMismatches(world, targets, ["--config", config])),
    ...(await reconcileDrift(world, ["--config", config, "--target", "alpha"])).map((p) => `alpha: ${p}`),
    ...(await reconcileDrift(world, ["--config", config, "--target", "beta"])).map((p) => `beta: ${p}`),
    ...(await replayMismatches(world)),
    ...(await logMismatchesAcross(world, [alpha, beta]))
  ]
  return {
    world, alpha, beta, config, converged,
    close: async () => {
      await betaHandle.close()
      await world.close()
    }
  }
}

/** The log against both tenants: every mapping settled; the live ids are exactly tisync's own in either. */
const logMismatchesAcross = async (world: CliWorld, sims: ReadonlyArray<DefenderSimulator>) => {
  const events = await readEventLog(world)
  const held = new Set(sims.flatMap((s) => s.indicators().filter((i) => i.createdBy === s.appId).map((i) => `${s.tenantId}/${i.id}`)))
  const problems = unsettledMappings(events).map((s) => `IndicatorMapped without an outcome on ${s}`)
  // Defender ids are per tenant ("1" in both): count live streams instead of comparing ids across tenants.
  const live = liveStreamsInLog(events).size
  if (live !== held.size) problems.push(`the log has ${live} live indicators, the tenants hold ${held.size}`)
  return problems
}

describe.runIf(postgresAvailable)("two targets in parallel (postgres)", () => {
  it("a sync per target: neither blocks the other, both exit 0 and converge", async () => {
    const w = await twoTargets("postgres")
    try {
      // Alpha's import stays in flight until beta's whole run has finished.
      const alphaImport = w.alpha.hold("import")
      const first = w.world.spawn(["sync", "--json", "--config", w.config, "--target", "alpha"])
      first.stdout.resume()
      first.stderr.resume()
      const firstDone = exitOf(first)
      while (w.alpha.callCounts().import === 0) await sleep(20)
      const second = await w.world.run(["sync", "--json", "--config", w.config, "--target", "beta"])
      expect(second.code, second.stderr).toBe(0)
      // Beta ran to the end while alpha's run (and its target lock) was still waiting on its import.
      expect(w.alpha.journal().some((e) => e.endpoint === "import")).toBe(false)
      expect(first.exitCode).toBeNull()
      alphaImport.release()
      expect(await firstDone).toBe(0)
      const runs = Schema.decodeUnknownSync(RunsJson)((await w.world.run(["runs", "--json", "--config", w.config])).json).runs
      const a = runs.find((r) => r.targetId === "alpha")
      const b = runs.find((r) => r.targetId === "beta")
      expect(a?.status).toBe("completed")
      expect(b?.status).toBe("completed")
      // Overlap in time, from the runs' own records.
      expect(Date.parse(b?.startedAt ?? "")).toBeLessThan(Date.parse(a?.finishedAt ?? ""))
      expect(Date.parse(a?.startedAt ?? "")).toBeLessThan(Date.parse(b?.finishedAt ?? ""))
      expect(w.alpha.indicators().length).toBeGreaterThan(0)
      expect(w.beta.indicators().length).toBe(w.alpha.indicators().length)
      expect(await w.converged()).toEqual([])
    } finally {
      await w.close()
    }
  }, 240_000)

  it("replay and replay --verify while a sync runs: no error, and afterwards the log and projections agree", async () => {
    const world = await CliWorld.start("postgres", { indicators: 12 })
    const policy = ["--owners", OWNERS, "--lastRunDays", "31"]
    try {
      const importHeld = world.defender.simulator.hold("import")
      const sync = world.spawn(["sync", "--json", ...policy])
      sync.stdout.resume()
      sync.stderr.resume()
      const syncDone = exitOf(sync)
      while (world.defender.simulator.callCounts().import === 0) await sleep(20)
      const replay = await world.run(["replay", "--json"])
      expect(replay.code, replay.stderr).toBe(0)
      const verify = await world.run(["replay", "--verify", "--json"])
      expect(verify.code, verify.stderr).toBe(0)
      // Both ran while the sync held its target and had its import in flight.
      expect(sync.exitCode).toBeNull()
      importHeld.release()
      expect(await syncDone).toBe(0)
      const after = Schema.decodeUnknownSync(ReplayJson)((await world.run(["replay", "--verify", "--json"])).json)
      expect(after.match).toBe(true)
      expect((await checkConvergence(world, policy)).problems).toEqual([])
    } finally {
      await world.close()
    }
  }, 240_000)
})

describe("two targets on the embedded store", () => {
  // One process holds the embedded store, so its targets run one after the other in a single `sync`
  // (parallel targets need PostgreSQL, DESIGN §3); both must complete and converge.
  it("one sync runs both targets; both converge", async () => {
    const w = await twoTargets("pglite")
    try {
      const sync = await w.world.run(["sync", "--json", "--config", w.config])
      expect(sync.code, sync.stderr).toBe(0)
      expect(w.alpha.indicators().length).toBeGreaterThan(0)
      expect(w.beta.indicators().length).toBe(w.alpha.indicators().length)
      expect(await w.converged()).toEqual([])
    } finally {
      await w.close()
    }
  }, 240_000)

  it("replay while a sync runs is refused at once (exit 3), and the sync is unharmed", async () => {
    const world = await CliWorld.start("pglite", { indicators: 12 })
    const policy = ["--owners", OWNERS, "--lastRunDays", "31"]
    try {
      const importHeld = world.defender.simulator.hold("import")
      const sync = world.spawn(["sync", "--json", ...policy])
      sync.stdout.resume()
      sync.stderr.resume()
      const syncDone = exitOf(sync)
      while (world.defender.simulator.callCounts().import === 0) await sleep(20)
      const replay = await world.run(["replay", "--verify", "--json"])
      expect(replay.code).toBe(3)
      expect(replay.stderr).toMatch(/in use by process \d+/)
      importHeld.release()
      expect(await syncDone).toBe(0)
      // Unharmed: the log is settled, the projections rebuild to the same rows, nothing is left to write.
      expect([...(await logMismatches(world)), ...(await replayMismatches(world)), ...(await plannedWrites(world, policy))]).toEqual([])
    } finally {
      await world.close()
    }
  }, 240_000)
})
