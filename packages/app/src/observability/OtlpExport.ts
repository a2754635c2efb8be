import { NodeSdk } from "@effect/opentelemetry"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"

export interface OtlpExportSettings {
  readonly serviceName: string
  readonly serviceVersion: string
  readonly metricIntervalMillis: number
}

/**
 * The OpenTelemetry SDK with OTLP/HTTP (JSON) exporters for traces and metrics, through
 * @effect/opentelemetry: Effect's spans become OTel spans, Effect's metric registry (the same one /metrics
 * renders) is read by the metric reader. The exporters take the endpoint, headers, timeout and compression
 * from the standard OTEL_EXPORTER_OTLP_* variables. Closing the layer flushes what is pending.
 * Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set (see Telemetry.ts).
 */
export const otlpExportLayer = (settings: OtlpExportSettings) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: settings.serviceName, serviceVersion: settings.serviceVersion },
    spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()),
    metricReader: new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter(),
      exportIntervalMillis: settings.metricIntervalMillis
    }),
    shutdownTimeout: "5 seconds"
  }))
