import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { CliWorld, OWNERS } from "./CliWorld.js"

/** Debian's package; CI installs it (issue 7 item 5). Without it the browser check is skipped, visibly. */
const CHROMIUM = "/usr/bin/chromium"
const hasChromium = fs.existsSync(CHROMIUM)
if (!hasChromium) console.warn(`report e2e: chromium not installed (${CHROMIUM}): the headless rendering check is skipped`)

const SyncJson = Schema.Struct({
  runId: Schema.String,
  status: Schema.String,
  counts: Schema.Struct({ deferredQuota: Schema.Number, submitted: Schema.Number }),
  quota: Schema.Struct({ live: Schema.Number, capacity: Schema.Number, reserve: Schema.Number })
})
const ReportJson = Schema.Struct({ out: Schema.String, runs: Schema.Number, targets: Schema.Array(Schema.String) })

/** References that would make a browser fetch something (a URL indicator shown as text is not one). */
const EXTERNAL_ASSET = /(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\/)|url\(\s*["']?\s*(?:https?:)?\/\/|@import/i

const execFileText = promisify(execFile)

/** The DOM Chromium built from the file: what a reader's browser shows, not the bytes we wrote. */
const renderedDom = async (file: string): Promise<string> => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tisync-chromium-"))
  try {
    const args = [
      "--headless",
      "--disable-gpu",
      // Chromium's sandbox cannot start as root (CI containers run as root). Acceptable for this test only:
      // the page is one we just generated, has no script and its CSP forbids every fetch.
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      `--user-data-dir=${profile}`,
      "--dump-dom",
      `file://${file}`
    ]
    const { stdout } = await execFileText(CHROMIUM, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } finally {
    fs.rmSync(profile, { recursive: true, force: true })
  }
}

describe("tisync report end to end (pglite)", () => {
  let world: CliWorld
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tisync-report-"))
  const out = path.join(dir, "report.html")
  const policy = ["--owners", OWNERS, "--lastRunDays", "31"]
  const syncs: Array<typeof SyncJson.Type> = []

  beforeAll(async () => {
    world = await CliWorld.start("pglite", { indicators: 40 })
    // A reserve that leaves room for 10, then none: deferred indicators, then a run that sends them.
    for (const args of [["--indicatorReserveCount", "14990"], ["--full"]]) {
      const sync = await world.run(["sync", "--json", ...policy, ...args])
      expect(sync.code, sync.stderr).toBe(0)
      syncs.push(Schema.decodeUnknownSync(SyncJson)(sync.json))
    }
  }, 120_000)
  afterAll(async () => {
    await world?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("writes one self-contained file and prints what it wrote", async () => {
    expect(syncs[0]?.counts.deferredQuota).toBeGreaterThan(0)
    const report = await world.run(["report", "--out", out, "--json", "--target", "default"])
    expect(report.code, report.stderr).toBe(0)
    expect(Schema.decodeUnknownSync(ReportJson)(report.json)).toEqual({ out, runs: 2, targets: ["default"] })
    const page = fs.readFileSync(out, "utf8")
    expect(page).not.toMatch(EXTERNAL_ASSET)
    expect(page).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i)
    expect(page).toContain("Deferred indicators")
    expect(page).toContain("no quota left under the reserve")
    expect(fs.readdirSync(dir)).toEqual(["report.html"])
  })

  it("refuses an unknown --target or an --out in no directory with exit 2, naming it, and writes nothing", async () => {
    const other = path.join(dir, "other.html")
    const unknownTarget = await world.run(["report", "--out", other, "--target", "nope"])
    expect(unknownTarget.code).toBe(2)
    expect(unknownTarget.stderr).toContain("nope")
    const noDirectory = await world.run(["report", "--out", path.join(dir, "missing", "r.html")])
    expect(noDirectory.code).toBe(2)
    expect(noDirectory.stderr).toContain("--out")
    expect(fs.readdirSync(dir)).toEqual(["report.html"])
  })

  it.skipIf(!hasChromium)(
    hasChromium
      ? "renders in headless Chromium with one chart point per run, at the live count each run recorded"
      : "renders in headless Chromium (SKIPPED: chromium not installed)",
    async () => {
      const dom = await renderedDom(out)
      expect(dom).toContain("Quota across runs")
      const points = [...dom.matchAll(/<circle data-point=""[^>]*>/g)].map((m) => m[0])
      expect(points).toHaveLength(syncs.length)
      syncs.forEach((sync, i) => {
        expect(points[i]).toContain(`data-run-id="${sync.runId}"`)
        expect(points[i]).toContain(`data-live="${sync.quota.live}"`)
      })
      const rows = dom.match(/<table class="runs">[\s\S]*?<\/table>/)?.[0] ?? ""
      expect(rows.match(/<tr>/g)?.length).toBe(syncs.length + 1)
    },
    90_000
  )
})
