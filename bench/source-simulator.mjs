// Child process for bench/source.mjs: runs the ThreatConnect simulator so its CPU and memory are kept
// apart from the adapter's. Protocol over IPC: sends {ready, apiUrl, count, active}; answers "cpu" with its usage.
//
// The benchmark streams `count` indicators. The listing only returns active records and the generator
// makes ~3% inactive, so a few more are generated and the first `count` active ones are served: the adapter
// then streams exactly `count`.
import { startThreatConnectSimulator, ThreatConnectSimData } from "@tisync/adapters"

const count = Number(process.argv[2] ?? "100000")
const sim = await startThreatConnectSimulator({ seed: 2026 })
const generated = ThreatConnectSimData.generateIndicators({ count: Math.ceil(count * 1.1) + 100, seed: 2026 })
sim.store.reset(generated.filter((r) => r.active).slice(0, count))
const active = sim.store.all().filter((r) => r.active).length
process.send({ type: "ready", apiUrl: sim.apiUrl, count, active })
process.on("message", async (msg) => {
  if (msg === "cpu") process.send({ type: "cpu", cpu: process.cpuUsage(), calls: sim.requestCount })
  if (msg === "stop") {
    await sim.close()
    process.exit(0)
  }
})
