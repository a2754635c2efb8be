import { Effect, Layer, Redacted } from "effect"
import { PgliteStoreLive, PostgresStoreLive, type SimImportedValue, type StoreServices } from "@tisync/adapters"
import { EventStore, type RecordedEvent } from "@tisync/domain"
import type { CliResult, CliWorld } from "./CliWorld.js"

/**
 * The convergence properties of issue 6 after a fault (or a crash) and a follow-up run, checked from the
 * outside: through the `tisync` CLI of a CliWorld, the simulators' own state and the event log read with
 * the store adapters. Every function takes the world (and the policy flags the runs used) and returns what
 * it found, so a test can assert on it and a benchmark can count it; `checkConvergence` runs them all.
 * Call them while no `tisync` process runs (the embedded store serves one process at a time).
 */

/** Events that settle an `IndicatorMapped`: Defender's answer, or a decision that no call will follow. */
const OUTCOMES: ReadonlySet<string> = new Set([
  "IndicatorSubmitted",
  "IndicatorRejected",
  "IndicatorRejectedDuplicate",
  "IndicatorDeferred",
  "IndicatorRevoked",
  "IndicatorExpired"
])

const WRITE_COUNTS = ["submitted", "updated", "renewed", "revoked"] as const

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const numberAt = (u: unknown, ...path: ReadonlyArray<string>): number | null => {
  let cur: unknown = u
  for (const p of path) cur = isRecord(cur) ? cur[p] : undefined
  return typeof cur === "number" ? cur : null
}
const arrayAt = (u: unknown, key: string): ReadonlyArray<unknown> => {
  const v = isRecord(u) ? u[key] : undefined
  return Array.isArray(v) ? v : []
}

const describe = (what: string, r: CliResult) => `${what} exited ${String(r.code)}: ${r.stderr.slice(-600)}`

// ---------------------------------------------------------------------------------------------- (a)

export interface PlannedState {
  /** Writes a fresh plan still wants (creates, updates, renewals, revocations): 0 when converged. */
  readonly plannedWrites: number
  readonly plannedCreates: number
  /** `reconcile --json` drift lists, by name, with how many entries each has. */
  readonly drift: Readonly<Record<string, number>>
  readonly driftFound: boolean
  /** Own indicators in the simulator and live rows in the projections. */
  readonly defenderOwn: number
  readonly projectionLive: number
  readonly problems: ReadonlyArray<string>
}

/** (a) Defender holds what tisync plans: a new plan writes nothing and reconcile finds no drift. */
export const checkPlannedState = async (
  world: CliWorld,
  policy: ReadonlyArray<string>,
  /** A `status --json` taken after the runs, to spare a process. */
  statusJson?: CliResult
): Promise<PlannedState> => {
  const problems: Array<string> = []
  const plan = await world.run(["plan", "--json", ...policy])
  if (plan.code !== 0) problems.push(describe("plan", plan))
  const plannedWrites = WRITE_COUNTS.reduce((n, k) => n + (numberAt(plan.json, "counts", k) ?? 0), 0)
  const plannedCreates = numberAt(plan.json, "counts", "submitted") ?? 0
  if (plannedWrites > 0) problems.push(`a fresh plan still wants ${plannedWrites} write(s): ${JSON.stringify(isRecord(plan.json) ? plan.json["counts"] : plan.stdout)}`)
  const reconcile = await world.run(["reconcile", "--json"])
  if (reconcile.code !== 0) problems.push(describe("reconcile", reconcile))
  const drift: Record<string, number> = {}
  for (const k of ["missing", "expired", "changed", "unknownOwn"]) {
    drift[k] = arrayAt(reconcile.json, k).length
    if ((drift[k] ?? 0) > 0) problems.push(`reconcile: ${drift[k]} ${k}: ${JSON.stringify(arrayAt(reconcile.json, k).slice(0, 3))}`)
  }
  const driftFound = isRecord(reconcile.json) ? reconcile.json["drift"] === true : true
  const sim = world.defender.simulator
  const defenderOwn = sim.indicators().filter((i) => i.createdBy === sim.appId).length
  const status = statusJson ?? (await world.run(["status", "--json"]))
  const projectionLive = numberAt(arrayAt(status.json, "targets")[0], "states", "live") ?? -1
  if (defenderOwn !== projectionLive) problems.push(`Defender holds ${defenderOwn} of tisync's indicators, the projection ${projectionLive} live`)
  return { plannedWrites, plannedCreates, drift, driftFound, defenderOwn, projectionLive, problems }
}

