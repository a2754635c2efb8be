import type { RunCounts } from "@tisync/domain"
import { Html, html } from "./HtmlTemplate.js"
import { CHART_COLORS, formatCount, quotaChart } from "./QuotaChart.js"
import type { LiveBreakdown, ReasonGroup, ReportView, RunLine, TargetReport } from "./ReportData.js"

/**
 * `tisync report`: one self-contained HTML page (DESIGN issue 7 item 5). Inline CSS and inline SVG only;
 * the Content-Security-Policy forbids every fetch and every script, so even a value that slipped past
 * escaping could neither load nor run anything.
 */

const STYLE = `
:root { --ink: #0f172a; --muted: #64748b; --faint: #cbd5e1; --line: #e2e8f0; --bg: #f8fafc; --card: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 32px 24px 56px; }
header.page { display: flex; justify-content: space-between; align-items: flex-end; gap: 24px;
  border-bottom: 1px solid var(--line); padding-bottom: 16px; margin-bottom: 8px; }
h1 { font-size: 24px; font-weight: 650; margin: 0; letter-spacing: -0.01em; }
h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 18px; font-weight: 650; margin: 32px 0 12px; }
h3 { font-size: 14px; font-weight: 650; margin: 0 0 4px; }
p { margin: 0; }
.meta, .hint { color: var(--muted); font-size: 13px; }
.hint { margin-bottom: 12px; }
nav a { color: #2563eb; margin-left: 12px; text-decoration: none; }
.cards { display: grid; grid-template-columns: repeat(7, 1fr); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card .sub { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin-top: 16px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.columns .panel { margin-top: 16px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 20px; font-size: 13px; color: var(--muted); margin: 8px 0 4px; }
.legend .key { display: inline-block; width: 18px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.legend .key.dot { width: 10px; height: 10px; border-radius: 50%; background: #fff; border: 2.5px solid ${CHART_COLORS.live}; }
.legend .key.dash { height: 0; border-top: 2px dashed; border-radius: 0; vertical-align: 3px; }
svg.chart { display: block; margin-top: 4px; }
svg.chart text { font-size: 12px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg.chart text.axis-title { font-size: 12px; fill: var(--ink); font-weight: 600; }
svg.chart text.value-label { fill: ${CHART_COLORS.live}; font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 11px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; white-space: nowrap; }
tbody tr:last-child td { border-bottom: none; }
.scroll { overflow-x: auto; }
table.runs th { text-transform: none; letter-spacing: 0; font-size: 12px; padding: 6px 4px; }
table.runs td { padding: 6px 4px; }
table.runs td.run { white-space: nowrap; }
.num { text-align: right; white-space: nowrap; }
.zero { color: var(--faint); }
.bad { color: #b91c1c; font-weight: 600; }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; }
.runid { color: var(--muted); }
.status { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.status.completed { background: #dcfce7; color: #166534; }
.status.failed { background: #fee2e2; color: #991b1b; }
.status.running { background: #e0f2fe; color: #075985; }
.bar { height: 6px; border-radius: 3px; background: #e2e8f0; min-width: 80px; margin-top: 7px; }
.bar div { height: 6px; border-radius: 3px; background: ${CHART_COLORS.live}; }
.examples { display: flex; flex-wrap: wrap; gap: 4px; }
.examples code { background: #f1f5f9; border-radius: 4px; padding: 1px 6px; word-break: break-all; }
.examples .type { color: var(--muted); }
.reason { font-weight: 600; }
.sample { color: var(--muted); font-size: 12px; word-break: break-word; }
.empty { color: var(--muted); font-style: italic; padding: 8px 0; }
.notes { margin: 8px 0 0; padding-left: 18px; color: var(--muted); font-size: 12px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { body { background: #fff; } .panel, .card { break-inside: avoid; } }
`

const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

const count = (n: number): Html => (n === 0 ? html`<span class="zero">0</span>` : html`${formatCount(n)}`)

/** `2026-11-22T02:35:18.123Z` -> `2026-11-22 02:35:18`; anything else as it is. */
const when = (iso: string | null): string => (iso === null ? "-" : iso.replace("T", " ").replace(/(\.\d+)?Z$/, ""))

const duration = (s: number | null): string =>
  s === null ? "-" : s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`

const card = (label: string, value: Html | string, sub: string) =>
  html`<div class="card"><div class="label">${label}</div><div class="value">${value}</div><div class="sub" title="${sub}">${sub}</div></div>`

const summaryCards = (t: TargetReport): Html => {
  const q = t.status.quota
  const s = t.status.states
  const last = t.status.lastRun
  const used = q.capacity > 0 ? `${Math.round((q.live / q.capacity) * 100)}% of capacity` : "no capacity"
  return html`<div class="cards">
