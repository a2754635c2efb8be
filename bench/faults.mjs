// `npm run bench -- faults` (issue 6 item 6): the fault matrix with more data, on PGlite and, when a
// PostgreSQL URL is set (TISYNC_BENCH_DATABASE_URL or TISYNC_TEST_DATABASE_URL), on PostgreSQL too; then the
// crash run (bench/crash.mjs, 200 SIGKILL points) when that file exists. Writes bench/results/faults.json.
//
// The matrix is test/e2e/faults.test.ts itself, run by vitest with TISYNC_FAULTS_MODE=bench (every fault in
// its own run, each followed by the full convergence check), TISYNC_FAULTS_INDICATORS (more data) and
// TISYNC_FAULTS_REPORT (each case appends its outcome and convergence figures as one JSON line), so the
// benchmark and the CI suite can never drift apart.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const ROOT = path.resolve(import.meta.dirname, "..")
const RESULTS = path.join(ROOT, "bench/results/faults.json")
const INDICATORS = Number(process.env.TISYNC_BENCH_FAULTS_INDICATORS ?? "2000")
const CRASH_POINTS = 200
const CRASH_SEED = 20261122

const runMatrix = () =>
  new Promise((resolve, reject) => {
    const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tisync-faults-")), "cases.jsonl")
    const dbUrl = process.env.TISYNC_BENCH_DATABASE_URL ?? process.env.TISYNC_TEST_DATABASE_URL
    const env = {
      ...process.env,
      TISYNC_FAULTS_MODE: "bench",
      TISYNC_FAULTS_INDICATORS: String(INDICATORS),
      TISYNC_FAULTS_REPORT: reportFile,
      ...(dbUrl === undefined ? {} : { TISYNC_TEST_DATABASE_URL: dbUrl })
    }
    const started = Date.now()
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "test/e2e/faults.test.ts"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "inherit", "inherit"]
    })
    child.on("error", reject)
    child.on("close", (code) => {
      const lines = fs.existsSync(reportFile) ? fs.readFileSync(reportFile, "utf8").split("\n").filter((l) => l.trim() !== "") : []
      resolve({ vitestExit: code, seconds: (Date.now() - started) / 1000, stores: dbUrl === undefined ? ["pglite"] : ["pglite", "postgres"], cases: lines.map((l) => JSON.parse(l)) })
    })
  })

/** The crash section: bench/crash.mjs's `runCrashBench` when it exists. */
export const runCrashSection = async () => {
  const file = path.join(ROOT, "bench/crash.mjs")
  if (!fs.existsSync(file)) return "not available"
  const { runCrashBench } = await import("./crash.mjs")
  return runCrashBench({ points: CRASH_POINTS, seed: CRASH_SEED })
}

/** The summary of issue 6 item 6 from the per-case lines (and the crash part, folded into the totals). */
export const summarize = (matrix, crash) => {
  const cases = matrix.cases
  const passes = cases.filter(
    (c) => c.converged && c.indicatorsLost === 0 && c.duplicateImports === 0 && (c.expected === "completes" ? c.outcome === "completed" : c.expected === "fails" ? c.outcome === "failed" : c.outcome !== "other")
  ).length
  const crashPart = typeof crash === "object" && crash !== null ? crash : null
  return {
    measuredAt: new Date().toISOString(),
    indicators: INDICATORS,
    stores: matrix.stores,
    cases: cases.length,
    passes,
    runsConverged: cases.filter((c) => c.converged).length,
    indicatorsLost: cases.reduce((n, c) => n + c.indicatorsLost, 0) + (crashPart?.indicatorsLost ?? 0),
    duplicateImports: cases.reduce((n, c) => n + c.duplicateImports, 0) + (crashPart?.duplicateImports ?? 0),
    matrixSeconds: matrix.seconds,
    vitestExit: matrix.vitestExit,
    crash,
    details: cases
  }
}

export const run = async () => {
  const matrix = await runMatrix()
  const crash = await runCrashSection()
  const result = summarize(matrix, crash)
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true })
  fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`)
  const { details: _details, ...summary } = result
  console.log(JSON.stringify(summary, null, 2))
}
