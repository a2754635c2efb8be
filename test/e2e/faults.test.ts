import * as fs from "node:fs"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postgresAvailable, TEST_DATABASE_URL } from "../support/postgres.js"
import type { SimEndpoint, SimFault, SimFaultRule } from "@tisync/adapters"
import { type CliResult, CliWorld, OWNERS, type StoreKind } from "./CliWorld.js"
import { checkConvergence, checkDuplicateImports, type Convergence, quotaAgreement } from "./Convergence.js"

/**
 * The fault matrix of issue 6 item 1: for each fault, the run either completes or ends as `RunFailed` with
 * exit 1 and a message naming the fault; then, the fault gone, the next run converges (Convergence.ts).
 * One world per store; each case first gives the run work of every kind (new records to create, changed
 * ones to update, deactivated ones to revoke), so each fault meets imports, lists and deletions.
 *
 * `npm run bench -- faults` runs this file with more data (TISYNC_FAULTS_INDICATORS) and collects the
 * per-case results it appends to TISYNC_FAULTS_REPORT (one JSON line per case).
 */

const KINDS: ReadonlyArray<StoreKind> = postgresAvailable ? ["pglite", "postgres"] : ["pglite"]
const INDICATORS = Number(process.env["TISYNC_FAULTS_INDICATORS"] ?? "240")
const WORK = Math.max(12, Math.round(INDICATORS / 20))
const REPORT = process.env["TISYNC_FAULTS_REPORT"]
const policy = ["--owners", OWNERS, "--lastRunDays", "31"]

/** Short timeouts and backoff (HttpTuning.ts), so a timeout or exhausted retries take seconds. */
const TUNING = { TISYNC_REQUEST_TIMEOUT_MS: "3000", TISYNC_RETRY_BASE_DELAY_MS: "100" }

/** `either`: completing and failing with the fault named are both right (the database case: the lock is taken again, or not). */
type Expectation = "completes" | "fails" | "either"

