import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Schema } from "effect"
import type { SimFaultRule } from "@tisync/adapters"
import type { CliWorld } from "./CliWorld.js"
import { checkConvergence, excessImports, ownInDefender, SyncReportJson } from "./CrashConvergence.js"

/**
 * SIGKILL crash recovery (issue 6 item 2), shared by test/e2e/crash.test.ts and bench/crash.mjs.
 *
 * Each point: change a few ThreatConnect records (new ones to create, an earlier one to update, one to
 * revoke), start `tisync sync`, kill it with SIGKILL at a seeded moment, then run `sync` again to the end
 * and check the cheap invariants (the recovery completes with exit 0, no value imported more often than
 * its payload versions need, Defender holds as many of tisync's indicators as the run says are live).
 * The full convergence check (plan, status, reconcile, replay --verify, the log) runs every
 * `fullCheckEvery` points and after the last.
 *
 * The moment is an anchor the simulators can observe (process start, first ThreatConnect request, the
 * Defender list, a delete or import arriving, an import answered) plus a seeded offset, so kills land in
 * every phase of a run whatever the machine's speed.
 */

/** Defender slowed per endpoint so a run spends seconds with calls in flight. */
export const CRASH_DELAYS_MS = { list: 150, import: 600, delete: 300, batchDelete: 300 } as const

export const slowDefender = (world: CliWorld): void => {
  const rules: ReadonlyArray<SimFaultRule> = (Object.keys(CRASH_DELAYS_MS) as ReadonlyArray<keyof typeof CRASH_DELAYS_MS>).map((endpoint) => ({
    endpoint,
    calls: "all",
    fault: { kind: "delay", ms: CRASH_DELAYS_MS[endpoint] }
  }))
  world.defender.simulator.setFaults(rules)
}

export const ANCHORS = ["start", "source", "list", "delete", "import", "imported", "end"] as const
export type Anchor = (typeof ANCHORS)[number]

export interface CrashPoint {
  readonly index: number
  readonly anchor: Anchor
  readonly offsetMs: number
  /** False when the run ended before the kill moment (it is then an ordinary run). */
  readonly killed: boolean
  /** The lock file the killed process left (embedded store): the recovery must take it over. */
  readonly staleLock: boolean
  /** Null when this point's recovery was the next point's (killed) run. */
  readonly recoveryExit: number | null
  readonly problems: ReadonlyArray<string>
  readonly millis: number
}

export interface CrashLoopResult {
  readonly points: number
  readonly killed: number
  /** Recovery runs made (every point, or every `recoverEvery` points). */
  readonly recoveries: number
  /** Recoveries that completed with every check holding. */
  readonly converged: number
  readonly indicatorsLost: number
  readonly duplicateImports: number
  /** Problems of the final full convergence check. */
  readonly finalProblems: ReadonlyArray<string>
  readonly details: ReadonlyArray<CrashPoint>
}

export interface CrashLoopOptions {
  readonly world: CliWorld
  readonly points: number
  readonly seed: number
  readonly policyArgs: ReadonlyArray<string>
  readonly fullCheckEvery?: number
  /**
   * Run the recovery after every Nth point only (default 1: spawn, kill, recover at every point). Above 1,
   * the next point's run is itself the recovery of the previous kill and is killed too: crashes during
   * recovery, at less cost per point.
   */
  readonly recoverEvery?: number
  readonly log?: (line: string) => void
}

/** mulberry32: a small seeded generator, so a failing point can be replayed from its seed. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const hex = (random: () => number, length: number): string =>
  Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join("")

/** Records this loop added, with the Defender key its payload lands on. */
interface Added {
  readonly recordId: string
  readonly valueKey: string
}

