import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { CliWorld } from "./CliWorld.js"

// The daemon's runs, schedule, health, metrics and stopping are in daemonOps.test.ts.
describe("tisync daemon", () => {
  it("refuses an interval shorter than a minute, a bad health port and a port in use, with exit 2", async () => {
    const world = await CliWorld.start("pglite")
    try {
      const r = await world.run(["daemon", "--every", "10s"])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain("--every")
      const badPort = await world.run(["daemon", "--health-port", "70000"])
      expect(badPort.code).toBe(2)
      expect(badPort.stderr).toContain("--health-port")
      // A port already taken is refused at start, before any run.
      const taken = net.createServer()
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
      const address = taken.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      try {
        const busy = await world.run(["daemon", "--health-port", String(port), "--owners", "ACME Corp"])
        expect(busy.code).toBe(2)
        expect(busy.stderr).toContain(`cannot listen on 127.0.0.1:${port}`)
        expect(world.defender.simulator.callCounts().import + world.defender.simulator.callCounts().list).toBe(0)
      } finally {
        await new Promise<void>((resolve) => taken.close(() => resolve()))
      }
    } finally {
      await world.close()
    }
  }, 60_000)
})
