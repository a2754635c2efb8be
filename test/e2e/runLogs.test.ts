import { describe, expect, it } from "vitest"
import { CliWorld, OWNERS } from "./CliWorld.js"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

describe("run logs", () => {
  it("stderr is JSON lines when not a terminal, and every line of a run carries its run id and target", async () => {
    const world = await CliWorld.start("pglite", { indicators: 12 })
    try {
      // A throttled first import adds retry lines from inside the Defender adapter.
      world.defender.simulator.setFaults([{ endpoint: "import", calls: [1], fault: { kind: "throttle", retryAfterSeconds: 1 } }])
      const r = await world.run(["sync", "--json", "--owners", OWNERS, "--lastRunDays", "31", "--logLevel", "Debug"])
      expect(r.code).toBe(0)
      const report = r.json
      const runId = isRecord(report) ? report["runId"] : undefined
      expect(typeof runId).toBe("string")
      const lines = r.stderr.split("\n").filter((l) => l.trim() !== "")
      // The run's own lines and the adapter's retry line, all annotated.
      expect(lines.some((l) => l.includes(`run ${String(runId)} started on target default`))).toBe(true)
      expect(lines.some((l) => /Defender import: HTTP 429 DefenderThrottled; retry 1 in \d/.test(l))).toBe(true)
      expect(lines.some((l) => l.includes(`run ${String(runId)} completed on target default`))).toBe(true)
      for (const line of lines) {
        const entry: unknown = JSON.parse(line)
        expect(isRecord(entry) ? entry["annotations"] : null, line).toMatchObject({ runId, targetId: "default" })
        expect(isRecord(entry) && typeof entry["message"] !== "undefined" && typeof entry["logLevel"] === "string", line).toBe(true)
      }
    } finally {
      await world.close()
    }
  }, 120_000)
})
