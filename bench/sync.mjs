// `npm run bench -- sync`: the sync engine on PostgreSQL against both simulators (issue 5 item 6).
// 1. initial sync of ~15,000 indicators, rate limits off: import calls (goal 30), wall time (goal < 5 s), RSS
// 2. a no-op re-run (goal: 0 write calls, < 1.5 s)
// 3. an incremental run with 1% of the records changed
// 4. with the documented limits enforced by the simulator (clock accelerated) and by the client: a run that
//    revokes 5,000 and updates 5,000 draws no 429; its time against the minimum those limits allow.
// The simulators run in this process, so the wall times include their work too.
import * as fs from "node:fs"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import pg from "pg"
import {
  DefenderIndicatorSinkLive,
  MsalTokenProviderLive,
  PostgresStoreLive,
  startDefenderSimulator,
  startThreatConnectSimulator,
  TC_SIM_API_TOKEN,
  ThreatConnectSimData,
  threatConnectSourceNodeLayer
} from "@tisync/adapters"
import { defaultPolicy } from "@tisync/domain"
import { RunIdGeneratorLive, runSync } from "@tisync/app"
import { backendPids, cpuClock } from "./cpu-time.mjs"

const BASE_URL = process.env.TISYNC_BENCH_DATABASE_URL ?? process.env.TISYNC_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const SEEDED = 16_500
const TIME_SCALE = 60

const freshDatabase = async () => {
  const name = `tisync_bench_sync_${Date.now()}`
  const admin = new pg.Client({ connectionString: BASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(BASE_URL)
  url.pathname = `/${name}`
  const monitor = new pg.Client({ connectionString: BASE_URL })
  await monitor.connect()
  return {
    url: url.toString(),
    pids: backendPids(monitor, name),
    drop: async () => {
      await monitor.end()
      const c = new pg.Client({ connectionString: BASE_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    }
  }
}

const rssSampler = () => {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  return { stop: () => (clearInterval(timer), Math.round((peak / 1024 / 1024) * 10) / 10) }
}

export async function run() {
  const db = await freshDatabase()
  const tc = await startThreatConnectSimulator({ indicators: SEEDED, seed: 11, epoch: Date.now(), apiTokens: [TC_SIM_API_TOKEN] })
  const def = await startDefenderSimulator({ rateLimits: false })
  const sim = def.simulator
  const policy = { ...defaultPolicy, owners: ThreatConnectSimData.SIM_OWNERS.map((o) => o.name), action: "Block", lastRunDays: 31 }
  const token = MsalTokenProviderLive({
    tenantId: sim.tenantId,
    clientId: sim.clientId,
    credential: { _tag: "ClientSecret", secret: Redacted.make(sim.clientSecret) },
    authorityHost: sim.authorityHost,
    extraCaPem: sim.caPem
  })
  const sinkLayer = (rateLimits) =>
    DefenderIndicatorSinkLive({ apiUrl: sim.apiUrl, rateLimits, rateLimitKey: `bench-${JSON.stringify(rateLimits)}` }).pipe(
      Layer.provide(token),
      Layer.provide(NodeHttpClient.layer)
    )
  const source = threatConnectSourceNodeLayer({ apiUrl: tc.apiUrl, auth: { _tag: "Token", token: Redacted.make(TC_SIM_API_TOKEN) } })
  const store = PostgresStoreLive(Redacted.make(db.url))
  const results = { date: new Date().toISOString(), node: process.version, seeded: SEEDED, runs: {} }
  try {
    await Effect.runPromise(
      Effect.gen(function* () {
        const storeContext = yield* Layer.build(Layer.mergeAll(store, RunIdGeneratorLive, source))
        const once = (name, policyToUse, rateLimits) =>
          Effect.gen(function* () {
            const before = sim.callCounts()
            const rss = rssSampler()
            const cpu = yield* Effect.promise(() => cpuClock(db.pids))
            const started = performance.now()
            const report = yield* runSync({ targetId: "default", full: false, dryRun: false, policy: policyToUse }).pipe(
              Effect.provide(sinkLayer(rateLimits)),
              Effect.provide(storeContext)
            )
            const wallMs = Math.round(performance.now() - started)
            const cpuTime = yield* Effect.promise(() => cpu.stop())
            const after = sim.callCounts()
            const writes = ["import", "submit", "delete", "batchDelete"].reduce((n, k) => n + (after[k] - before[k]), 0)
            results.runs[name] = {
              status: report.status,
              wallMs,
              // Both simulators run in this process: their work is in nodeCpuSeconds too.
              cpu: cpuTime,
              peakRssMb: rss.stop(),
              writeCalls: writes,
              apiCalls: report.apiCalls,
              counts: report.counts,
              rateLimit429s: sim.rateLimitRejections()
            }
            console.error(`${name}: ${wallMs} ms, cpu ${JSON.stringify(cpuTime)}, ${writes} write calls, counts ${JSON.stringify(report.counts)}`)
            return report
          })
        yield* once("initial", policy, "off")
        yield* once("noop", policy, "off")
        const records = tc.store.all().filter((r) => r.active)
        for (const r of records.slice(0, Math.floor(records.length / 100))) tc.store.modify(r.id, { rating: r.rating === 5 ? 4 : 5 })
        yield* once("incremental1pct", policy, "off")
        // 5,000 deselected (deactivated in ThreatConnect) and 5,000 changed (rating -> severity), documented limits.
        const live = tc.store.all().filter((r) => r.active && r.type !== "File")
        for (const r of live.slice(0, 5_000)) tc.store.deactivate(r.id)
        for (const r of live.slice(5_000, 10_000)) tc.store.modify(r.id, { rating: r.rating === 1 ? 2 : 1 })
        sim.setRateLimits(true, TIME_SCALE)
        const limited = yield* once("revoke5000update5000Limited", policy, { timeScale: TIME_SCALE })
        // Minimum time the documented limits allow for the calls made: per endpoint, calls beyond the first
        // window's budget wait a whole window each (import 30/min, batchDelete 30/min, list/submit/delete 100/min).
        const perMinute = { import: 30, batchDelete: 30, list: 100, submit: 100, delete: 100 }
        const minimumMs = Math.max(
          ...Object.entries(perMinute).map(([k, limit]) => Math.max(0, Math.ceil(limited.apiCalls[k] / limit) - 1) * (60_000 / TIME_SCALE))
        )
        results.runs.revoke5000update5000Limited.minimumMsAllowedByLimits = minimumMs
        results.runs.revoke5000update5000Limited.timeScale = TIME_SCALE
      }).pipe(Effect.scoped)
    )
  } finally {
    await tc.close()
    await def.close()
    await db.drop()
  }
  fs.mkdirSync(new URL("./results/", import.meta.url), { recursive: true })
  fs.writeFileSync(new URL("./results/sync.json", import.meta.url), JSON.stringify(results, null, 2) + "\n")
  console.log(JSON.stringify(results, null, 2))
}
