import * as net from "node:net"
import type { ChildProcess } from "node:child_process"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { PgliteStoreLive } from "@tisync/adapters"
import { EventStore, RunId, runStreamId } from "@tisync/domain"
import { parseExposition, sampleValue, sumOf } from "../support/PrometheusParser.js"
import { runCompleted, runStarted, target as defaultTarget } from "../support/sampleEvents.js"
import { CliWorld, OWNERS } from "./CliWorld.js"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Output of a spawned daemon, collected as it comes. */
const watch = (child: ChildProcess) => {
  const seen = { out: "", err: "" }
  child.stdout?.on("data", (d: Buffer) => (seen.out += d.toString()))
  child.stderr?.on("data", (d: Buffer) => (seen.err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve))
  return { seen, exited }
}

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, seconds = 90) => {
  for (let i = 0; i < seconds * 4; i++) {
    if (await check()) return
    await sleep(250)
  }
  throw new Error(`timed out waiting for ${what}`)
}

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() }
}

interface RunReport {
  readonly runId: string
  readonly status: string
  readonly apiCalls: Readonly<Record<string, number>>
  readonly quota: { readonly live: number; readonly capacity: number; readonly foreign: number }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

describe("tisync daemon: catch-up, health, metrics, stopping", () => {
  it("catches up at once after downtime, serves /healthz and /metrics with that run's figures; restarted fresh, it waits", async () => {
    const world = await CliWorld.start("pglite", { indicators: 20 })
    // The daemon was down since a run that completed long ago (2026-01-01), written straight into the store.
    const oldRun = RunId.make(`${Date.UTC(2026, 0, 1).toString(16).padStart(12, "0").replace(/^(.{8})(.{4})$/, "$1-$2")}-7000-8000-000000000001`)
    await Effect.runPromise(
      Effect.flatMap(EventStore, (store) =>
        store.append({ streamId: runStreamId(defaultTarget, oldRun), expectedVersion: 0, events: [runStarted(oldRun, 0), runCompleted(oldRun, 1)] })
      ).pipe(Effect.provide(PgliteStoreLive(world.storeEnv["TISYNC_DATA_DIR"] ?? "")))
    )
    const port = await freePort()
    const args = ["daemon", "--every", "1h", "--health-port", String(port), "--owners", OWNERS, "--lastRunDays", "31"]
    const daemon = world.spawn([...args, "--json"])
    const { seen, exited } = watch(daemon)
    let again: ChildProcess | null = null
    try {
      await waitFor("the catch-up run", () => seen.err.includes("next run in"))
      expect(seen.err).toContain("target default last completed a run at 2026-01-01T00:01:00.000Z: running it now")
      // One catch-up run however many intervals were missed, the next one an interval (+ jitter) later.
      expect(seen.err.match(/started on target default/g) ?? []).toHaveLength(1)
      expect(/next run in ([^"(]+)\(/.exec(seen.err)?.[1] ?? "").toMatch(/^(59m|1h)/)
      const report: RunReport = JSON.parse(seen.out)
      expect(report.status).toBe("completed")
      expect(report.quota.live).toBeGreaterThan(0)

      const health = await get(port, "/healthz")
      expect(health.status).toBe(200)
      expect(health.contentType).toContain("application/json")
      const body: unknown = JSON.parse(health.text)
      expect(body).toMatchObject({ status: "ok", intervalSeconds: 3600, maxAgeSeconds: 7200 })
      const targets = isRecord(body) && Array.isArray(body["targets"]) ? body["targets"] : []
      expect(targets).toHaveLength(1)
      expect(targets[0]).toMatchObject({ targetId: "default", status: "completed", runId: report.runId, running: false, healthy: true })
      const age = isRecord(targets[0]) ? targets[0]["ageSeconds"] : null
      expect(typeof age === "number" && age >= 0 && age < 120).toBe(true)

      const metrics = await get(port, "/metrics")
      expect(metrics.status).toBe(200)
      expect(metrics.contentType).toContain("text/plain; version=0.0.4")
      const exposition = parseExposition(metrics.text)
      expect(exposition.types.get("tisync_api_calls_total")).toBe("counter")
      expect(exposition.types.get("tisync_live_indicators")).toBe("gauge")
      const target = { target: "default" }
      // Every API call of the run, by endpoint, equals what the run reported (retries included both ways).
      for (const endpoint of ["import", "submit", "list", "delete", "batchDelete", "threatconnect"]) {
        expect(sumOf(exposition, "tisync_api_calls_total", { endpoint }), endpoint).toBe(report.apiCalls[endpoint])
      }
      expect(sumOf(exposition, "tisync_api_calls_total", { endpoint: "import", status: "200" })).toBe(report.apiCalls["import"])
      expect(sumOf(exposition, "tisync_api_calls_total", { endpoint: "other" })).toBe(0)
      expect(sumOf(exposition, "tisync_api_throttled_total")).toBe(0)
      expect(sampleValue(exposition, "tisync_runs_total", { ...target, status: "completed" })).toBe(1)
      expect(sampleValue(exposition, "tisync_live_indicators", target)).toBe(report.quota.live)
      expect(sampleValue(exposition, "tisync_quota_capacity", target)).toBe(report.quota.capacity)
      expect(sampleValue(exposition, "tisync_quota_capacity_left", target)).toBe(report.quota.capacity - report.quota.live)
      expect(sampleValue(exposition, "tisync_last_run_success", target)).toBe(1)
      expect(sampleValue(exposition, "tisync_last_run_duration_seconds", target)).toBeGreaterThan(0)

      // The embedded store is free between runs: `status --json` reads the same figures.
      const status = await world.run(["status", "--json"])
      expect(status.code).toBe(0)
      const states = isRecord(status.json) && Array.isArray(status.json["targets"]) && isRecord(status.json["targets"][0]) ? status.json["targets"][0]["states"] : null
      expect(isRecord(states)).toBe(true)
      if (isRecord(states)) {
        expect(sampleValue(exposition, "tisync_live_indicators", target)).toBe(states["live"])
        expect(sampleValue(exposition, "tisync_deferred_indicators", target)).toBe(states["deferred"])
        expect(sampleValue(exposition, "tisync_rejected_indicators", target)).toBe(states["rejected"])
      }
      expect((await get(port, "/nothing")).status).toBe(404)
      daemon.kill("SIGTERM")
      expect(await exited).toBe(0)

      // Restarted minutes after a completed run: no run now, the next an interval after that run; the
      // health answer comes from the store at once.
      again = world.spawn(args)
      const second = watch(again)
      await waitFor("the schedule", () => second.seen.err.includes("next run in"))
      expect(second.seen.err).toMatch(/target default last completed a run at \S+: next run at/)
      expect(second.seen.err).not.toContain("running it now")
      expect(/next run in ([^"(]+)\(/.exec(second.seen.err)?.[1] ?? "").toMatch(/^(59m|1h)/)
      const healthAgain = await get(port, "/healthz")
      expect(healthAgain.status).toBe(200)
      expect(JSON.parse(healthAgain.text)).toMatchObject({ status: "ok", targets: [{ runId: report.runId, status: "completed" }] })
      expect(second.seen.out).toBe("")
      again.kill("SIGTERM")
      expect(await second.exited).toBe(0)
    } finally {
      daemon.kill("SIGKILL")
      again?.kill("SIGKILL")
      await world.close()
    }
  }, 180_000)

  it("says 503 starting before the first run; SIGTERM during an import records that batch and exits 0", async () => {
    const world = await CliWorld.start("pglite", { indicators: 12 })
    // The first import hangs long enough to be caught in flight.
    world.defender.simulator.setFaults([{ endpoint: "import", calls: [1], fault: { kind: "delay", ms: 4000 } }])
    const port = await freePort()
    const daemon = world.spawn(["daemon", "--every", "1h", "--health-port", String(port), "--owners", OWNERS, "--lastRunDays", "31"])
    const { seen, exited } = watch(daemon)
    try {
      let early: { status: number; text: string } | null = null
      await waitFor("the health server", async () => {
        try {
          early = await get(port, "/healthz")
          return true
        } catch {
          return false
        }
      })
      expect(early).not.toBeNull()
      if (early !== null) {
        const e: { status: number; text: string } = early
        expect(e.status).toBe(503)
        expect(JSON.parse(e.text)).toMatchObject({ status: "starting", targets: [{ targetId: "default", status: "starting", ageSeconds: null }] })
      }

      await waitFor("the import in flight", () => world.defender.simulator.callCounts().import >= 1)
      daemon.kill("SIGTERM")
      expect(await exited).toBe(0)
      expect(world.defender.simulator.callCounts().import).toBe(1)
      const held = world.defender.simulator.indicators().length
      expect(held).toBeGreaterThan(0)

      const status = await world.run(["status", "--json"])
      // The batch Defender answered is recorded: every indicator it holds is live in tisync's projections.
      expect(status.json).toMatchObject({ targets: [{ targetId: "default", states: { live: held }, lastRun: { status: "failed" } }] })
      expect(seen.err).toContain("the run was interrupted")
      expect(seen.err).not.toContain("unexpected failure")
    } finally {
      daemon.kill("SIGKILL")
      await world.close()
    }
  }, 180_000)
})
