import { describe, expect, it } from "vitest"
import { evaluateHealth } from "../src/daemon/TargetHealth.js"

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 5, 1, 12)
const run = (status: "completed" | "failed", minutesAgo: number) => ({
  runId: `run-${status}-${minutesAgo}`,
  status,
  startedAtMillis: NOW - minutesAgo * 60_000 - 5000,
  finishedAtMillis: NOW - minutesAgo * 60_000
})

describe("daemon health", () => {
  it("200 when every target's last run completed within two intervals, with its age in seconds", () => {
    const answer = evaluateHealth(
      [
        { targetId: "a", lastFinished: run("completed", 10), running: false },
        { targetId: "b", lastFinished: run("completed", 119), running: true }
      ],
      NOW,
      HOUR
    )
    expect(answer.httpStatus).toBe(200)
    expect(answer.body.status).toBe("ok")
    expect(answer.body.maxAgeSeconds).toBe(7200)
    expect(answer.body.targets[0]).toEqual({
      targetId: "a",
      status: "completed",
      runId: "run-completed-10",
      finishedAt: new Date(NOW - 600_000).toISOString(),
      ageSeconds: 600,
      running: false,
      healthy: true
    })
    expect(answer.body.targets[1]?.running).toBe(true)
  })

  it("503 unhealthy when a last run failed or is older than two intervals", () => {
    const failed = evaluateHealth([{ targetId: "a", lastFinished: run("failed", 1), running: false }], NOW, HOUR)
    expect(failed.httpStatus).toBe(503)
    expect(failed.body.status).toBe("unhealthy")
    const stale = evaluateHealth([{ targetId: "a", lastFinished: run("completed", 121), running: false }], NOW, HOUR)
    expect(stale.httpStatus).toBe(503)
    expect(stale.body.targets[0]).toMatchObject({ status: "completed", ageSeconds: 121 * 60, healthy: false })
  })

  it("503 starting before any run of a target ended; a failure elsewhere makes it unhealthy", () => {
    const starting = evaluateHealth(
      [
        { targetId: "a", lastFinished: null, running: true },
        { targetId: "b", lastFinished: run("completed", 1), running: false }
      ],
      NOW,
      HOUR
    )
    expect(starting.httpStatus).toBe(503)
    expect(starting.body.status).toBe("starting")
    expect(starting.body.targets[0]).toMatchObject({ status: "starting", ageSeconds: null, runId: null, healthy: false })
    const mixed = evaluateHealth(
      [
        { targetId: "a", lastFinished: null, running: true },
        { targetId: "b", lastFinished: run("failed", 1), running: false }
      ],
      NOW,
      HOUR
    )
    expect(mixed.body.status).toBe("unhealthy")
  })
})
