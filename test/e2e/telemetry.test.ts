import * as http from "node:http"
import { describe, expect, it } from "vitest"
import { CliWorld, OWNERS } from "./CliWorld.js"

/** A loopback OTLP/HTTP collector: keeps every request body by path. */
const startCollector = async () => {
  const received: Array<{ path: string; contentType: string; body: string }> = []
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      received.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "", body: Buffer.concat(chunks).toString("utf8") })
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

interface OtlpSpan {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: Readonly<Record<string, unknown>> }>
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null
const arrayAt = (u: unknown, key: string): ReadonlyArray<unknown> => (isRecord(u) && Array.isArray(u[key]) ? u[key] : [])

const isSpan = (u: unknown): u is OtlpSpan =>
  isRecord(u) && typeof u["name"] === "string" && typeof u["traceId"] === "string" && typeof u["spanId"] === "string"

/** Every span of OTLP/JSON trace export bodies (resourceSpans -> scopeSpans -> spans). */
const spansOf = (bodies: ReadonlyArray<string>): ReadonlyArray<OtlpSpan> =>
  bodies.flatMap((b) =>
    arrayAt(JSON.parse(b), "resourceSpans").flatMap((rs) => arrayAt(rs, "scopeSpans").flatMap((ss) => arrayAt(ss, "spans").filter(isSpan)))
  )

const metricNamesOf = (bodies: ReadonlyArray<string>): ReadonlyArray<string> =>
  bodies.flatMap((b) =>
    arrayAt(JSON.parse(b), "resourceMetrics").flatMap((rm) =>
      arrayAt(rm, "scopeMetrics").flatMap((sm) => arrayAt(sm, "metrics").flatMap((m) => (isRecord(m) && typeof m["name"] === "string" ? [m["name"]] : [])))
    )
  )

const attribute = (span: OtlpSpan, key: string): unknown => span.attributes?.find((a) => a.key === key)?.value["stringValue"]

describe("logs, traces and metrics", () => {
  it("stderr is JSON lines each carrying the run id and target; with OTEL_EXPORTER_OTLP_ENDPOINT the run span, page and API call spans and the metrics are exported", async () => {
    const world = await CliWorld.start("pglite", { indicators: 12 })
    const collector = await startCollector()
    try {
      // A throttled first import adds a retry line from inside the Defender adapter, and a retried call span.
      world.defender.simulator.setFaults([{ endpoint: "import", calls: [1], fault: { kind: "throttle", retryAfterSeconds: 1 } }])
      const r = await world.run(["sync", "--json", "--owners", OWNERS, "--lastRunDays", "31", "--logLevel", "Debug"], {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: "tisync-test"
      })
      expect(r.code).toBe(0)
      const runId = isRecord(r.json) ? r.json["runId"] : null
      expect(typeof runId).toBe("string")

      // Logs: every stderr line is a JSON object annotated with the run id and target (issue 7 item 3).
      const lines = r.stderr.split("\n").filter((l) => l.trim() !== "")
      expect(lines.some((l) => l.includes(`run ${String(runId)} started on target default`))).toBe(true)
      expect(lines.some((l) => /Defender import: HTTP 429 DefenderThrottled; retry 1 in \d/.test(l))).toBe(true)
      expect(lines.some((l) => l.includes(`run ${String(runId)} completed on target default`))).toBe(true)
      for (const line of lines) {
        const entry: unknown = JSON.parse(line)
        expect(isRecord(entry) ? entry["annotations"] : null, line).toMatchObject({ runId, targetId: "default" })
        expect(isRecord(entry) && typeof entry["logLevel"] === "string" && "message" in entry, line).toBe(true)
      }

      const traces = collector.received.filter((x) => x.path === "/v1/traces")
      expect(traces.length).toBeGreaterThan(0)
      expect(traces[0]?.contentType).toContain("application/json")
      const spans = spansOf(traces.map((t) => t.body))
      const run = spans.find((s) => s.name === "tisync.run")
      expect(run).toBeDefined()
      if (run === undefined) return
      expect(attribute(run, "tisync.run_id")).toBe(runId)
      expect(attribute(run, "tisync.target_id")).toBe("default")
      const inRun = spans.filter((s) => s.traceId === run.traceId)
      // Every span of the trace hangs off the run span.
      const byId = new Map(inRun.map((s) => [s.spanId, s]))
      const underRun = (s: OtlpSpan): boolean => {
        let cursor: OtlpSpan | undefined = s
        for (let hops = 0; cursor !== undefined && hops < 20; hops++) {
          if (cursor.spanId === run.spanId) return true
          cursor = cursor.parentSpanId === undefined ? undefined : byId.get(cursor.parentSpanId)
        }
        return false
      }
      const pages = inRun.filter((s) => s.name === "threatconnect.page")
      expect(pages.length).toBeGreaterThan(0)
      const calls = inRun.filter((s) => s.name.startsWith("http.client"))
      const paths = calls.map((s) => attribute(s, "url.path"))
      expect(paths).toContain("/api/indicators/import")
      expect(paths).toContain("/api/indicators")
      expect(paths.some((p) => typeof p === "string" && p.endsWith("/v3/indicators"))).toBe(true)
      expect([...pages, ...calls].every(underRun)).toBe(true)
      const apiCalls = isRecord(r.json) && isRecord(r.json["apiCalls"]) ? r.json["apiCalls"] : {}
      expect(calls.filter((s) => attribute(s, "url.path") === "/api/indicators/import")).toHaveLength(Number(apiCalls["import"]))

      const metrics = collector.received.filter((x) => x.path === "/v1/metrics")
      expect(metrics.length).toBeGreaterThan(0)
      expect(metricNamesOf(metrics.map((m) => m.body))).toContain("tisync_api_calls_total")
      // Credentials never leave in telemetry.
      const everything = collector.received.map((x) => x.body).join("\n")
      expect(everything).not.toContain(world.tcToken)
      expect(everything).not.toContain(world.defender.simulator.clientSecret)
      expect(everything).not.toMatch(/Bearer [A-Za-z0-9]/)
    } finally {
      await collector.close()
      await world.close()
    }
  }, 120_000)

  it("without OTEL_EXPORTER_OTLP_ENDPOINT nothing is exported, even with a per-signal endpoint set; no progress line off a terminal", async () => {
    const world = await CliWorld.start("pglite", { indicators: 3 })
    const collector = await startCollector()
    try {
      // Text output (no --json) on a pipe: the progress line is for terminals only.
      const r = await world.run(["sync", "--owners", OWNERS, "--lastRunDays", "31"], {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${collector.url}/v1/metrics`
      })
      expect(r.code).toBe(0)
      expect(r.stdout).toContain("API calls:")
      expect(r.stderr).not.toMatch(/pages \d+ \||batches \d+\/|\u001b\[\?25l|\r/)
      for (const line of r.stderr.split("\n").filter((l) => l !== "")) expect(() => JSON.parse(line), line).not.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(collector.received).toEqual([])
    } finally {
      await collector.close()
      await world.close()
    }
  }, 120_000)

  it("refuses a plain-http collector that is not on loopback (exit 2, naming the variable)", async () => {
    const world = await CliWorld.start("pglite")
    try {
      const r = await world.run(["status"], { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example.com:4318" })
      expect(r.code).toBe(2)
      expect(r.stderr).toContain("OTEL_EXPORTER_OTLP_ENDPOINT")
    } finally {
      await world.close()
    }
  }, 60_000)
})
