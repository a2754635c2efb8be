import { Effect, Metric, MetricBoundaries } from "effect"
import { describe, expect, it } from "vitest"
import { parseExposition, sampleValue } from "../../../test/support/PrometheusParser.js"
import { apiEndpointOf, recordApiCall } from "../src/observability/ApiCallMetrics.js"
import { escapeLabelValue, renderPrometheus } from "../src/observability/PrometheusText.js"

describe("Prometheus text exposition", () => {
  it("escapes backslash, double quote and line feed in label values", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd')
  })

  it("renders counters, gauges and histograms with HELP and TYPE, and parses back to the same values", async () => {
    const counter = Metric.counter("test_render_calls_total", { description: "calls\nwith a line feed", incremental: true })
    const gauge = Metric.gauge("test_render_level", { description: "a level" })
    const histogram = Metric.histogram("test_render_seconds", MetricBoundaries.linear({ start: 1, width: 1, count: 3 }), "durations")
    await Effect.runPromise(
      Effect.all([
        Metric.incrementBy(Metric.tagged(Metric.tagged(counter, "endpoint", "import"), "status", "200"), 3),
        Metric.increment(Metric.tagged(Metric.tagged(counter, "endpoint", "import"), "status", "429")),
        Metric.set(Metric.tagged(gauge, "target", 'we"ird\\tar\nget'), 42.5),
        Metric.update(histogram, 0.5),
        Metric.update(histogram, 2.5),
        Metric.update(histogram, 9)
      ])
    )
    const text = renderPrometheus(await Effect.runPromise(Metric.snapshot))
    expect(text).toContain("# HELP test_render_calls_total calls\\nwith a line feed\n# TYPE test_render_calls_total counter\n")
    expect(text.match(/# TYPE test_render_calls_total /g)).toHaveLength(1)
    const parsed = parseExposition(text)
    expect(parsed.types.get("test_render_level")).toBe("gauge")
    expect(parsed.types.get("test_render_seconds")).toBe("histogram")
    expect(sampleValue(parsed, "test_render_calls_total", { endpoint: "import", status: "200" })).toBe(3)
    expect(sampleValue(parsed, "test_render_calls_total", { endpoint: "import", status: "429" })).toBe(1)
    expect(sampleValue(parsed, "test_render_level", { target: 'we"ird\\tar\nget' })).toBe(42.5)
    expect(sampleValue(parsed, "test_render_seconds_bucket", { le: "1" })).toBe(1)
    expect(sampleValue(parsed, "test_render_seconds_bucket", { le: "2" })).toBe(1)
    expect(parsed.samples.filter((s) => s.name === "test_render_seconds_bucket")).toHaveLength(3)
    expect(sampleValue(parsed, "test_render_seconds_bucket", { le: "+Inf" })).toBe(3)
    expect(sampleValue(parsed, "test_render_seconds_count")).toBe(3)
    expect(sampleValue(parsed, "test_render_seconds_sum")).toBe(12)
  })

  it("the parser refuses what Prometheus would refuse", () => {
    expect(() => parseExposition("x 1\n")).toThrow(/before its TYPE/)
    expect(() => parseExposition('# TYPE x gauge\nx{a="b} 1\n')).toThrow()
    expect(() => parseExposition("# TYPE x gauge\nx one\n")).toThrow(/bad value/)
    expect(() => parseExposition("# TYPE x gauge\nx 1")).toThrow(/line feed/)
  })

  it("names API endpoints as the apiCalls keys of sync --json, and counts 429s apart", async () => {
    const api = "https://api.securitycenter.microsoft.com"
    expect(apiEndpointOf("POST", `${api}/api/indicators/import`)).toBe("import")
    expect(apiEndpointOf("POST", `${api}/api/indicators/BatchDelete`)).toBe("batchDelete")
    expect(apiEndpointOf("POST", `${api}/api/indicators`)).toBe("submit")
    expect(apiEndpointOf("GET", `${api}/api/indicators?$top=10000&$skip=0`)).toBe("list")
    expect(apiEndpointOf("DELETE", `${api}/api/indicators/123`)).toBe("delete")
    expect(apiEndpointOf("GET", "https://app.threatconnect.com/api/v3/indicators?tql=x")).toBe("threatconnect")
    expect(apiEndpointOf("GET", "https://app.threatconnect.com/api/v3/indicators/deleted")).toBe("threatconnect")
    expect(apiEndpointOf("GET", "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration")).toBe("other")
    await Effect.runPromise(Effect.all([recordApiCall("list", 429), recordApiCall("list", 429), recordApiCall("list", 200)]))
    const parsed = parseExposition(renderPrometheus(await Effect.runPromise(Metric.snapshot)))
    expect(sampleValue(parsed, "tisync_api_calls_total", { endpoint: "list", status: "429" })).toBe(2)
    expect(sampleValue(parsed, "tisync_api_throttled_total", { endpoint: "list" })).toBe(2)
  })
})
