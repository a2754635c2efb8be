import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postgresAvailable } from "../support/postgres.js"
import { CliWorld, OWNERS, type StoreKind } from "./CliWorld.js"
import { checkConvergence, SyncReportJson } from "./CrashConvergence.js"

const KINDS: ReadonlyArray<StoreKind> = postgresAvailable ? ["pglite", "postgres"] : ["pglite"]
const policy = ["--owners", OWNERS, "--lastRunDays", "31"]

const RunShowJson = Schema.Struct({
  run: Schema.Struct({ runId: Schema.String, status: Schema.String, error: Schema.NullOr(Schema.String) }),
  events: Schema.Array(Schema.Struct({ type: Schema.String }))
})
const RunsJson = Schema.Struct({ runs: Schema.Array(Schema.Struct({ runId: Schema.String, status: Schema.String })) })

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** SIGTERM stops `tisync sync` after the batch in flight (issue 6 item 2). */
describe.each(KINDS)("sync stopped with SIGTERM (%s)", (kind) => {
  let world: CliWorld
  beforeAll(async () => {
    world = await CliWorld.start(kind, { indicators: 10 })
  })
  afterAll(async () => world?.close())

  it("finishes and records the import in flight, records RunFailed (interrupted), exits non-zero; the next run converges", async () => {
    const sim = world.defender.simulator
    // The import stays in flight for 3 s: SIGTERM arrives while Defender is still working on it.
    sim.setFaults([{ endpoint: "import", calls: "all", fault: { kind: "delay", ms: 3_000 } }])
    const child = world.spawn(["sync", "--json", ...policy])
    let stderr = ""
    child.stdout.resume()
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve))
    while (sim.callCounts().import === 0) await sleep(10)
    child.kill("SIGTERM")
    const code = await exited
    expect(code, stderr).not.toBe(0)
    expect(code).toBe(130)
    // Defender answered the import in flight: it holds the batch, imported once.
    const own = sim.indicators().filter((i) => i.createdBy === sim.appId)
    expect(own.length, stderr).toBeGreaterThan(0)
    expect(sim.callCounts().import).toBe(1)

    const runs = Schema.decodeUnknownSync(RunsJson)((await world.run(["runs", "--json"])).json).runs
    expect(runs.map((r) => r.status)).toEqual(["failed"])
    const runId = runs[0]?.runId ?? ""
    const show = Schema.decodeUnknownSync(RunShowJson)((await world.run(["runs", "show", runId, "--json"])).json)
    expect(show.run.error).toContain("interrupted")
    const types = show.events.map((e) => e.type)
    expect(types).toContain("RunFailed")
    // The answered batch is recorded: one IndicatorSubmitted per indicator Defender now holds.
    expect(types.filter((t) => t === "IndicatorSubmitted").length).toBe(own.length)

    // The next run has nothing left to import and converges.
    sim.setFaults([])
    const next = await world.run(["sync", "--json", ...policy])
    expect(next.code, next.stderr).toBe(0)
    const report = Schema.decodeUnknownSync(SyncReportJson)(next.json)
    expect(report.apiCalls["import"]).toBe(0)
    expect(sim.callCounts().import).toBe(1)
    const convergence = await checkConvergence(world, policy)
    expect(convergence.problems).toEqual([])
  }, 180_000)
})
