import { html, type Html } from "./HtmlTemplate.js"
import type { QuotaPoint } from "./ReportData.js"

/**
 * The quota chart as inline SVG drawn here (no script, no external asset): per completed run the live
 * indicators (one `<circle data-point>` each), the capacity left to tisync, and the bands the reserve and
 * other apps' indicators take out of Defender's limit.
 */
const WIDTH = 1040
const HEIGHT = 340
const MARGIN = { left: 76, right: 56, top: 22, bottom: 58 }
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom
const MAX_X_LABELS = 10

export const CHART_COLORS = {
  live: "#2563eb",
  capacity: "#0f766e",
  reserve: "#f59e0b",
  foreign: "#94a3b8",
  limit: "#475569"
} as const

const fixed = (n: number): string => n.toFixed(1)

/** 1, 2 or 5 times a power of ten, so that about five steps cover `max`. */
export const tickStep = (max: number): number => {
  if (max <= 0) return 1
  const raw = max / 5
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power
  return Math.max(1, step)
}

const grouped = new Intl.NumberFormat("en-US")
export const formatCount = (n: number): string => grouped.format(n)

/**
 * `2026-11-22T02:35:18Z` -> `11-22 02:35`, or `11-22 02:35:18` when two runs share a minute: the axis
 * shows when, the tooltip the whole instant.
 */
