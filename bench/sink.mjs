// `npm run bench -- sink`: the Defender sink against the in-process simulator. Writes bench/results/sink.json.
// Imports the BUILT packages (run `npx tsc -b` first; `npm run bench` does).
//
// 1. unlimited: 15,000 indicators imported with the client and simulator rate limits off: import calls used
//    (goal: exactly 30 = 15,000 / 500) and the adapter's own time (wall time minus the simulator's handling
//    time, which the simulator journals per request; the calls are sequential so the two add up).
// 2. limited: the documented limits enforced by the simulator as sliding windows on a clock running
//    BENCH_SINK_SCALE (default 60) times faster, the client's limiters scaled alike; every endpoint driven
//    past its per-minute budget at once: the scheduler must never draw a 429.
// 3. hourly: the same at x600 with 1,600 submits, past the 1,500/h budget.
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, Redacted, Stream } from "effect"
import { NodeHttpClient } from "@effect/platform-node"
import {
  DOCUMENTED_RATE_LIMITS,
  makeDefenderIndicatorSink,
  makeMsalTokenProvider,
  startDefenderSimulator
} from "@tisync/adapters"
import { buildDefenderPayload, TokenProvider } from "@tisync/domain"

const here = dirname(fileURLToPath(import.meta.url))
const SCALE = Number(process.env.BENCH_SINK_SCALE ?? "60")

const payloads = (n, from = 0) =>
  Array.from({ length: n }, (_, k) => {
    const i = k + from
    const built = buildDefenderPayload({
      indicatorType: "IpAddress",
      indicatorValue: `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      action: "Alert",
      title: `ThreatConnect Address: 45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      description: `ThreatConnect Address | Owner: Bench | Id: ${i}`,
      severity: "Medium",
      expirationTime: "2099-01-01T00:00:00Z",
      externalId: `threatconnect:${i}`
    })
    if (built._tag === "Left") throw new Error(built.left.reason)
    return built.right
  })

/** Builds the adapter against a simulator: MSAL over the simulator's TLS authority with the test CA. */
const sinkFor = (sim, rateLimits, rateLimitKey) =>
  Effect.gen(function* () {
    const tokens = yield* makeMsalTokenProvider({
      tenantId: sim.tenantId,
      clientId: sim.clientId,
      credential: { _tag: "ClientSecret", secret: Redacted.make(sim.clientSecret) },
      authorityHost: sim.authorityHost,
      extraCaPem: sim.caPem
    })
    return yield* makeDefenderIndicatorSink({ apiUrl: sim.apiUrl, rateLimits, rateLimitKey }).pipe(
      Effect.provideService(TokenProvider, tokens)
    )
  }).pipe(Effect.provide(NodeHttpClient.layer))

const run_ = (effect) => Effect.runPromise(effect)

/** The most calls any sliding window of `windowMs` saw (accepted or not) for an endpoint. */
const maxInWindow = (journal, endpoint, windowMs) => {
  const times = journal.filter((j) => j.endpoint === endpoint && j.status !== 429).map((j) => j.atMillis).sort((a, b) => a - b)
  let best = 0
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= windowMs) i++
    best = Math.max(best, j - i + 1)
  }
  return best
}

async function unlimited() {
  const { simulator: sim, close } = await startDefenderSimulator({ rateLimits: false })
  try {
    const sink = await run_(sinkFor(sim, "off", "bench-unlimited"))
    const all = payloads(15_000)
    await run_(sink.importBatch(all.slice(0, 1))) // warm up: token, connection, JIT
    sim.reset()
    const before = await run_(sink.callCounts)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let failed = 0
    for (let k = 0; k < all.length; k += 500) {
      const outcomes = await run_(sink.importBatch(all.slice(k, k + 500)))
      failed += outcomes.filter((o) => o._tag === "Failed").length
    }
    const wallMillis = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const after = await run_(sink.callCounts)
    const journal = sim.journal().filter((j) => j.endpoint === "import")
    const simulatorMillis = journal.reduce((s, j) => s + j.durationMillis, 0)
    const listed = await run_(Stream.runCount(sink.list()))
    return {
      indicators: all.length,
      importCalls: after.import - before.import,
      otherCalls: { submit: after.submit, list: after.list - before.list, delete: after.delete, batchDelete: after.batchDelete },
      failedItems: failed,
      heldAfterwards: sim.indicators().length,
      listedAfterwards: listed,
      wallMillis: Math.round(wallMillis),
      simulatorMillis: Math.round(simulatorMillis),
      adapterMillis: Math.round(wallMillis - simulatorMillis),
      adapterMillisPerCall: Math.round(((wallMillis - simulatorMillis) / journal.length) * 10) / 10,
      processCpuMillis: Math.round((cpu.user + cpu.system) / 1000),
      note: "adapter time = wall time minus the simulator's own handling time (same process, sequential calls); it includes JSON encoding of 500 payloads, HTTP, decoding and per-item matching"
    }
  } finally {
    await close()
  }
}

