import { describe, expect, it } from "@effect/vitest"
import { escapeHtml, html } from "../../src/report/HtmlTemplate.js"
import { tickStep } from "../../src/report/QuotaChart.js"
import { reportViewOf, type ReportInput } from "../../src/report/ReportData.js"
import { reportHtml } from "../../src/report/ReportHtml.js"
import { quota, runRow, stateRow, targetStatus } from "./ReportFixtures.js"

const HOSTILE = `<script>alert("x")</script>`
const BREAKOUT = `" onmouseover="alert(1)`

/** References that would make the browser fetch something. */
const EXTERNAL_ASSET = /(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\/)|url\(\s*["']?\s*(?:https?:)?\/\/|@import/i

const input = (fields: Partial<ReportInput> = {}): ReportInput => ({
  generatedAt: "2026-03-01T12:00:00.000Z",
  targets: [
    {
      status: targetStatus("default", 2),
      runs: [
        runRow({ runId: "01a20000-0000-7000-8000-000000000001", startedAt: "2026-02-01T10:00:00.000Z", quota: quota(1), submitted: 1 }),
        runRow({ runId: "01a20000-0000-7000-8000-000000000002", startedAt: "2026-02-02T10:00:00.000Z", status: "failed", error: `Defender said ${HOSTILE}` }),
        runRow({ runId: "01a20000-0000-7000-8000-000000000003", startedAt: "2026-02-03T10:00:00.000Z", quota: quota(2, { reserve: 1000 }), notes: [`note ${HOSTILE}`] })
      ],
      rows: [
        stateRow({ value: `evil.example/${HOSTILE}`, indicatorType: "Url", status: "live" }),
        stateRow({ value: "203.0.113.9", status: "live" }),
        stateRow({ value: HOSTILE, indicatorType: "DomainName", status: "rejected", reason: `DomainMalformed: ${HOSTILE} is not a host` }),
        stateRow({ value: BREAKOUT, indicatorType: "DomainName", status: "deferred", reason: `no quota left ${HOSTILE}` })
      ]
    }
  ],
  ...fields
})

describe("report HTML", () => {
  it("escapes hostile values, reasons, errors and notes: no markup of theirs survives", () => {
    const page = reportHtml(reportViewOf(input()))
    expect(page).not.toMatch(/<script/i)
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
    expect(page).not.toContain(`onmouseover="alert(1)`)
    expect(page).toContain("&quot; onmouseover=&quot;alert(1)")
    expect(page).toContain(`Defender said &lt;script&gt;`)
  })

  it("draws one chart point per completed run and carries the run id on it", () => {
    const page = reportHtml(reportViewOf(input()))
    const points = [...page.matchAll(/<circle data-point=""[^>]*data-run-id="([^"]+)"/g)].map((m) => m[1])
    expect(points).toEqual(["01a20000-0000-7000-8000-000000000001", "01a20000-0000-7000-8000-000000000003"])
  })

  it("is self-contained: no external asset, no script, and a policy that forbids fetching anything", () => {
    const page = reportHtml(reportViewOf(input()))
    expect(page).not.toMatch(EXTERNAL_ASSET)
    expect(page).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i)
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;`)
    expect(page.startsWith("<!doctype html>")).toBe(true)
  })

  it("the self-containment check catches an external asset", () => {
    expect(`<img src="https://cdn.example/x.png">`).toMatch(EXTERNAL_ASSET)
    expect(`<link href="//fonts.example/css">`).toMatch(EXTERNAL_ASSET)
    expect(`body { background: url(https://x.example/a.png) }`).toMatch(EXTERNAL_ASSET)
    // A URL indicator shown as text is not an asset.
    expect(`<code>https://evil.example/payload</code>`).not.toMatch(EXTERNAL_ASSET)
  })

  it("says when there is nothing to chart and when no reconcile is recorded", () => {
    const page = reportHtml(
      reportViewOf(input({ targets: [{ status: targetStatus("tenant-b", 0), runs: [], rows: [] }] }))
    )
    expect(page).not.toContain("<circle data-point")
    expect(page).toContain("No completed run yet")
    expect(page).toContain("No reconcile recorded")
  })

  it("draws each target's runs in its own chart", () => {
    const runs = (targetId: string, count: number) =>
      Array.from({ length: count }, (_, i) =>
        runRow({ runId: `${targetId}-${i}`, startedAt: `2026-02-0${i + 1}T10:00:00.000Z`, targetId, quota: quota(i) })
      )
    const page = reportHtml(
      reportViewOf(
        input({
          targets: [
            { status: targetStatus("tenant-a", 1), runs: runs("tenant-a", 2), rows: [] },
            { status: targetStatus("tenant-b", 2), runs: runs("tenant-b", 3), rows: [] }
          ]
        })
      )
    )
    expect(page.match(/<svg class="chart"/g)).toHaveLength(2)
    expect(page.match(/<circle data-point="" data-target="tenant-a"/g)).toHaveLength(2)
    expect(page.match(/<circle data-point="" data-target="tenant-b"/g)).toHaveLength(3)
    expect(page).toContain(`href="#target-tenant-b"`)
  })

  it("zooms the scale on capacity when a large reserve leaves tisync a sliver of the limit", () => {
    const withReserve = (reserve: number) =>
      reportHtml(
        reportViewOf(
          input({
            targets: [
              {
                status: targetStatus("default", 1),
                runs: [runRow({ runId: "r1", startedAt: "2026-02-01T10:00:00.000Z", quota: quota(300, { reserve }) })],
                rows: []
              }
            ]
          })
        )
      )
    const zoomed = withReserve(14_600)
    expect(zoomed).toContain("scale zoomed on capacity")
    expect(zoomed).not.toContain(`data-series="limit"`)
    expect(zoomed).not.toContain(">15,000</text>")
    const full = withReserve(0)
    expect(full).not.toContain("scale zoomed")
    expect(full).toContain(`data-series="limit"`)
    expect(full).toContain(">15,000</text>")
  })

  it("the template escapes text and numbers and keeps markup it built", () => {
    const inner = html`<b>${"<i>"}</b>`
    expect(html`<p>${inner}${3}${[inner, inner]}</p>`.text).toBe("<p><b>&lt;i&gt;</b>3<b>&lt;i&gt;</b><b>&lt;i&gt;</b></p>")
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;")
  })

  it("axis steps are round numbers covering the range in about five steps", () => {
    expect(tickStep(15_000)).toBe(5_000)
    expect(tickStep(14_000)).toBe(5_000)
    expect(tickStep(100)).toBe(20)
    expect(tickStep(3)).toBe(1)
  })
})