interface FaultCase {
  readonly name: string
  readonly expect: Expectation
  /** For `fails`: the run's error must match (it names the fault). */
  readonly names?: RegExp
  /** Read every record (`--full`), e.g. to get a fixed number of ThreatConnect pages. */
  readonly full?: boolean
  /** Switches the faults on: ThreatConnect's directly, Defender's returned as rules whose call numbers count from 1 in this run. */
  readonly arm: (world: CliWorld) => ReadonlyArray<SimFaultRule>
  /** Instead of a plain run: how the faulty run is driven (the database connection case). */
  readonly drive?: (world: CliWorld, args: ReadonlyArray<string>) => Promise<CliResult>
  readonly only?: StoreKind
  readonly skipReason?: string
  /** More checks on the faulty run. */
  readonly check?: (world: CliWorld, run: CliResult) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Spawns the run and waits for it, calling `during` once Defender has received its first import. */
const runWithMidRunAction = async (
  world: CliWorld,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>,
  during: () => Promise<void>
): Promise<CliResult> => {
  const before = world.defender.simulator.callCounts().import
  const child = world.spawn(args, env)
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<number | null>((resolve) => child.on("close", resolve))
  let exited = false
  void done.then(() => (exited = true))
  while (!exited && world.defender.simulator.callCounts().import === before) await sleep(50)
  if (!exited) await during()
  const code = await done
  let json: unknown = null
  try {
    json = JSON.parse(stdout)
  } catch {
    json = null
  }
  return { code, stdout, stderr, json }
}

const terminateBackends = async (world: CliWorld): Promise<number> => {
  const url = world.storeEnv["TISYNC_DATABASE_URL"]
  if (url === undefined || TEST_DATABASE_URL === undefined) throw new Error("not a PostgreSQL world")
  const database = new URL(url).pathname.slice(1)
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  try {
    const r = await admin.query<{ killed: boolean }>(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [database]
    )
    return r.rows.filter((x) => x.killed).length
  } finally {
    await admin.end()
  }
}

const on = (endpoint: SimEndpoint, calls: ReadonlyArray<number> | "all", fault: SimFault): SimFaultRule => ({ endpoint, calls, fault })
const throttle1s: SimFault = { kind: "throttle", retryAfterSeconds: 1 }

/** Retry-After honoured: a call answered 429 is followed by its retry no sooner than ~1 s later. */
const retryAfterHonoured = (w: CliWorld, endpoint: SimEndpoint) => {
  const calls = w.defender.simulator.journal().filter((e) => e.endpoint === endpoint)
  let seen = 0
  for (let k = 1; k < calls.length; k++) {
    const prev = calls[k - 1]
    const cur = calls[k]
    if (prev === undefined || cur === undefined || prev.status !== 429) continue
    seen++
    expect(cur.atMillis - prev.atMillis).toBeGreaterThanOrEqual(900)
  }
  expect(seen).toBeGreaterThan(0)
}

const failSomeImports = (w: CliWorld): void => {
  const fresh = w.tc.store.all().filter((r) => r.summary.includes(`.faults-${workRound}.`))
  w.defender.simulator.failImportValues(fresh.slice(-3).map((r) => r.summary.toLowerCase()), "InvalidInput: injected per-item failure")
}
const countsOf = (run: CliResult): Record<string, number> =>
  (run.json as { counts?: Record<string, number> } | null)?.counts ?? {}

/** ThreatConnect pages of a full read: five, the third one failing `times` times. */
const failThirdOfFivePages = (w: CliWorld, times: number): void => {
  w.tc.clearJournal()
  w.tc.setPageSize(Math.ceil(selectable(w) / 5))
  w.tc.failPage(2, 503, times)
}
/** Five pages read, the third after two 503s. */
const thirdPageFailed = (w: CliWorld) => {
  const pages = w.tc.callJournal().filter((c) => c.path === "/api/v3/indicators")
  const startOf = (query: string) => new URLSearchParams(query).get("resultStart")
  const served = pages.filter((c) => c.status === 200).map((c) => startOf(c.query))
  expect(new Set(served).size).toBe(5)
  const failed = pages.filter((c) => c.status === 503)
  expect(failed).toHaveLength(2)
  expect(new Set(failed.map((c) => startOf(c.query)))).toEqual(new Set([served[2]]))
}

const DB_DROP: FaultCase = {
  name: "the database connection drops mid-run",
  expect: "either",
  names: /database|connection|terminat/i,
  only: "postgres",
  skipReason: "PGlite runs inside the tisync process: there is no connection to drop",
  arm: () => [on("import", [1], { kind: "delay", ms: 1_500 })],
  drive: (w, args) =>
    runWithMidRunAction(w, args, { ...TUNING, TISYNC_REQUEST_TIMEOUT_MS: "20000" }, async () => {
      expect(await terminateBackends(w)).toBeGreaterThan(0)
    })
}

/** Every fault on its own (the benchmark runs these, each followed by the full convergence check). */
const EACH_FAULT: ReadonlyArray<FaultCase> = [
  {
    name: "a 429 storm with Retry-After 1 s on import, list and BatchDelete",
    expect: "completes",
    arm: () => [on("import", [1, 2, 3], throttle1s), on("list", [1, 2], throttle1s), on("batchDelete", [1, 2], throttle1s)],
    check: (w) => retryAfterHonoured(w, "import")
  },
  {
    name: "5xx on import, transient (two 503s then answers)",
    expect: "completes",
    arm: () => [on("import", [1, 2], { kind: "status", status: 503 })]
  },
  {
    name: "5xx on import, past every retry",
    expect: "fails",
    names: /import.*\b500\b/i,
    arm: () => [on("import", "all", { kind: "status", status: 500 })]
  },
  {
    name: "5xx on list, past every retry",
    expect: "fails",
    names: /list.*\b503\b/i,
    arm: () => [on("list", "all", { kind: "status", status: 503 })]
  },
  {
    name: "5xx on BatchDelete, past every retry",
    expect: "fails",
    names: /batchDelete.*\b500\b|delet.*\b500\b/i,
    arm: () => [on("batchDelete", "all", { kind: "status", status: 500 })]
  },
  {
    name: "latency past the request timeout on import and list",
    expect: "completes",
    arm: () => [on("import", [1], { kind: "delay", ms: 5_000 }), on("list", [1], { kind: "delay", ms: 5_000 })]
  },
  {
    name: "dropped connections on import, list and BatchDelete",
    expect: "completes",
    arm: () => [on("import", [1, 2], { kind: "drop" }), on("list", [1], { kind: "drop" }), on("batchDelete", [1], { kind: "drop" })]
  },
  {
    name: "partial import failures (some items answer isFailed)",
    expect: "completes",
    arm: (w) => {
      failSomeImports(w)
      return []
    },
    check: (_w, run) => expect(countsOf(run)["rejectedInvalid"] ?? 0).toBeGreaterThanOrEqual(3)
  },
  {
    name: "the access token expires mid-run",
    expect: "completes",
    arm: () => [on("list", [1], { kind: "expireTokens" }), on("import", [1], { kind: "expireTokens" })]
  },
  {
    name: "ThreatConnect fails on page 3 of 5, transiently",
    expect: "completes",
    full: true,
    arm: (w) => {
      failThirdOfFivePages(w, 2)
      return []
    },
    check: thirdPageFailed
  },
  {
    name: "ThreatConnect fails on page 3 of 5, past every retry",
    expect: "fails",
    names: /ThreatConnect|\/v3\/indicators/i,
    full: true,
    arm: (w) => {
      failThirdOfFivePages(w, 1_000)
      return []
    }
  },
  DB_DROP
]

/**
 * The CI matrix: the same faults, grouped so the suite spawns few processes (each costs seconds): every
 * transient fault in one run (distinct calls, within the sink's 5 retries), then each fault that outlasts
 * the retries. The full convergence check runs after each group's follow-up in the benchmark, and once at
 * the end here (each group still checks its runs, duplicates and quota).
 */
const GROUPED: ReadonlyArray<FaultCase> = [
  {
    name: "every transient fault at once: 429 storm (Retry-After 1 s), 503, dropped connections, latency past the timeout, token expiry, partial import failures, ThreatConnect page 3 of 5 failing",
    expect: "completes",
    full: true,
    arm: (w) => {
      failSomeImports(w)
      failThirdOfFivePages(w, 2)
      return [
        on("import", [1], throttle1s),
        on("import", [2], { kind: "status", status: 503 }),
        on("import", [3], { kind: "drop" }),
        on("import", [4], { kind: "expireTokens" }),
        on("list", [1], { kind: "delay", ms: 5_000 }),
        on("list", [2], throttle1s),
        on("list", [3], { kind: "expireTokens" }),
        on("batchDelete", [1], { kind: "drop" }),
        on("batchDelete", [2], { kind: "status", status: 502 })
      ]
    },
    check: (w, run) => {
      retryAfterHonoured(w, "import")
      thirdPageFailed(w)
      expect(countsOf(run)["rejectedInvalid"] ?? 0).toBeGreaterThanOrEqual(3)
      const journal = w.defender.simulator.journal()
      expect(journal.some((e) => e.status === "dropped")).toBe(true)
      expect(journal.some((e) => e.status === 401)).toBe(true)
    }
  },
  {
    name: "5xx on import and BatchDelete past every retry",
    expect: "fails",
    names: /\b500\b/,
    arm: () => [on("import", "all", { kind: "status", status: 500 }), on("batchDelete", "all", { kind: "status", status: 500 })],
    check: (w, run) => {
      expect(errorOf(run)).toMatch(/delet|import/i)
      // Both write endpoints were tried, each with its five retries, although the first one failed.
      const served500 = (endpoint: SimEndpoint) => w.defender.simulator.journal().filter((e) => e.endpoint === endpoint && e.status === 500).length
      expect(served500("batchDelete")).toBe(6)
      expect(served500("import")).toBe(6)
    }
  },
  EACH_FAULT.find((c) => c.name.startsWith("5xx on list")) ?? DB_DROP,
  EACH_FAULT.find((c) => c.name.startsWith("ThreatConnect fails on page 3 of 5, past")) ?? DB_DROP,
  DB_DROP
]

const BENCH = process.env["TISYNC_FAULTS_MODE"] === "bench"
const CASES = BENCH ? EACH_FAULT : GROUPED

/** Active records of the selected owners: what a full run reads. */
const selectable = (w: CliWorld): number =>
  w.tc.store.all().filter((r) => r.active && OWNERS.split(",").includes(r.ownerName)).length

let workRound = 0
/** New records (creates), changed confidence (updates: it is in the description), deactivations (revokes). */
const giveWork = (world: CliWorld): void => {
  const round = ++workRound
  for (let i = 0; i < WORK; i++) {
    world.tc.store.add(
      i % 2 === 0
        ? { ownerName: "ACME Corp", type: "Host", summary: `r${round}n${i}.faults-${round}.example.com`, rating: 3, confidence: 60 }
        : { ownerName: "Partner Source", type: "Address", summary: `44.${round % 250}.${Math.floor(i / 250)}.${(i % 250) + 1}`, rating: 4, confidence: 70 }
    )
  }
  const live = new Set(world.defender.simulator.indicators().map((i) => i.indicatorValue.toLowerCase()))
  const held = world.tc.store
    .all()
    .filter((r) => r.active && (r.type === "Host" || r.type === "Address") && live.has(r.summary.toLowerCase()))
  for (const r of held.slice(0, 4)) world.tc.store.modify(r.id, { confidence: ((r.confidence ?? 0) + 7) % 101 })
  for (const r of held.slice(4, 7)) world.tc.store.deactivate(r.id)
}

const clearFaults = (world: CliWorld): void => {
  world.defender.simulator.setFaults([])
  world.defender.simulator.failImportValues([])
  world.tc.clearFaults()
  world.tc.setPageSize(null)
}

const report = (line: Record<string, unknown>): void => {
  if (REPORT !== undefined) fs.appendFileSync(REPORT, `${JSON.stringify(line)}\n`)
}

const statusOf = (r: CliResult): string | null => {
  const j: unknown = r.json
  return typeof j === "object" && j !== null && "status" in j && typeof j.status === "string" ? j.status : null
}
const errorOf = (r: CliResult): string => {
  const j: unknown = r.json
  return typeof j === "object" && j !== null && "error" in j && typeof j.error === "string" ? j.error : r.stderr.slice(-800)
}

describe.each(KINDS)("fault matrix (%s)", (kind) => {
  let world: CliWorld

  beforeAll(async () => {
    world = await CliWorld.start(kind, { indicators: INDICATORS, seed: 11 })
    // Forced 429s are injected per case; the real limits would only add minutes of waiting across cases.
    world.defender.simulator.setRateLimits(false)
    // The first, fault-free sync keeps the adapters' default timeouts: it carries the bulk of the data.
    const first = await world.run(["sync", "--json", ...policy])
    expect(first.code, first.stderr).toBe(0)
  }, 600_000)
  afterAll(async () => world?.close())

  for (const c of CASES) {
    const skip = c.only !== undefined && c.only !== kind
    const title = `${c.name}: ${c.expect === "completes" ? "the run completes" : c.expect === "fails" ? "RunFailed, exit 1, naming the fault" : "the run completes or fails naming the fault"}; the next run converges`
    it.skipIf(skip)(skip ? `${title} (skipped: ${c.skipReason ?? ""})` : title, async () => {
      const started = Date.now()
      giveWork(world)
      // Rules count calls from this run on (the simulator counts from its start).
      const before = world.defender.simulator.callCounts()
      world.defender.simulator.setFaults(
        c.arm(world).map((r) => (r.calls === "all" ? r : { ...r, calls: r.calls.map((n) => n + before[r.endpoint]) }))
      )
      const args = ["sync", "--json", ...(c.full === true ? ["--full"] : []), ...policy]
      let faulty: CliResult
      try {
        faulty = c.drive !== undefined ? await c.drive(world, args) : await world.run(args, TUNING)
      } finally {
        clearFaults(world)
      }
      const outcome = faulty.code === 0 && statusOf(faulty) === "completed" ? "completed" : faulty.code === 1 && statusOf(faulty) === "failed" ? "failed" : "other"
      const followUp = await world.run(["sync", "--json", ...policy], TUNING)
      // The follow-up's own report carries the quota it ended with: it must be what Defender holds.
      const quota = quotaAgreement(world, followUp.json)
      const duplicates = checkDuplicateImports(world)
      const convergence: Convergence | null = BENCH ? await checkConvergence(world, policy) : null
      report({
        store: kind,
        case: c.name,
        expected: c.expect,
        outcome,
        exitCode: faulty.code,
        error: outcome === "completed" ? null : errorOf(faulty).slice(0, 400),
        followUp: { exitCode: followUp.code, status: statusOf(followUp) },
        converged: followUp.code === 0 && quota.match && duplicates.length === 0 && (convergence?.converged ?? true),
        indicatorsLost: convergence?.indicatorsLost ?? 0,
        duplicateImports: duplicates.length,
        problems: convergence?.problems ?? [],
        millis: Date.now() - started
      })

      const why = (r: CliResult) => `${r.stderr.slice(-1500)}\n${r.stdout.slice(0, 1500)}`
      if (c.expect === "completes") {
        expect(faulty.code, why(faulty)).toBe(0)
        expect(statusOf(faulty)).toBe("completed")
      } else if (c.expect === "fails") {
        expect(faulty.code, why(faulty)).toBe(1)
        expect(statusOf(faulty), why(faulty)).toBe("failed")
        expect(errorOf(faulty)).toMatch(c.names ?? /./)
      } else if (faulty.code !== 0) {
        // The lock could not be taken again: the run stops at once, exit 1, the fault named on stderr.
        expect(faulty.code, why(faulty)).toBe(1)
        expect(errorOf(faulty)).toMatch(c.names ?? /./)
      }
      c.check?.(world, faulty)
      expect(followUp.code, why(followUp)).toBe(0)
      expect(statusOf(followUp)).toBe("completed")
      expect(quota, `${JSON.stringify(quota)}\n${followUp.stdout.slice(0, 1500)}`).toMatchObject({ match: true })
      expect(duplicates).toEqual([])
      if (convergence !== null) {
        expect(convergence.problems).toEqual([])
        expect(convergence.indicatorsLost).toBe(0)
      }
    }, 180_000)
  }

  it("after every fault and its follow-up run: Defender holds the planned state, every IndicatorMapped has an outcome, quota matches, replay --verify matches, no duplicate import", async () => {
    const convergence = await checkConvergence(world, policy)
    expect(convergence.problems).toEqual([])
    expect(convergence.indicatorsLost).toBe(0)
    expect(convergence.outcomes.mapped).toBeGreaterThan(0)
    expect(convergence.planned.defenderOwn).toBeGreaterThan(0)
    expect(convergence.converged).toBe(true)
    // Every run here could record its end, failed ones included.
    expect(convergence.outcomes.runsUnfinished).toEqual([])
  }, 180_000)
})
