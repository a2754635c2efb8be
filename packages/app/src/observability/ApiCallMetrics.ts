import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Clock, Effect, Layer, Metric } from "effect"
import { reportProgress } from "./RunProgress.js"

/**
 * The `endpoint` label of API call metrics: the keys of `apiCalls` in `sync --json` (DESIGN §6), so a
 * dashboard and a run report name an endpoint the same way; `other` for anything else (never expected).
 */
export type ApiEndpointLabel = "import" | "submit" | "list" | "delete" | "batchDelete" | "threatconnect" | "other"

/**
 * Which API a request goes to, from its method and path. The adapters build these URLs
 * (DefenderIndicatorSink: `<api>/api/indicators...`; ThreatConnectSource: `<TC_API_URL>/v3/indicators...`),
 * so reading them back here spares the adapters an observer hook of their own.
 */
export const apiEndpointOf = (method: string, url: string): ApiEndpointLabel => {
  let path: string
  try {
    path = new URL(url).pathname
  } catch {
    return "other"
  }
  const m = method.toUpperCase()
  if (/\/v3\/indicators(\/deleted)?$/.test(path)) return "threatconnect"
  if (path.endsWith("/api/indicators/import")) return m === "POST" ? "import" : "other"
  if (path.endsWith("/api/indicators/BatchDelete")) return m === "POST" ? "batchDelete" : "other"
  if (path.endsWith("/api/indicators")) return m === "POST" ? "submit" : m === "GET" ? "list" : "other"
  if (/\/api\/indicators\/[^/]+$/.test(path) && m === "DELETE") return "delete"
  return "other"
}

export const apiCallsTotal = Metric.counter("tisync_api_calls_total", {
  description: "HTTP requests to ThreatConnect and Defender, retries included, by endpoint and HTTP status (error: no answer; aborted: timed out or stopped)",
  incremental: true
})

export const apiThrottledTotal = Metric.counter("tisync_api_throttled_total", {
  description: "HTTP 429 answers (rate limited) by endpoint",
  incremental: true
})

/** One request's outcome: its HTTP status, `error` when no answer came, `aborted` when it was cut short. */
export const recordApiCall = (endpoint: ApiEndpointLabel, status: number | "error" | "aborted") =>
  Effect.zipRight(
    Metric.increment(Metric.tagged(Metric.tagged(apiCallsTotal, "endpoint", endpoint), "status", String(status))),
    status === 429 ? Metric.increment(Metric.tagged(apiThrottledTotal, "endpoint", endpoint)) : Effect.void
  )

/**
 * An HttpClient that counts every request it executes by endpoint and status (and tells a progress line
 * about pages, batches and waits). The adapters call `execute` once per attempt, so retries are counted
 * as `apiCalls` counts them.
 */
export const observeApiCalls = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transform(client, (response, request) => {
    const endpoint = apiEndpointOf(request.method, request.url)
    return response.pipe(
      Effect.tap((r) => Effect.zipRight(recordApiCall(endpoint, r.status), progressOf(endpoint, r.status, r.headers["retry-after"]))),
      Effect.tapError(() => recordApiCall(endpoint, "error")),
      Effect.onInterrupt(() => recordApiCall(endpoint, "aborted"))
    )
  })

/** What an answer means for a progress line: a page, a batch sent, or a wait before a retry. */
const progressOf = (endpoint: ApiEndpointLabel, status: number, retryAfter: string | undefined) => {
  if (status === 429 || status >= 500) {
    const seconds = retryAfter === undefined ? NaN : Number(retryAfter)
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      reportProgress({ _tag: "Waiting", endpoint, status, untilMillis: Number.isFinite(seconds) ? now + seconds * 1000 : null })
    )
  }
  if (status >= 200 && status < 300) {
    return reportProgress(endpoint === "threatconnect" ? { _tag: "PageFetched" } : endpoint === "import" ? { _tag: "BatchSent" } : { _tag: "Answered" })
  }
  return Effect.void
}

/** Node's HTTP client, observed: what the app gives the ThreatConnect and Defender adapters. */
export const ObservedNodeHttpClient: Layer.Layer<HttpClient.HttpClient> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, observeApiCalls)
).pipe(Layer.provide(NodeHttpClient.layer))