${card("Live", formatCount(q.live), used)}
${card("Capacity", formatCount(q.capacity), `limit ${formatCount(q.limit)}`)}
${card("Reserve", formatCount(q.reserve), "kept free for others")}
${card("Other apps", formatCount(q.foreign), "held in the tenant")}
${card("Rejected", formatCount(s.rejected), "invalid for Defender")}
${card("Deferred", formatCount(s.deferred), "no quota left")}
${card("Last run", last === null ? "never" : html`<span class="status ${last.status}">${last.status}</span>`, last === null ? "-" : when(last.completedAt))}
</div>`
}

const chartPanel = (t: TargetReport): Html =>
  html`<section class="panel">
<h3>Quota across runs</h3>
<p class="hint">One point per completed run: the indicators tisync held live in Defender after it, against the capacity left to tisync (Defender's limit less the reserve and other apps' indicators).</p>
${
  t.quotaSeries.length === 0
    ? html`<p class="empty">No completed run yet: nothing to chart.</p>`
    : quotaChart(t.quotaSeries, t.targetId)
}
</section>`

const COUNT_COLUMNS: ReadonlyArray<readonly [keyof RunCounts, string]> = [
  ["selected", "Selected"],
  ["submitted", "Submitted"],
  ["updated", "Updated"],
  ["renewed", "Renewed"],
  ["unchanged", "Unchanged"],
  ["revoked", "Revoked"],
  ["expired", "Expired"],
  ["rejectedInvalid", "Rejected"],
  ["rejectedDuplicate", "Duplicate"],
  ["deferredQuota", "Deferred"],
  ["failed", "Failed"]
]

const runRow = (r: RunLine): Html => {
  const counts = r.counts
  const cells = COUNT_COLUMNS.map(([key]) => {
    if (counts === null) return html`<td class="num"><span class="zero">-</span></td>`
    const v = counts[key]
    return key === "failed" && v > 0 ? html`<td class="num bad">${formatCount(v)}</td>` : html`<td class="num">${count(v)}</td>`
  })
  return html`<tr>
<td class="run"><div>${when(r.startedAt)}</div><div class="sample"><code class="runid" title="${r.runId}">${r.runId.slice(0, 8)}</code> · ${r.mode} · ${duration(r.durationSeconds)}</div></td>
<td><span class="status ${r.status}" title="${r.error ?? ""}">${r.status}</span></td>
${cells}
<td class="num">${r.apiCalls === null ? "-" : count(r.apiCalls)}</td>
</tr>`
}

/** Errors and notes of the newest runs; the rest are a `runs show` away. */
const MAX_REMARKS = 12

const runsPanel = (t: TargetReport): Html => {
  const all = t.runs.flatMap((r) => [
    ...(r.error === null ? [] : [html`<li><code>${r.runId.slice(0, 8)}</code> failed: ${r.error}</li>`]),
    ...r.notes.map((note) => html`<li><code>${r.runId.slice(0, 8)}</code> ${note}</li>`)
  ])
  const remarks =
    all.length > MAX_REMARKS
      ? [...all.slice(0, MAX_REMARKS), html`<li>${`${all.length - MAX_REMARKS} more: tisync runs show RUN_ID`}</li>`]
      : all
  return html`<section class="panel">
<h3>Counts per run</h3>
<p class="hint">Newest first. Rejected, duplicate and deferred indicators are outcomes, not failures; failed counts writes that could not be completed after retries.</p>
${
  t.runs.length === 0
    ? html`<p class="empty">No run recorded for this target.</p>`
    : html`<div class="scroll"><table class="runs">
<thead><tr><th>Started (UTC)</th><th>Status</th>${COUNT_COLUMNS.map(([, label]) => html`<th class="num">${label}</th>`)}<th class="num">API calls</th></tr></thead>
<tbody>${t.runs.map(runRow)}</tbody>
</table></div>`
}
${remarks.length === 0 ? html`` : html`<ul class="notes">${remarks}</ul>`}
</section>`
}

const livePanel = (live: LiveBreakdown): Html => {
  const widest = Math.max(1, ...live.types.map((t) => t.total))
  return html`<section class="panel">