// ---------------------------------------------------------------------------------------------- (b)

export interface MappedOutcomes {
  readonly mapped: number
  /** `IndicatorMapped` events with no outcome after them (before the stream's next `IndicatorMapped`). */
  readonly withoutOutcome: ReadonlyArray<{ readonly streamId: string; readonly version: number }>
  readonly runsStarted: number
  /**
   * Runs with neither `RunCompleted` nor `RunFailed`. Not a convergence problem by itself (a SIGKILLed run
   * cannot record its end); a fault test, where every run can, asserts it is empty.
   */
  readonly runsUnfinished: ReadonlyArray<string>
}

const storeLayerOf = (world: CliWorld): Layer.Layer<StoreServices, unknown> => {
  const url = world.storeEnv["TISYNC_DATABASE_URL"]
  if (url !== undefined) return PostgresStoreLive(Redacted.make(url))
  const dir = world.storeEnv["TISYNC_DATA_DIR"]
  if (dir === undefined) throw new Error("the world names no store")
  return PgliteStoreLive(dir)
}

/** Every event of the log, in global order, read with the store adapter the CLI uses. */
export const readEventLog = (world: CliWorld): Promise<ReadonlyArray<RecordedEvent>> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* EventStore
      const out: Array<RecordedEvent> = []
      for (;;) {
        const last = out[out.length - 1]
        const page = yield* store.readAll(last === undefined ? null : last.checkpoint, 5_000)
        out.push(...page)
        if (page.length < 5_000) return out
      }
    }).pipe(Effect.provide(storeLayerOf(world)), Effect.scoped)
  )

/** (b) Every `IndicatorMapped` has an outcome; every run ended (completed or failed). */
export const checkMappedOutcomes = async (world: CliWorld): Promise<MappedOutcomes> => {
  const events = await readEventLog(world)
  const open = new Map<string, number>()
  const withoutOutcome: Array<{ streamId: string; version: number }> = []
  let mapped = 0
  const runs = new Map<string, boolean>()
  for (const e of events) {
    const tag = e.event._tag
    if (tag === "IndicatorMapped") {
      mapped++
      const prior = open.get(e.streamId)
      if (prior !== undefined) withoutOutcome.push({ streamId: e.streamId, version: prior })
      open.set(e.streamId, e.version)
    } else if (OUTCOMES.has(tag)) {
      open.delete(e.streamId)
    } else if (tag === "RunStarted") {
      runs.set(e.streamId, false)
    } else if (tag === "RunCompleted" || tag === "RunFailed") {
      runs.set(e.streamId, true)
    }
  }
  for (const [streamId, version] of open) withoutOutcome.push({ streamId, version })
  return {
    mapped,
    withoutOutcome,
    runsStarted: runs.size,
    runsUnfinished: [...runs].filter(([, ended]) => !ended).map(([id]) => id)
  }
}

// ---------------------------------------------------------------------------------------------- (c)

export interface QuotaAgreement {
  readonly status: { readonly live: number; readonly foreign: number }
  readonly defender: { readonly own: number; readonly foreign: number }
  readonly match: boolean
}

/** (c) `status --json` quota counts equal what Defender holds: tisync's own live ones and the others'. */
export const checkQuota = async (world: CliWorld, statusJson?: CliResult): Promise<QuotaAgreement> => {
  const status = statusJson ?? (await world.run(["status", "--json"]))
  return quotaAgreement(world, arrayAt(status.json, "targets")[0])
}

/**
 * (c) from any document carrying a `quota` object (`status --json`'s target, or a `sync --json` report,
 * which prints the quota the run ended with).
 */
export const quotaAgreement = (world: CliWorld, withQuota: unknown): QuotaAgreement => {
  const live = numberAt(withQuota, "quota", "live") ?? -1
  const foreign = numberAt(withQuota, "quota", "foreign") ?? -1
  const sim = world.defender.simulator
  const all = sim.indicators()
  const own = all.filter((i) => i.createdBy === sim.appId).length
  return { status: { live, foreign }, defender: { own, foreign: all.length - own }, match: live === own && foreign === all.length - own }
}

