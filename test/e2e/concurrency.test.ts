import { describe, expect, it } from "vitest"
import { postgresAvailable } from "../support/postgres.js"
import { CliWorld, OWNERS } from "./CliWorld.js"

const policy = ["--owners", OWNERS, "--lastRunDays", "31"]

/** Two processes on one target need PostgreSQL (the embedded store serves one process: see cli.test.ts). */
describe.runIf(postgresAvailable)("two sync processes on one target (postgres)", () => {
  it("exactly one runs; the other exits 3 at once naming the holder's run id", async () => {
    const world = await CliWorld.start("postgres", { indicators: 40 })
    try {
      // Slow Defender down so the first run holds the target lock for a while.
      world.defender.simulator.setLatency(2_500)
      const first = world.spawn(["sync", "--json", ...policy])
      let firstOut = ""
      first.stdout.on("data", (d: Buffer) => (firstOut += d.toString()))
      const firstDone = new Promise<number | null>((resolve) => first.on("close", resolve))
      // Wait until the first run has started (its RunStarted is visible to `runs`).
      let holder: string | null = null
      for (let i = 0; i < 60 && holder === null; i++) {
        await new Promise((r) => setTimeout(r, 500))
        const runs = await world.run(["runs", "--json"])
        const match = /"runId":\s*"([0-9a-f-]{36})"/.exec(runs.stdout)
        holder = match?.[1] ?? null
      }
      expect(holder).not.toBeNull()
      const started = Date.now()
      const second = await world.run(["sync", "--json", ...policy])
      expect(second.code).toBe(3)
      expect(second.stderr).toContain(`held by run ${holder}`)
      expect(Date.now() - started).toBeLessThan(20_000)
      expect(await firstDone).toBe(0)
      expect(firstOut).toContain(`"runId": "${holder}"`)
    } finally {
      await world.close()
    }
  }, 120_000)
})
