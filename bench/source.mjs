// `npm run bench -- source`: streams 100,000 simulated ThreatConnect indicators through the adapter
// (resultLimit 10,000) and writes bench/results/source.json: indicators/s, peak RSS, the adapter's CPU time.
// The simulator serves exactly 100,000 active records (the listing skips inactive ones), so all of them stream.
// Imports the BUILT packages (run `npx tsc -b` first; `npm run bench` does). The simulator runs in a child
// process, so the CPU and RSS measured here are the adapter's (plus the Effect runtime it runs on).
import { fork } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Redacted, Schema, Stream } from "effect"
import { loadavg } from "node:os"
import { makeThreatConnectSource, TC_SIM_ACCESS_ID, TC_SIM_SECRET_KEY, ThreatConnectSimData } from "@tisync/adapters"
import { Policy } from "@tisync/domain"
import { NodeHttpClient } from "@effect/platform-node"

const here = dirname(fileURLToPath(import.meta.url))
const INDICATORS = Number(process.env.BENCH_SOURCE_INDICATORS ?? "100000")
const RESULT_LIMIT = 10_000

const startChild = () =>
  new Promise((resolve, reject) => {
    const child = fork(join(here, "source-simulator.mjs"), [String(INDICATORS)], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)))
    child.once("message", (msg) => resolve({ child, ...msg }))
  })

const ask = (child, what) =>
  new Promise((resolve) => {
    child.once("message", resolve)
    child.send(what)
  })

/** CPU seconds to JSON.parse `count` records rendered as the simulator renders them, in pages of 10,000. */
const jsonParseFloor = (count) => {
  const fields = new Set(["tags", "attributes", "securityLabels", "threatAssess", "falsePositives", "observations"])
  const sample = ThreatConnectSimData.generateIndicators({ count: RESULT_LIMIT, seed: 1 })
  const page = `{"data":[${sample.map((r) => ThreatConnectSimData.renderIndicator(r, fields, "http://127.0.0.1")).join(",")}],"status":"Success"}`
  const before = process.cpuUsage()
  let parsed = 0
  while (parsed < count) parsed += JSON.parse(page).data.length
  const used = process.cpuUsage(before)
  return ((used.user + used.system) / 1e6) * (count / parsed)
}

export async function run() {
  const sim = await startChild()
  const policy = Schema.decodeUnknownSync(Policy)({
    owners: ["ACME Corp", "Demo Community", "Partner Source", "Common Community"],
    indicatorTypes: ["Address", "MD5", "SHA1", "SHA256", "Host", "URL"]
  })
  // memoryUsage.rss() only reads the RSS; memoryUsage() also walks the V8 heap spaces, and 50 calls a second
  // of that were counted as adapter CPU.
  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, 20)
  const simCpuBefore = (await ask(sim.child, "cpu")).cpu
  const cpuBefore = process.cpuUsage()
  const started = performance.now()

  const program = Effect.gen(function* () {
    const source = yield* makeThreatConnectSource({
      apiUrl: sim.apiUrl,
      auth: { _tag: "Hmac", accessId: TC_SIM_ACCESS_ID, secretKey: Redacted.make(TC_SIM_SECRET_KEY) },
      resultLimit: RESULT_LIMIT
    })
    const counts = yield* Stream.runFold(source.indicators({ policy, since: null }), { indicators: 0, rejected: 0 }, (acc, item) => {
      if (item._tag === "Indicator") acc.indicators++
      else acc.rejected++
      return acc
    })
    return { ...counts, requests: yield* source.requestCount }
  }).pipe(Effect.provide(NodeHttpClient.layer))
  const counts = await Effect.runPromise(program)

  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const simCpuAfter = await ask(sim.child, "cpu")
  clearInterval(sampler)
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
  sim.child.removeAllListeners("exit")
  sim.child.send("stop")

  const adapterCpuSeconds = (cpu.user + cpu.system) / 1e6
  const simulatorCpuSeconds = (simCpuAfter.cpu.user + simCpuAfter.cpu.system - simCpuBefore.user - simCpuBefore.system) / 1e6
  const records = counts.indicators + counts.rejected
  const floor = jsonParseFloor(records)
  const result = {
    benchmark: "source",
    requested: INDICATORS,
    activeInSource: sim.active,
    streamed: records,
    streamedAll: records === INDICATORS,
    indicators: counts.indicators,
    rejected: counts.rejected,
    resultLimit: RESULT_LIMIT,
    requests: counts.requests,
    seconds: Number(seconds.toFixed(3)),
    indicatorsPerSecond: Math.round(records / seconds),
    peakRssMB: Number((peakRss / 1024 / 1024).toFixed(1)),
    adapterCpuSeconds: Number(adapterCpuSeconds.toFixed(3)),
    adapterCpuSecondsPer100k: Number(((adapterCpuSeconds * 100_000) / records).toFixed(3)),
    simulatorCpuSeconds: Number(simulatorCpuSeconds.toFixed(3)),
    // Calibration, same process, after the run: CPU of a bare JSON.parse of the same number of records in the
    // same wire shape. No JavaScript adapter can go below it; it moves with the machine's load.
    jsonParseFloorCpuSeconds: Number(floor.toFixed(3)),
    adapterCpuOverJsonParseFloor: Number((adapterCpuSeconds / floor).toFixed(2)),
    loadAverage1m: Number(loadavg()[0].toFixed(2)),
    goals: { peakRssMB: 250, adapterCpuSecondsPer100k: 2 },
    node: process.version,
    at: new Date().toISOString()
  }
  result.withinGoals = result.peakRssMB < 250 && result.adapterCpuSecondsPer100k < 2
  mkdirSync(join(here, "results"), { recursive: true })
  writeFileSync(join(here, "results", "source.json"), `${JSON.stringify(result, null, 2)}\n`)
  console.log(JSON.stringify(result, null, 2))
  return result
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run()
