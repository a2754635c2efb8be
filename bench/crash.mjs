// `npm run bench -- crash`: the SIGKILL crash-recovery loop of test/e2e/crash.test.ts at benchmark size
// (issue 6 items 2 and 6): `points` seeded kill points against a slowed Defender simulator, each one a
// spawn + SIGKILL + recovery run, the cheap invariants at every recovery and the full convergence check
// (plan, status, reconcile, replay --verify, the event log) every 50 points and after the last.
// Writes bench/results/crash.json. bench/faults.mjs calls `runCrashBench({ points: 200, seed })`.
//
// The loop is the test's own TypeScript (test/e2e/CrashLoop.ts, CrashConvergence.ts, CliWorld.ts), bundled
// on the fly with esbuild (installed with vitest) so the benchmark and the test cannot drift apart.
// Environment: TISYNC_CRASH_POINTS (default 200), TISYNC_CRASH_SEED, TISYNC_CRASH_STORE (pglite | postgres;
// postgres needs TISYNC_TEST_DATABASE_URL).
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { build } from "esbuild"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const OWNERS = "ACME Corp,Demo Community,Partner Source"

/** Compiles the test's loop into node_modules/.cache (bare imports resolve from the repository). */
const loadLoop = async () => {
  const outfile = path.join(ROOT, "node_modules/.cache/tisync-bench/crash-loop.mjs")
  await build({
    entryPoints: [path.join(ROOT, "test/e2e/CrashLoop.ts"), path.join(ROOT, "test/e2e/CliWorld.ts")],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    outdir: path.dirname(outfile),
    entryNames: "[name]",
    // CliWorld finds the binary and the test CA from its own location: keep it pointing at test/e2e.
    define: { "import.meta.dirname": JSON.stringify(path.join(ROOT, "test/e2e")) },
    logLevel: "error"
  })
  const dir = path.dirname(outfile)
  const loop = await import(pathToFileURL(path.join(dir, "CrashLoop.js")).href)
  const world = await import(pathToFileURL(path.join(dir, "CliWorld.js")).href)
  return { runCrashLoop: loop.runCrashLoop, delays: loop.CRASH_DELAYS_MS, CliWorld: world.CliWorld }
}

/**
 * Runs `points` kill points on a fresh world; returns the figures bench/results/faults.json reports.
 * `indicatorsLost` and `duplicateImports` must be 0 and `converged` equal to `points`.
 */
export async function runCrashBench({ points, seed = 20261122, store = process.env.TISYNC_CRASH_STORE ?? "pglite", log = console.error }) {
  const { runCrashLoop, delays, CliWorld } = await loadLoop()
  const world = await CliWorld.start(store, { indicators: 8 })
  const started = Date.now()
  try {
    world.defender.simulator.seedForeign([{ indicatorValue: "81.2.69.77", indicatorType: "IpAddress" }])
    const result = await runCrashLoop({
      world,
      points,
      seed,
      policyArgs: ["--owners", OWNERS, "--lastRunDays", "31"],
      recoverEvery: 1,
      fullCheckEvery: 50,
      log
    })
    const byAnchor = {}
    for (const d of result.details) {
      const a = (byAnchor[d.anchor] ??= { points: 0, killed: 0 })
      a.points++
      if (d.killed) a.killed++
    }
    return {
      points: result.points,
      killed: result.killed,
      converged: result.converged,
      indicatorsLost: result.indicatorsLost,
      duplicateImports: result.duplicateImports,
      store,
      seed,
      defenderDelaysMs: delays,
      seconds: Math.round((Date.now() - started) / 1000),
      byAnchor,
      finalProblems: result.finalProblems,
      details: result.details.map((d) => ({
        index: d.index,
        anchor: d.anchor,
        offsetMs: d.offsetMs,
        killed: d.killed,
        staleLock: d.staleLock,
        recoveryExit: d.recoveryExit,
        millis: d.millis,
        problems: d.problems
      }))
    }
  } finally {
    await world.close()
  }
}

export async function run() {
  const points = Number(process.env.TISYNC_CRASH_POINTS ?? 200)
  const seed = Number(process.env.TISYNC_CRASH_SEED ?? 20261122)
  const result = await runCrashBench({ points, seed })
  const output = { date: new Date().toISOString(), node: process.version, ...result }
  fs.mkdirSync(path.join(ROOT, "bench/results"), { recursive: true })
  fs.writeFileSync(path.join(ROOT, "bench/results/crash.json"), JSON.stringify(output, null, 2) + "\n")
  const { details: _details, ...summary } = output
  console.log(JSON.stringify(summary, null, 2))
  if (result.indicatorsLost > 0 || result.duplicateImports > 0 || result.converged !== result.points) process.exitCode = 1
}