const axisTimes = (isos: ReadonlyArray<string>): ReadonlyArray<string> => {
  const cut = (iso: string, seconds: boolean) => {
    const m = /^\d{4}-(\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(iso)
    return m?.[1] !== undefined && m[2] !== undefined ? `${m[1]} ${m[2]}${seconds ? (m[3] ?? "") : ""}` : iso
  }
  const minutes = isos.map((iso) => cut(iso, false))
  return new Set(minutes).size === minutes.length ? minutes : isos.map((iso) => cut(iso, true))
}

/**
 * The scale: Defender's limit, unless everything tisync may use sits in its lower part (a large
 * reserve): then the axis is zoomed on capacity and live and the bands above are cut at the top.
 */
const scaleTop = (points: ReadonlyArray<QuotaPoint>): { readonly top: number; readonly zoomed: boolean } => {
  const limit = Math.max(1, ...points.map((p) => p.quota.limit))
  const used = Math.max(1, ...points.map((p) => Math.max(p.quota.capacity, p.quota.live)))
  return used < limit / 2 ? { top: used * 1.15, zoomed: true } : { top: limit, zoomed: false }
}

const legendKey = (label: string, style: string, kind: "" | "dot" | "dash") =>
  html`<span><span class="key ${kind}" style="${style}"></span>${label}</span>`

const legend = (zoomed: boolean): Html =>
  html`<div class="legend">
${legendKey("Live (tisync)", "", "dot")}
${legendKey("Capacity for tisync", `border-color: ${CHART_COLORS.capacity}`, "dash")}
${zoomed ? html`` : legendKey("Defender limit", `border-color: ${CHART_COLORS.limit}`, "dash")}
${legendKey("Reserve", `background: ${CHART_COLORS.reserve}; opacity: 0.6`, "")}
${legendKey("Other apps' indicators", `background: ${CHART_COLORS.foreign}; opacity: 0.6`, "")}
</div>`

/** Legend and chart. */
export const quotaChart = (points: ReadonlyArray<QuotaPoint>, targetId: string): Html => {
  const { top, zoomed } = scaleTop(points)
  const step = tickStep(top)
  const yMax = Math.ceil(top / step) * step
  const y = (v: number) => MARGIN.top + PLOT_H - (Math.max(0, Math.min(v, yMax)) / yMax) * PLOT_H
  const n = points.length
  const x = (i: number) => (n === 1 ? MARGIN.left + PLOT_W / 2 : MARGIN.left + (i * PLOT_W) / (n - 1))
  // A single run still draws its bands and capacity across the plot, as the level it saw.
  const span: ReadonlyArray<{ readonly x: number; readonly p: QuotaPoint }> =
    n === 1 && points[0] !== undefined
      ? [{ x: MARGIN.left, p: points[0] }, { x: MARGIN.left + PLOT_W, p: points[0] }]
      : points.map((p, i) => ({ x: x(i), p }))

  const band = (upper: (p: QuotaPoint) => number, lower: (p: QuotaPoint) => number, color: string, name: string) => {
    const edge = [
      ...span.map((s) => `${fixed(s.x)},${fixed(y(upper(s.p)))}`),
      ...[...span].reverse().map((s) => `${fixed(s.x)},${fixed(y(lower(s.p)))}`)
    ].join(" ")
    return html`<polygon class="band" data-series="${name}" points="${edge}" fill="${color}" fill-opacity="0.35" stroke="none"/>`
  }
  const line = (value: (p: QuotaPoint) => number, color: string, name: string, dash: string) =>
    html`<polyline data-series="${name}" points="${span.map((s) => `${fixed(s.x)},${fixed(y(value(s.p)))}`).join(" ")}" fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}" stroke-linejoin="round"/>`

  const ticks: Array<Html> = []
  for (let v = 0; v <= yMax; v += step) {
    ticks.push(html`<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${fixed(y(v))}" y2="${fixed(y(v))}" stroke="#e5e7eb"/>
<text x="${MARGIN.left - 10}" y="${fixed(y(v) + 4)}" text-anchor="end">${formatCount(v)}</text>`)
  }
  const every = Math.max(1, Math.ceil(n / MAX_X_LABELS))
  const times = axisTimes(points.map((p) => p.at))
  const xLabels = points.flatMap((_, i) =>
    i % every === 0 || i === n - 1
      ? [html`<text x="${fixed(x(i))}" y="${MARGIN.top + PLOT_H + 20}" text-anchor="middle">${times[i] ?? ""}</text>`]
      : []
  )
  const limits = [...new Set(points.map((p) => p.quota.limit))]
  const zoomNote = zoomed
    ? html`<text x="${MARGIN.left + PLOT_W}" y="${MARGIN.top - 6}" text-anchor="end">${`scale zoomed on capacity: Defender's limit of ${limits.map(formatCount).join(" / ")} is above the top`}</text>`
    : html``
  const circles = points.map(
    (p, i) =>
      html`<circle data-point="" data-target="${targetId}" data-run-id="${p.runId}" data-live="${p.quota.live}" data-capacity="${p.quota.capacity}" cx="${fixed(x(i))}" cy="${fixed(y(p.quota.live))}" r="4.5" fill="#fff" stroke="${CHART_COLORS.live}" stroke-width="2.5"><title>${`run ${p.runId} (${p.mode}), ${p.at}\nlive ${formatCount(p.quota.live)} of capacity ${formatCount(p.quota.capacity)}\nreserve ${formatCount(p.quota.reserve)}, other apps ${formatCount(p.quota.foreign)}, limit ${formatCount(p.quota.limit)}`}</title></circle>`
  )
  const last = points[n - 1]
  const lastLabel =
    last === undefined
      ? html``
      : html`<text class="value-label" x="${fixed(x(n - 1) - 8)}" y="${fixed(y(last.quota.live) - 12)}" text-anchor="${n === 1 ? "middle" : "end"}">${formatCount(last.quota.live)} live</text>`

  return html`${legend(zoomed)}
<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${`Quota across runs for target ${targetId}`}">
<g class="grid">${ticks}</g>
${band((p) => p.quota.limit, (p) => p.quota.limit - p.quota.reserve, CHART_COLORS.reserve, "reserve")}
${band((p) => p.quota.limit - p.quota.reserve, (p) => p.quota.capacity, CHART_COLORS.foreign, "foreign")}
${zoomed ? zoomNote : line((p) => p.quota.limit, CHART_COLORS.limit, "limit", "2 4")}
${line((p) => p.quota.capacity, CHART_COLORS.capacity, "capacity", "7 4")}
${n > 1 ? line((p) => p.quota.live, CHART_COLORS.live, "live", "none") : html``}
<g class="points">${circles}</g>
${lastLabel}
<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H}" stroke="#94a3b8"/>
<g class="x-labels">${xLabels}</g>
<text class="axis-title" x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 8}" text-anchor="middle">run (finished, UTC)</text>
<text class="axis-title" transform="translate(16 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">indicators in Defender</text>
</svg>`
}
