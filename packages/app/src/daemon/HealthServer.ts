import { createServer } from "node:http"
import { HttpMiddleware, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Clock, Effect, Layer, Metric, Ref } from "effect"
import { ConfigError } from "../config/ConfigError.js"
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../observability/PrometheusText.js"
import { evaluateHealth, type TargetHealthState } from "./TargetHealth.js"

export interface HealthServerOptions {
  readonly host: string
  readonly port: number
  readonly intervalMillis: number
  /** The daemon's view of every target, updated after each run. */
  readonly targets: Ref.Ref<ReadonlyArray<TargetHealthState>>
}

/**
 * `tisync daemon --health-port N`: `GET /healthz` (JSON, 200 or 503, see `evaluateHealth`) and
 * `GET /metrics` (Prometheus text 0.0.4 from Effect's metric registry). Probes and scrapes are not traced:
 * they would drown the run spans a collector receives.
 */
export const healthServerLayer = (options: HealthServerOptions) => {
  const router = HttpRouter.empty.pipe(
    HttpRouter.get(
      "/healthz",
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const answer = evaluateHealth(yield* Ref.get(options.targets), now, options.intervalMillis)
        return HttpServerResponse.unsafeJson(answer.body, { status: answer.httpStatus })
      })
    ),
    HttpRouter.get(
      "/metrics",
      Effect.map(Metric.snapshot, (snapshot) => HttpServerResponse.text(renderPrometheus(snapshot), { contentType: PROMETHEUS_CONTENT_TYPE }))
    )
  )
  return HttpServer.serve(router).pipe(
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(NodeHttpServer.layer(() => createServer(), { host: options.host, port: options.port })),
    Layer.mapError(
      (e) => new ConfigError({ key: "--health-port", reason: `cannot listen on ${options.host}:${options.port}: ${e.message}` })
    )
  )
}
