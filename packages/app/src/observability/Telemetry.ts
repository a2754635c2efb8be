import { Effect, Layer } from "effect"
import { checkEndpointUrl } from "@tisync/adapters"
import { ConfigError } from "../config/ConfigError.js"
import type { Env } from "../config/Environment.js"

const ENDPOINT_VARIABLES = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
] as const

const nonEmpty = (env: Env, key: string): string | undefined => {
  const v = env[key]
  return v === undefined || v.trim() === "" ? undefined : v.trim()
}

/** The OTel SDK's default metric export interval; OTEL_METRIC_EXPORT_INTERVAL overrides it (ms). */
const DEFAULT_METRIC_INTERVAL_MILLIS = 60_000

/**
 * Traces and metrics export (issue 7 item 3): when OTEL_EXPORTER_OTLP_ENDPOINT is set, the OpenTelemetry
 * SDK is loaded and started around the command; otherwise nothing is loaded, started or sent.
 * The endpoints follow DESIGN §7's rule: https, or plain http to a loopback address only (a collector
 * sidecar on 127.0.0.1); anything else is exit 2 naming the variable.
 */
export const telemetryLayer = (env: Env, serviceVersion: string): Layer.Layer<never, ConfigError> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      if (nonEmpty(env, "OTEL_EXPORTER_OTLP_ENDPOINT") === undefined) return Layer.empty
      for (const key of ENDPOINT_VARIABLES) {
        const url = nonEmpty(env, key)
        if (url !== undefined) yield* Effect.mapError(checkEndpointUrl(key, url), (e) => new ConfigError({ key, reason: e.reason }))
      }
      const rawInterval = nonEmpty(env, "OTEL_METRIC_EXPORT_INTERVAL")
      const interval = rawInterval === undefined ? DEFAULT_METRIC_INTERVAL_MILLIS : Number(rawInterval)
      if (!Number.isInteger(interval) || interval < 100) {
        return yield* new ConfigError({ key: "OTEL_METRIC_EXPORT_INTERVAL", reason: "must be a whole number of milliseconds, at least 100" })
      }
      const { otlpExportLayer } = yield* Effect.promise(() => import("./OtlpExport.js"))
      return otlpExportLayer({
        serviceName: nonEmpty(env, "OTEL_SERVICE_NAME") ?? "tisync",
        serviceVersion,
        metricIntervalMillis: interval
      })
    })
  )
