import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postgresAvailable } from "../support/postgres.js"
import { CliWorld, OWNERS, type StoreKind } from "./CliWorld.js"
import { logMismatches, SyncReportJson } from "./CrashConvergence.js"
import { runCrashLoop } from "./CrashLoop.js"

/**
 * `tisync sync` killed with SIGKILL (issue 6 item 2). TISYNC_CRASH_SEED replays a failing sequence;
 * `npm run bench -- crash` runs the same loop with 200 points, a recovery after each;
 * TISYNC_CRASH_POINTS sets the embedded store's count here (default 20).
 *
 * Cost on CI: every CLI start costs seconds of CPU, so the loop recovers after every RECOVER_EVERY-th
 * point only (the runs in between are the previous kill's recovery, killed too: crashes during recovery)
 * and checks full convergence once, after the last point; the cheap invariants (recovery exit 0, no
 * value imported more often than needed, Defender's count equals the run's live count) hold at every
 * recovery. The benchmark recovers after every point.
 */
const SEED = Number(process.env["TISYNC_CRASH_SEED"] ?? 20261122)
const POINTS: Record<StoreKind, number> = { pglite: Number(process.env["TISYNC_CRASH_POINTS"] ?? 20), postgres: 6 }
const RECOVER_EVERY: Record<StoreKind, number> = { pglite: 5, postgres: 3 }
const KINDS: ReadonlyArray<StoreKind> = postgresAvailable ? ["pglite", "postgres"] : ["pglite"]
const policy = ["--owners", OWNERS, "--lastRunDays", "31"]

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe.each(KINDS)("sync killed with SIGKILL recovers and converges (%s)", (kind) => {
  let world: CliWorld
  beforeAll(async () => {
    world = await CliWorld.start(kind, { indicators: 8 })
    // Another app's indicator: the quota's foreign count must survive every crash too.
    world.defender.simulator.seedForeign([{ indicatorValue: "81.2.69.77", indicatorType: "IpAddress" }])
  })
  afterAll(async () => world?.close())

  it("killed while the import is in flight: the recovery confirms the batch Defender applied without importing it again", async () => {
    const sim = world.defender.simulator
    sim.setFaults([{ endpoint: "import", calls: "all", fault: { kind: "delay", ms: 1_500 } }])
    const child = world.spawn(["sync", "--json", ...policy])
    child.stdout.resume()
    child.stderr.resume()
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()))
    while (sim.callCounts().import === 0) await sleep(5)
    child.kill("SIGKILL")
    await exited
    // Defender finishes the import the dead process sent.
    while (sim.journal().every((e) => e.endpoint !== "import")) await sleep(20)
    const held = sim.indicators().filter((i) => i.createdBy === sim.appId).length
    expect(held).toBeGreaterThan(0)
    sim.setFaults([])
    const recovery = await world.run(["sync", "--json", ...policy])
    expect(recovery.code, recovery.stderr).toBe(0)
    const report = Schema.decodeUnknownSync(SyncReportJson)(recovery.json)
    expect(report.apiCalls["import"]).toBe(0)
    expect(report.counts["submitted"]).toBe(held)
    expect([...sim.importsPerValue().values()].every((n) => n === 1)).toBe(true)
    // Settled in the log and held in Defender (plan, status, reconcile, replay: the loop's final check).
    expect(await logMismatches(world)).toEqual([])
  }, 180_000)

  it(`${POINTS[kind]} seeded kill points (seed ${SEED}) each recover and converge`, async () => {
    const result = await runCrashLoop({
      world,
      points: POINTS[kind],
      seed: SEED,
      policyArgs: policy,
      recoverEvery: RECOVER_EVERY[kind],
      log: (line) => console.log(`[${kind}] ${line}`)
    })
    expect(result.details.filter((d) => d.problems.length > 0).map((d) => `point ${d.index}: ${d.problems.join("; ")}`)).toEqual([])
    expect(result.finalProblems).toEqual([])
    expect(result.indicatorsLost).toBe(0)
    expect(result.duplicateImports).toBe(0)
    expect(result.converged).toBe(result.recoveries)
    // The embedded store's lock file left by a killed process was taken over (DESIGN §3).
    if (kind === "pglite") expect(result.details.some((d) => d.killed && d.staleLock)).toBe(true)
    // Most points must really kill a run (not race past its end), or the test proves little.
    expect(result.killed).toBeGreaterThanOrEqual(Math.ceil(POINTS[kind] * 0.6))
  }, 900_000)
})
