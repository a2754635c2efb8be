import { Option } from "effect"
import type { MetricPair } from "effect"
import * as MetricKeyType from "effect/MetricKeyType"
import * as MetricState from "effect/MetricState"

/** `Content-Type` of the Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** Label values escape backslash, double quote and line feed (exposition format 0.0.4). */
export const escapeLabelValue = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** HELP text escapes backslash and line feed only. */
const escapeHelp = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

/** Metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without `:`); anything else becomes `_`. */
const metricName = (name: string): string => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")
const labelName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^([0-9])/, "_$1")

const formatValue = (value: number | bigint): string => {
  if (typeof value === "bigint") return value.toString()
  if (Number.isNaN(value)) return "NaN"
  if (value === Infinity) return "+Inf"
  if (value === -Infinity) return "-Inf"
  return String(value)
}

const labels = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${labelName(k)}="${escapeLabelValue(v)}"`).join(",")}}`

interface Family {
  readonly name: string
  readonly type: "counter" | "gauge" | "histogram" | "summary" | "untyped"
  readonly help: string
  readonly series: Array<{ readonly tags: ReadonlyArray<readonly [string, string]>; readonly pair: MetricPair.MetricPair.Untyped }>
}

const byFirst = (a: readonly [string, string], b: readonly [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)

const typeOf = (pair: MetricPair.MetricPair.Untyped): Family["type"] => {
  const keyType = pair.metricKey.keyType
  if (MetricKeyType.isCounterKey(keyType)) return "counter"
  if (MetricKeyType.isGaugeKey(keyType)) return "gauge"
  if (MetricKeyType.isHistogramKey(keyType)) return "histogram"
  if (MetricKeyType.isSummaryKey(keyType)) return "summary"
  return "untyped"
}

/** The samples of one metric (one label set): one line for counters and gauges, several for the others. */
const samplesOf = (name: string, tags: ReadonlyArray<readonly [string, string]>, pair: MetricPair.MetricPair.Untyped): ReadonlyArray<string> => {
  const state = pair.metricState
  if (MetricState.isCounterState(state)) return [`${name}${labels(tags)} ${formatValue(state.count)}`]
  if (MetricState.isGaugeState(state)) return [`${name}${labels(tags)} ${formatValue(state.value)}`]
  if (MetricState.isHistogramState(state)) {
    // Effect's buckets are already cumulative counts per upper bound.
    const lines = state.buckets
      .filter(([bound]) => Number.isFinite(bound))
      .map(([bound, count]) => `${name}_bucket${labels([...tags, ["le", formatValue(bound)]])} ${count}`)
    return [
      ...lines,
      `${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${state.count}`,
      `${name}_sum${labels(tags)} ${formatValue(state.sum)}`,
      `${name}_count${labels(tags)} ${state.count}`
    ]
  }
  if (MetricState.isSummaryState(state)) {
    const lines = state.quantiles.flatMap(([q, value]) =>
      Option.isSome(value) ? [`${name}${labels([...tags, ["quantile", formatValue(q)]])} ${formatValue(value.value)}`] : []
    )
    return [...lines, `${name}_sum${labels(tags)} ${formatValue(state.sum)}`, `${name}_count${labels(tags)} ${state.count}`]
  }
  if (MetricState.isFrequencyState(state)) {
    return [...state.occurrences].map(([key, count]) => `${name}${labels([...tags, ["key", key]])} ${count}`)
  }
  return []
}

/**
 * Effect's metric registry (`Metric.snapshot`) as Prometheus text exposition format 0.0.4: one HELP and one
 * TYPE line per metric name, then the samples of each label set; families and label sets sorted so scrapes diff cleanly.
 */
export const renderPrometheus = (snapshot: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  for (const pair of snapshot) {
    const name = metricName(pair.metricKey.name)
    const type = typeOf(pair)
    let family = families.get(name)
    if (family === undefined) {
      family = { name, type, help: Option.getOrElse(pair.metricKey.description, () => name), series: [] }
      families.set(name, family)
    }
    family.series.push({ tags: [...pair.metricKey.tags].map((t) => [t.key, t.value] as const).sort(byFirst), pair })
  }
  const out: Array<string> = []
  for (const family of [...families.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`)
    out.push(`# TYPE ${family.name} ${family.type}`)
    const series = family.series.map((s) => ({ ...s, sortKey: labels(s.tags) })).sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    for (const s of series) out.push(...samplesOf(family.name, s.tags, s.pair))
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`
}
