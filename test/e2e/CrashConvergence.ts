import * as path from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { Schema } from "effect"
import pg from "pg"
import type { DefenderSimulator } from "@tisync/adapters"
import type { CliResult, CliWorld } from "./CliWorld.js"

/**
 * The convergence properties of issue 6 (items 1-2), checked after a crash or a fault: each function
 * takes a CliWorld whose simulators and store the runs used, runs no sync itself unless it says so, and
 * returns the problems it found in words (an empty list: the property holds). No test framework inside,
 * so the crash benchmark runs the same checks.
 */

const Counts = Schema.Record({ key: Schema.String, value: Schema.Number })
const Quota = Schema.Struct({ limit: Schema.Number, reserve: Schema.Number, foreign: Schema.Number, live: Schema.Number, capacity: Schema.Number })

export const SyncReportJson = Schema.Struct({
  runId: Schema.String,
  targetId: Schema.String,
  mode: Schema.String,
  status: Schema.String,
  counts: Counts,
  apiCalls: Counts,
  quota: Quota
})
export type SyncReportJson = typeof SyncReportJson.Type

const StatusJson = Schema.Struct({
  targets: Schema.Array(
    Schema.Struct({
      targetId: Schema.String,
      quota: Quota,
      states: Schema.Struct({ live: Schema.Number, rejected: Schema.Number, deferred: Schema.Number, expired: Schema.Number, revoked: Schema.Number })
    })
  )
})
const ReplayJson = Schema.Struct({ events: Schema.Number, match: Schema.Boolean })
const ReconcileJson = Schema.Struct({ drift: Schema.Boolean })

/** Planned Defender writes in a report (a retry counts as what it finishes). */
const WRITE_COUNTS = ["submitted", "updated", "renewed", "revoked"] as const

/** Events that settle an `IndicatorMapped`: Defender's answer, or a decision that replaces the call. */
const OUTCOMES = new Set(["IndicatorSubmitted", "IndicatorRejected", "IndicatorDeferred", "IndicatorRejectedDuplicate", "IndicatorRevoked"])

export interface LoggedEvent {
  readonly streamId: string
  readonly type: string
  readonly data: unknown
}

const decodeJson = <A, I>(schema: Schema.Schema<A, I>, what: string, result: CliResult): A => {
  if (result.code !== 0) throw new Error(`${what} exited ${String(result.code)}: ${result.stderr.slice(-500)}`)
  return Schema.decodeUnknownSync(schema)(result.json)
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The whole event log in commit order, read straight from the store (not through tisync). On the
 * embedded store this opens the data directory: call it only while no tisync process runs.
 */
export const readEventLog = async (world: CliWorld): Promise<ReadonlyArray<LoggedEvent>> => {
  const sql = "SELECT stream_id, type, data FROM events ORDER BY transaction_id::text::bigint, global_position"
  const toEvent = (row: Record<string, unknown>): LoggedEvent => ({
    streamId: String(row["stream_id"]),
    type: String(row["type"]),
    data: typeof row["data"] === "string" ? JSON.parse(row["data"]) : row["data"]
  })
  const url = world.storeEnv["TISYNC_DATABASE_URL"]
  if (url !== undefined) {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const result = await client.query<Record<string, unknown>>(sql)
      return result.rows.map(toEvent)
    } finally {
      await client.end()
    }
  }
  const dataDir = world.storeEnv["TISYNC_DATA_DIR"]
  if (dataDir === undefined) throw new Error("the world has no store")
  const db = await PGlite.create(path.join(dataDir, "pgdata"))
  try {
    const result = await db.query<Record<string, unknown>>(sql)
    return result.rows.map(toEvent)
  } finally {
    await db.close()
  }
}

/** Streams whose last `IndicatorMapped` has no outcome after it (an intent left unfinished). */
export const unsettledMappings = (events: ReadonlyArray<LoggedEvent>): ReadonlyArray<string> => {
  const open = new Map<string, boolean>()
  for (const e of events) {
    if (e.type === "IndicatorMapped") open.set(e.streamId, true)
    else if (OUTCOMES.has(e.type)) open.set(e.streamId, false)
  }
  return [...open].filter(([, isOpen]) => isOpen).map(([streamId]) => streamId)
}

/** Stream id -> Defender id for the streams whose last submission was not revoked or expired since. */
export const liveStreamsInLog = (events: ReadonlyArray<LoggedEvent>): ReadonlyMap<string, string> => {
  const live = new Map<string, string | null>()
  for (const e of events) {
    if (e.type === "IndicatorSubmitted" && isRecord(e.data) && typeof e.data["defenderId"] === "string") {
      live.set(e.streamId, e.data["defenderId"])
    } else if (e.type === "IndicatorRevoked" || e.type === "IndicatorExpired") {
      live.set(e.streamId, null)
    }
  }
  return new Map([...live].flatMap(([stream, id]) => (id === null ? [] : [[stream, id] as const])))
}

/** Defender ids the log says tisync holds (one tenant). */
export const liveIdsInLog = (events: ReadonlyArray<LoggedEvent>): ReadonlySet<string> => new Set(liveStreamsInLog(events).values())

/** tisync's own indicators in the Defender simulator. */
export const ownInDefender = (world: CliWorld) => {
  const sim = world.defender.simulator
  return sim.indicators().filter((i) => i.createdBy === sim.appId)
}

/**
 * Values imported more often than allowed (`allowed` per `<type>|<lower-case value>`, default 1): each
 * payload version of a value needs one import; a crash must not add another.
 */
