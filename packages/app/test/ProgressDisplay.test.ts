import { Writable } from "node:stream"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeProgressLine, progressEnabled, withProgress } from "../src/cli/ProgressDisplay.js"
import { applyProgress, formatProgress, initialProgress, type ProgressEvent, reportProgress } from "../src/observability/RunProgress.js"

/** A terminal that keeps what is written to it. */
const fakeStream = (isTTY: boolean) => {
  const written: Array<string> = []
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        written.push(chunk.toString())
        done()
      }
    }),
    { isTTY, columns: 120 }
  )
  return { stream, output: () => written.join("") }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const NOW = 1_000_000

const replay = (events: ReadonlyArray<ProgressEvent>) => events.reduce(applyProgress, initialProgress)

describe("progress line", () => {
  it("folds pages, plan, batches and waits into one line", () => {
    const state = replay([
      { _tag: "PageFetched" },
      { _tag: "PageFetched" },
      { _tag: "Planned", candidates: 1200, batches: 3 },
      { _tag: "BatchSent" },
      { _tag: "Waiting", endpoint: "import", status: 429, untilMillis: NOW + 6500 }
    ])
    expect(formatProgress(state, NOW)).toBe("pages 2 | planned 1200 | batches 1/3 | import 429: Retry-After, 7s left")
    expect(formatProgress(state, NOW + 6000)).toContain("Retry-After, 1s left")
    expect(formatProgress(applyProgress(state, { _tag: "BatchSent" }), NOW)).toBe("pages 2 | planned 1200 | batches 2/3")
    expect(formatProgress(replay([{ _tag: "Waiting", endpoint: "threatconnect", status: 503, untilMillis: null }]), NOW)).toBe(
      "pages 0 | planning | batches 0/? | threatconnect 503: retrying"
    )
  })

  it("is shown only on a terminal and never with --json", () => {
    expect(progressEnabled(false, fakeStream(true).stream)).toBe(true)
    expect(progressEnabled(true, fakeStream(true).stream)).toBe(false)
    expect(progressEnabled(false, fakeStream(false).stream)).toBe(false)
  })

  it("draws the state on a terminal with cli-progress, and removes the line when done", async () => {
    const { stream, output } = fakeStream(true)
    const line = makeProgressLine(stream)
    line.show(replay([{ _tag: "PageFetched" }, { _tag: "Planned", candidates: 12, batches: 2 }, { _tag: "BatchSent" }]))
    await sleep(300)
    expect(output()).toContain("pages 1 | planned 12 | batches 1/2")
    expect(output()).toMatch(/=+-+ pages 1/)
    line.show(replay([{ _tag: "Planned", candidates: 12, batches: 2 }, { _tag: "Waiting", endpoint: "import", status: 429, untilMillis: Date.now() + 7000 }]))
    await sleep(300)
    expect(output()).toMatch(/import 429: Retry-After, [67]s left/)
    let logged = false
    line.aroundLog(() => {
      logged = true
    })
    expect(logged).toBe(true)
    line.stop()
    expect(output().endsWith("\u001b[2K")).toBe(true)
  })

  it("draws nothing on a stream that is not a terminal", async () => {
    const { stream, output } = fakeStream(false)
    await Effect.runPromise(
      withProgress(true, stream)(Effect.all([reportProgress({ _tag: "PageFetched" }), reportProgress({ _tag: "BatchSent" })]))
    )
    await sleep(150)
    expect(output()).toBe("")
  })

  it("withProgress routes what the run reports to the line", async () => {
    const { stream, output } = fakeStream(true)
    await Effect.runPromise(
      withProgress(true, stream)(
        Effect.gen(function* () {
          yield* reportProgress({ _tag: "PageFetched" })
          yield* reportProgress({ _tag: "Planned", candidates: 5, batches: 1 })
          yield* reportProgress({ _tag: "BatchSent" })
          yield* Effect.sleep("250 millis")
        })
      )
    )
    expect(output()).toContain("pages 1 | planned 5 | batches 1/1")
    // Without it, reports go nowhere (the default reporter).
    await Effect.runPromise(reportProgress({ _tag: "PageFetched" }))
  })
})