/** The ThreatConnect side of a point: two new records, one earlier one changed, one revoked. */
const mutateSource = (world: CliWorld, random: () => number, index: number, added: Array<Added>, updates: Map<string, number>) => {
  const store = world.tc.store
  const host = `p${index}-${hex(random, 6)}.crash-test.com`
  const md5 = hex(random, 32)
  const hostRecord = store.add({ ownerName: "ACME Corp", type: "Host", summary: host, rating: 3 })
  const fileRecord = store.add({ ownerName: "Partner Source", type: "File", summary: md5, rating: 2 })
  const earlier = added.filter((a) => store.get(a.recordId)?.active === true)
  added.push({ recordId: hostRecord.id, valueKey: `DomainName|${host}` }, { recordId: fileRecord.id, valueKey: `FileMd5|${md5}` })
  const changed = earlier[Math.floor(random() * earlier.length)]
  if (changed !== undefined) {
    const current = store.get(changed.recordId)
    // A new threat rating changes the severity: a new payload version, one more import needed.
    store.modify(changed.recordId, { rating: current?.rating === 5 ? 1 : (current?.rating ?? 0) + 1 })
    updates.set(changed.valueKey, (updates.get(changed.valueKey) ?? 0) + 1)
  }
  const active = store.all().filter((r) => r.active && r.id !== changed?.recordId && r.id !== hostRecord.id && r.id !== fileRecord.id)
  const gone = active[Math.floor(random() * active.length)]
  if (gone !== undefined) {
    if (random() < 0.5) store.deactivate(gone.id)
    else store.remove(gone.id)
  }
}

/** Resolves when the anchor is observed (true) or the process has exited first (false). */
const waitForAnchor = async (world: CliWorld, anchor: Anchor, exited: () => boolean): Promise<boolean> => {
  const sim = world.defender.simulator
  const calls = sim.callCounts()
  const tcBefore = world.tc.requestCount
  const answered = () => sim.journal().filter((e) => e.endpoint === "import" && e.status !== "dropped").length
  const answeredBefore = answered()
  const seen = (): boolean => {
    const now = sim.callCounts()
    switch (anchor) {
      case "start":
        return true
      case "source":
        return world.tc.requestCount > tcBefore
      case "list":
        return now.list > calls.list
      case "delete":
        return now.delete + now.batchDelete > calls.delete + calls.batchDelete
      case "import":
        return now.import > calls.import
      case "imported":
      case "end":
        return answered() > answeredBefore
    }
  }
  while (!seen()) {
    if (exited()) return false
    await sleep(5)
  }
  return true
}

/** Offsets after each anchor: up to the time its call stays in flight, or a bit past the event. */
const offsetFor = (anchor: Anchor, random: () => number): number => {
  const upTo = (ms: number) => Math.floor(random() * ms)
  switch (anchor) {
    case "start":
      // Process start, store open, lock, migrations, RunStarted: under 2 s on an idle machine.
      return upTo(1_500)
    case "source":
      return upTo(400)
    case "list":
      return upTo(CRASH_DELAYS_MS.list)
    case "delete":
      return upTo(CRASH_DELAYS_MS.delete)
    case "import":
      return upTo(CRASH_DELAYS_MS.import)
    case "imported":
      return upTo(100)
    case "end":
      // The run's tail after the last answer (outcome events, RunCompleted) is short on a fast machine.
      return 100 + upTo(250)
  }
}

const lockFileOf = (world: CliWorld): string | null => {
  const dir = world.storeEnv["TISYNC_DATA_DIR"]
  return dir === undefined ? null : path.join(dir, "tisync.lock")
}

/** Starts `sync`, kills it with SIGKILL at the anchor plus the offset; says whether it was killed. */
const syncAndKill = async (world: CliWorld, policyArgs: ReadonlyArray<string>, anchor: Anchor, offsetMs: number) => {
  const child: ChildProcess = world.spawn(["sync", "--json", ...policyArgs])
  let exited = false
  const closed = new Promise<void>((resolve) =>
    child.on("close", () => {
      exited = true
      resolve()
    })
  )
  child.stdout?.resume()
  child.stderr?.resume()
  let killed = false
  if (await waitForAnchor(world, anchor, () => exited)) {
    await Promise.race([sleep(offsetMs), closed])
    if (!exited) killed = child.kill("SIGKILL")
  }
  await closed
  return killed
}