export const excessImports = (world: CliWorld, allowed: (valueKey: string) => number = () => 1): ReadonlyArray<string> =>
  [...world.defender.simulator.importsPerValue()]
    .filter(([key, n]) => n > allowed(key))
    .map(([key, n]) => `${key} imported ${n} times (allowed ${allowed(key)})`)

const PlanJson = Schema.Union(SyncReportJson, Schema.Struct({ runs: Schema.Array(SyncReportJson) }))

/** `plan --json`: a converged target (every target of the config) plans no Defender write. */
export const plannedWrites = async (world: CliWorld, policyArgs: ReadonlyArray<string>): Promise<ReadonlyArray<string>> => {
  const plan = decodeJson(PlanJson, "plan", await world.run(["plan", "--json", ...policyArgs]))
  const reports = "runs" in plan ? plan.runs : [plan]
  return reports.flatMap((r) =>
    WRITE_COUNTS.filter((k) => (r.counts[k] ?? 0) > 0).map((k) => `plan still wants ${r.counts[k]} ${k} on ${r.targetId}`)
  )
}

export interface TargetUnderTest {
  readonly id: string
  readonly simulator: DefenderSimulator
}

/** `status --json` against each target's Defender list: live and foreign counts, capacity arithmetic. */
export const quotaMismatches = async (
  world: CliWorld,
  targets: ReadonlyArray<TargetUnderTest> = [{ id: "default", simulator: world.defender.simulator }],
  args: ReadonlyArray<string> = []
): Promise<ReadonlyArray<string>> => {
  const status = decodeJson(StatusJson, "status", await world.run(["status", "--json", ...args]))
  return targets.flatMap((target) => {
    const row = status.targets.find((t) => t.targetId === target.id)
    if (row === undefined) return [`status lists no target ${target.id}`]
    const sim = target.simulator
    const all = sim.indicators()
    const own = all.filter((i) => i.createdBy === sim.appId).length
    const problems: Array<string> = []
    if (row.states.live !== own) problems.push(`status counts ${row.states.live} live, Defender holds ${own} of tisync's (${target.id})`)
    if (row.quota.live !== own) problems.push(`status quota.live ${row.quota.live}, Defender holds ${own} of tisync's (${target.id})`)
    if (row.quota.foreign !== all.length - own) problems.push(`status quota.foreign ${row.quota.foreign}, Defender holds ${all.length - own} others (${target.id})`)
    const capacity = Math.max(0, row.quota.limit - row.quota.reserve - row.quota.foreign)
    if (row.quota.capacity !== capacity) problems.push(`status capacity ${row.quota.capacity}, expected ${capacity} (${target.id})`)
    return problems
  })
}

/** `replay --verify --json` rebuilds every projection and must match the live ones. */
export const replayMismatches = async (world: CliWorld): Promise<ReadonlyArray<string>> => {
  const replay = decodeJson(ReplayJson, "replay --verify", await world.run(["replay", "--verify", "--json"]))
  return replay.match ? [] : ["replay --verify does not match the live projections"]
}

/** `reconcile --json`: Defender and the projections agree. */
export const reconcileDrift = async (world: CliWorld, args: ReadonlyArray<string> = []): Promise<ReadonlyArray<string>> => {
  const reconcile = decodeJson(ReconcileJson, "reconcile", await world.run(["reconcile", "--json", ...args]))
  return reconcile.drift ? [`reconcile reports drift: ${JSON.stringify(reconcile)}`] : []
}

/** The log against Defender: every mapping settled, and the ids it says are live are exactly tisync's own there. */
export const logProblems = (world: CliWorld, events: ReadonlyArray<LoggedEvent>): ReadonlyArray<string> => {
  const problems = unsettledMappings(events).map((s) => `IndicatorMapped without an outcome on ${s}`)
  const logged = liveIdsInLog(events)
  const held = new Set(ownInDefender(world).map((i) => i.id))
  for (const id of logged) if (!held.has(id)) problems.push(`the log says Defender id ${id} is live; Defender does not hold it`)
  for (const id of held) if (!logged.has(id)) problems.push(`Defender holds tisync's id ${id}; the log does not say it is live`)
  return problems
}

export const logMismatches = async (world: CliWorld): Promise<ReadonlyArray<string>> => logProblems(world, await readEventLog(world))

export interface ConvergenceReport {
  readonly problems: ReadonlyArray<string>
  /** Mapped without outcome, or live in the log but missing from Defender: decisions lost. */
  readonly indicatorsLost: number
  /** Values imported more often than needed. */
  readonly duplicateImports: number
}

/**
 * Every property at once (several CLI runs: plan, status, reconcile, replay --verify, plus a read of the
 * log). Call after the run that should have converged, with no tisync process running.
 */
export const checkConvergence = async (
  world: CliWorld,
  policyArgs: ReadonlyArray<string>,
  allowedImports: (valueKey: string) => number = () => 1
): Promise<ConvergenceReport> => {
  const events = await readEventLog(world)
  const unsettled = unsettledMappings(events)
  const held = new Set(ownInDefender(world).map((i) => i.id))
  const missing = [...liveIdsInLog(events)].filter((id) => !held.has(id))
  const excess = excessImports(world, allowedImports)
  const problems = [
    ...logProblems(world, events),
    ...excess,
    ...(await plannedWrites(world, policyArgs)),
    ...(await quotaMismatches(world)),
    ...(await reconcileDrift(world)),
    ...(await replayMismatches(world))
  ]
  return { problems, indicatorsLost: unsettled.length + missing.length, duplicateImports: excess.length }
}