<h3>Live indicators by type and action</h3>
<p class="hint">What tisync holds in Defender now: ${formatCount(live.total)} indicator${live.total === 1 ? "" : "s"}.</p>
${
  live.types.length === 0
    ? html`<p class="empty">No live indicator.</p>`
    : html`<table>
<thead><tr><th>Type</th>${live.actions.map((a) => html`<th class="num">${a}</th>`)}<th class="num">Total</th><th></th></tr></thead>
<tbody>${live.types.map(
        (row) => html`<tr><td>${row.indicatorType}</td>${row.byAction.map((n) => html`<td class="num">${count(n)}</td>`)}<td class="num"><strong>${formatCount(row.total)}</strong></td><td style="width: 30%"><div class="bar"><div style="width: ${((row.total / widest) * 100).toFixed(1)}%"></div></div></td></tr>`
      )}</tbody>
</table>`
}
</section>`
}

const example = (e: { readonly indicatorType: string; readonly value: string }) =>
  html`<code title="${e.indicatorType}"><span class="type">${e.indicatorType}</span> ${e.value}</code>`

const groupsTable = (groups: ReadonlyArray<ReasonGroup>, kindColumn: boolean): Html =>
  html`<table>
<thead><tr><th class="num">Count</th>${kindColumn ? html`<th>Kind</th>` : html``}<th>Reason</th><th>Examples</th></tr></thead>
<tbody>${groups.map(
    (g) => html`<tr>
<td class="num"><strong>${formatCount(g.count)}</strong></td>
${kindColumn ? html`<td>${g.kind}</td>` : html``}
<td style="width: 42%"><div class="reason">${g.reason}</div>${g.sampleReason === g.reason ? html`` : html`<div class="sample">e.g. ${g.sampleReason}</div>`}</td>
<td><div class="examples">${g.examples.map(example)}</div></td>
</tr>`
  )}</tbody>
</table>`

const heldPanel = (title: string, hint: string, groups: ReadonlyArray<ReasonGroup>, total: number, kindColumn: boolean, none: string): Html =>
  html`<section class="panel">
<h3>${title}</h3>
<p class="hint">${hint}${total > groups.length ? ` The ${groups.length} largest of ${total} groups.` : ""}</p>
${groups.length === 0 ? html`<p class="empty">${none}</p>` : groupsTable(groups, kindColumn)}
</section>`

const targetSection = (t: TargetReport): Html =>
  html`<section class="target" id="${`target-${t.targetId}`}">
<h2>Target <code>${t.targetId}</code></h2>
${summaryCards(t)}
${chartPanel(t)}
${runsPanel(t)}
${livePanel(t.live)}
${heldPanel(
  "Deferred indicators",
  "Valid, not sent: no quota left under the reserve. They go out when capacity frees up, highest ranked first.",
  t.deferred,
  t.heldTotals.deferred,
  false,
  "Nothing deferred."
)}
${heldPanel(
  "Rejected and duplicate indicators",
  "Rejected: invalid for Defender (recorded reason code). Duplicate: the key is held by a higher-ranked owner's record or by another app in Defender.",
  t.rejected,
  t.heldTotals.rejected,
  true,
  "Nothing rejected."
)}
</section>`

/**
 * Reconcile findings are not events (DESIGN §3 lists none for them): `reconcile` answers from a live
 * listing of Defender and records only the repairs it makes, so the report says so rather than guess.
 */
const driftSection = (): Html =>
  html`<section class="target" id="drift">
<h2>Drift found by the last reconcile</h2>
<div class="panel">
<p><strong>No reconcile recorded.</strong> <code>tisync reconcile</code> compares what Defender holds with the event log when you run it; its findings are not written to the log, so this report cannot show them.</p>
<p class="hint" style="margin: 8px 0 0">For the drift now: <code>tisync reconcile --json</code> (add <code>--target ID</code> for one tenant); <code>tisync reconcile --repair</code> fixes it and records every fix as indicator events, which then appear above.</p>
</div>
</section>`

export const reportHtml = (view: ReportView): string => {
  const totalRuns = view.targets.reduce((n, t) => n + t.runs.length, 0)
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tisync report</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<main>
<header class="page">
<div>
<h1>tisync report <span>· ThreatConnect → Defender for Endpoint</span></h1>
<p class="meta">Generated ${when(view.generatedAt)} UTC from the event log · ${view.targets.length} target${view.targets.length === 1 ? "" : "s"} · ${formatCount(totalRuns)} run${totalRuns === 1 ? "" : "s"}</p>
</div>
${view.targets.length > 1 ? html`<nav>${view.targets.map((t) => html`<a href="${`#target-${t.targetId}`}">${t.targetId}</a>`)}</nav>` : html``}
</header>
${view.targets.length === 0 ? html`<p class="empty">No target configured.</p>` : html``}
${view.targets.map(targetSection)}
${driftSection()}
<footer>Every figure is a projection of tisync's event log; <code>tisync runs show RUN_ID</code> and <code>tisync history VALUE</code> give the events behind it.</footer>
</main>
</body>
</html>
`
  return page.text
}
