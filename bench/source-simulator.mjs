// Child process for bench/source.mjs: runs the ThreatConnect simulator so its CPU and memory are kept
// apart from the adapter's. Protocol over IPC: sends {ready, apiUrl, count}; answers "cpu" with its usage.
import { startThreatConnectSimulator } from "@tisync/adapters"

const count = Number(process.argv[2] ?? "100000")
const sim = await startThreatConnectSimulator({ indicators: count, seed: 2026 })
const active = sim.store.all().filter((r) => r.active).length
process.send({ type: "ready", apiUrl: sim.apiUrl, count, active })
process.on("message", async (msg) => {
  if (msg === "cpu") process.send({ type: "cpu", cpu: process.cpuUsage(), calls: sim.requestCount })
  if (msg === "stop") {
    await sim.close()
    process.exit(0)
  }
})