export const runCrashLoop = async (options: CrashLoopOptions): Promise<CrashLoopResult> => {
  const { world, points, policyArgs } = options
  const log = options.log ?? (() => undefined)
  const fullCheckEvery = options.fullCheckEvery ?? points
  const recoverEvery = options.recoverEvery ?? 1
  const random = seededRandom(options.seed)
  const added: Array<Added> = []
  const updates = new Map<string, number>()
  const allowed = (valueKey: string) => 1 + (updates.get(valueKey) ?? 0)
  slowDefender(world)

  // The first full run, so every point starts from a converged target with work left to do.
  const first = await world.run(["sync", "--json", ...policyArgs])
  if (first.code !== 0) throw new Error(`the first sync exited ${String(first.code)}: ${first.stderr.slice(-500)}`)

  const details: Array<CrashPoint> = []
  let finalProblems: ReadonlyArray<string> = []
  let indicatorsLost = 0
  let duplicateImports = 0
  for (let index = 0; index < points; index++) {
    const began = Date.now()
    mutateSource(world, random, index, added, updates)
    const anchor = ANCHORS[Math.floor(random() * ANCHORS.length)] ?? "start"
    const offsetMs = offsetFor(anchor, random)
    const killed = await syncAndKill(world, policyArgs, anchor, offsetMs)
    const lockFile = lockFileOf(world)
    const staleLock = lockFile !== null && fs.existsSync(lockFile)

    const killMillis = Date.now() - began
    const last = index === points - 1
    const problems: Array<string> = []
    let recoveryExit: number | null = null
    if (last || (index + 1) % recoverEvery === 0) {
      const recovery = await world.run(["sync", "--json", ...policyArgs])
      recoveryExit = recovery.code
      if (recovery.code !== 0) problems.push(`the recovery run exited ${String(recovery.code)}: ${recovery.stderr.slice(-400)}`)
      const report = Schema.decodeUnknownOption(SyncReportJson)(recovery.json)
      if (report._tag === "None") {
        problems.push("the recovery run printed no report")
      } else {
        if (report.value.status !== "completed") problems.push(`the recovery run ended ${report.value.status}`)
        const own = ownInDefender(world).length
        if (report.value.quota.live !== own) problems.push(`the recovery run says ${report.value.quota.live} live, Defender holds ${own}`)
      }
      const excess = excessImports(world, allowed)
      problems.push(...excess)
      duplicateImports = excess.length
    }
    const recoveryMillis = Date.now() - began - killMillis

    if (last || (index + 1) % fullCheckEvery === 0) {
      const full = await checkConvergence(world, policyArgs, allowed)
      problems.push(...full.problems)
      indicatorsLost = full.indicatorsLost
      duplicateImports = full.duplicateImports
      if (last) finalProblems = full.problems
    }
    const point: CrashPoint = { index, anchor, offsetMs, killed, staleLock, recoveryExit, problems, millis: Date.now() - began }
    details.push(point)
    log(`point ${index}: ${anchor}+${offsetMs}ms ${killed ? "killed" : "finished first"}${staleLock ? " (stale lock)" : ""}, ` +
      `recovery exit ${String(recoveryExit)}, ${problems.length === 0 ? "converged" : problems.join("; ")} (${point.millis} ms: kill ${killMillis}, recovery ${recoveryMillis})`)
  }
  return {
    points,
    killed: details.filter((d) => d.killed).length,
    recoveries: details.filter((d) => d.recoveryExit !== null).length,
    converged: details.filter((d) => d.recoveryExit !== null && d.problems.length === 0).length,
    indicatorsLost,
    duplicateImports,
    finalProblems,
    details
  }
}