async function limited(scale, workload, key) {
  const { simulator: sim, close } = await startDefenderSimulator({ rateLimits: true, timeScale: scale, cap: 1_000_000 })
  try {
    const sink = await run_(sinkFor(sim, { timeScale: scale }, key))
    const t0 = performance.now()
    const jobs = []
    if (workload.imports) jobs.push(Effect.forEach(Array.from({ length: workload.imports }, (_, k) => k), (k) => sink.importBatch(payloads(k < 30 ? 500 : 1, k * 500)), { concurrency: 4 }))
    if (workload.submits) jobs.push(Effect.forEach(Array.from({ length: workload.submits }, (_, k) => k), (k) => sink.submit(payloads(1, 100_000 + k)[0]), { concurrency: 8 }))
    if (workload.lists) jobs.push(Effect.forEach(Array.from({ length: workload.lists }, () => 0), () => Stream.runDrain(Stream.take(sink.list({ pageSize: 1 }), 1)), { concurrency: 8 }))
    if (workload.deletes) jobs.push(Effect.forEach(Array.from({ length: workload.deletes }, (_, k) => k), (k) => sink.deleteOne(String(900_000 + k)), { concurrency: 8 }))
    if (workload.batchDeletes) jobs.push(Effect.forEach(Array.from({ length: workload.batchDeletes }, (_, k) => k), (k) => sink.batchDelete([String(800_000 + k)]), { concurrency: 4 }))
    const outcomes = await run_(Effect.all(jobs.map((job) => Effect.either(job)), { concurrency: "unbounded" }))
    const errors = outcomes.filter((o) => o._tag === "Left").map((o) => o.left.message)
    const wallMillis = performance.now() - t0
    const journal = sim.journal()
    const counts = await run_(sink.callCounts)
    const perEndpoint = {}
    for (const ep of Object.keys(DOCUMENTED_RATE_LIMITS)) {
      const lim = DOCUMENTED_RATE_LIMITS[ep]
      perEndpoint[ep] = {
        calls: counts[ep],
        limitPerMinute: lim.perMinute,
        maxInAnySimulatedMinute: maxInWindow(journal, ep, 60_000 / scale),
        limitPerHour: lim.perHour,
        maxInAnySimulatedHour: maxInWindow(journal, ep, 3_600_000 / scale),
        http429: journal.filter((j) => j.endpoint === ep && j.status === 429).length
      }
    }
    return {
      timeScale: scale,
      workload,
      rateLimitRejections: sim.rateLimitRejections(),
      errors,
      wallMillis: Math.round(wallMillis),
      simulatedMinutes: Math.round((wallMillis * scale) / 6_000) / 10,
      perEndpoint
    }
  } finally {
    await close()
  }
}

const timed = async (name, f) => {
  const t0 = performance.now()
  const r = await f()
  console.error(`sink bench: ${name} done in ${Math.round(performance.now() - t0)} ms`)
  return r
}

export async function run() {
  const result = {
    benchmark: "sink",
    generatedAt: new Date().toISOString(),
    node: process.version,
    unlimited: await timed("unlimited", unlimited),
    limited: await timed("limited", () => limited(SCALE, { imports: 75, submits: 250, lists: 250, deletes: 250, batchDeletes: 80 }, "bench-limited")),
    hourly: await timed("hourly", () => limited(600, { submits: 1_600 }, "bench-hourly"))
  }
  mkdirSync(join(here, "results"), { recursive: true })
  writeFileSync(join(here, "results", "sink.json"), `${JSON.stringify(result, null, 2)}\n`)
  console.log(JSON.stringify(result, null, 2))
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