// ---------------------------------------------------------------------------------------------- (d)

/** (d) `replay --verify --json`: the projections rebuilt from the log equal the stored ones. */
export const checkReplay = async (world: CliWorld): Promise<{ readonly match: boolean; readonly detail: string }> => {
  const replay = await world.run(["replay", "--verify", "--json"])
  const match = replay.code === 0 && isRecord(replay.json) && replay.json["match"] === true
  return { match, detail: match ? "" : `${describe("replay --verify", replay)} ${replay.stdout.slice(0, 600)}` }
}

// ---------------------------------------------------------------------------------------------- (e)

export interface DuplicateImport {
  readonly indicatorType: string
  readonly indicatorValue: string
  /** Imports of the same content whose answer reached tisync. */
  readonly answeredImports: number
}

/**
 * (e) No value was imported more often than needed: per value, an import whose answer reached tisync is
 * never repeated with the same content (expiration aside). A repeat after an answer lost to a timeout is
 * needed (tisync could not know) and is not counted. Renewals repeat the content too: do not renew in
 * the window checked.
 */
export const findDuplicateImports = (imports: ReadonlyArray<SimImportedValue>): ReadonlyArray<DuplicateImport> => {
  const answered = new Map<string, number>()
  for (const i of imports) {
    if (!i.answered) continue
    const k = `${i.indicatorType}\u0000${i.indicatorValue.toLowerCase()}\u0000${i.content}`
    answered.set(k, (answered.get(k) ?? 0) + 1)
  }
  const out: Array<DuplicateImport> = []
  for (const [k, n] of answered) {
    if (n < 2) continue
    const [indicatorType = "", indicatorValue = ""] = k.split("\u0000")
    out.push({ indicatorType, indicatorValue, answeredImports: n })
  }
  return out
}

export const checkDuplicateImports = (world: CliWorld): ReadonlyArray<DuplicateImport> =>
  findDuplicateImports(world.defender.simulator.importedValues())

// ------------------------------------------------------------------------------------------------ all

export interface Convergence {
  readonly planned: PlannedState
  readonly outcomes: MappedOutcomes
  readonly quota: QuotaAgreement
  readonly replay: { readonly match: boolean; readonly detail: string }
  readonly duplicates: ReadonlyArray<DuplicateImport>
  /**
   * Decisions lost: indicators a fresh plan still has to create, live ones Defender does not hold, and
   * mapped ones with no outcome. 0 when converged.
   */
  readonly indicatorsLost: number
  readonly converged: boolean
  /** Why not converged, one line each (empty when converged). */
  readonly problems: ReadonlyArray<string>
}

/** All five properties, (a) to (e). */
export const checkConvergence = async (world: CliWorld, policy: ReadonlyArray<string>): Promise<Convergence> => {
  const status = await world.run(["status", "--json"])
  const planned = await checkPlannedState(world, policy, status)
  const outcomes = await checkMappedOutcomes(world)
  const quota = await checkQuota(world, status)
  const replay = await checkReplay(world)
  const duplicates = checkDuplicateImports(world)
  const problems = [...planned.problems]
  if (outcomes.withoutOutcome.length > 0) {
    problems.push(`${outcomes.withoutOutcome.length} IndicatorMapped without an outcome, e.g. ${JSON.stringify(outcomes.withoutOutcome.slice(0, 3))}`)
  }
  if (!quota.match) problems.push(`status quota ${JSON.stringify(quota.status)} differs from Defender ${JSON.stringify(quota.defender)}`)
  if (!replay.match) problems.push(`replay --verify does not match: ${replay.detail}`)
  if (duplicates.length > 0) problems.push(`${duplicates.length} value(s) imported more often than needed, e.g. ${JSON.stringify(duplicates.slice(0, 3))}`)
  const indicatorsLost = planned.plannedCreates + (planned.drift["missing"] ?? 0) + outcomes.withoutOutcome.length
  return { planned, outcomes, quota, replay, duplicates, indicatorsLost, converged: problems.length === 0, problems }
}
