import { describe, expect, it } from "vitest"
import { CliWorld, OWNERS } from "./CliWorld.js"

describe("tisync daemon", () => {
  it("runs a sync at once, then waits; SIGTERM stops it with exit 0", async () => {
    const world = await CliWorld.start("pglite", { indicators: 15 })
    try {
      const daemon = world.spawn(["daemon", "--every", "1h", "--json", "--owners", OWNERS, "--lastRunDays", "31"])
      let out = ""
      let err = ""
      daemon.stdout.on("data", (d: Buffer) => (out += d.toString()))
      daemon.stderr.on("data", (d: Buffer) => (err += d.toString()))
      const exited = new Promise<number | null>((resolve) => daemon.on("close", resolve))
      for (let i = 0; i < 120 && !err.includes("next run in"); i++) await new Promise((r) => setTimeout(r, 500))
      expect(err).toContain("next run in")
      expect(out).toContain('"status": "completed"')
      const stopping = Date.now()
      daemon.kill("SIGTERM")
      expect(await exited).toBe(0)
      expect(Date.now() - stopping).toBeLessThan(10_000)
      const runs = await world.run(["runs", "--json"])
      expect(runs.stdout).toContain('"status": "completed"')
    } finally {
      await world.close()
    }
  }, 120_000)

  it("refuses an interval shorter than a minute with exit 2", async () => {
    const world = await CliWorld.start("pglite")
    try {
      const r = await world.run(["daemon", "--every", "10s"])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain("--every")
    } finally {
      await world.close()
    }
  }, 60_000)
})
