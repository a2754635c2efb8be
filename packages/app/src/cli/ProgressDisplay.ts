import cliProgress from "cli-progress"
import { Effect } from "effect"
import { applyProgress, formatProgress, initialProgress, type ProgressState, RunProgressReporter } from "../observability/RunProgress.js"

/** A stream a progress line can be drawn on (process.stderr, or a fake terminal in tests). */
export type ProgressStream = NodeJS.WritableStream & { readonly isTTY?: boolean }

/** Progress is drawn only for a person: stderr is a terminal and the output is not `--json`. */
export const progressEnabled = (json: boolean, stream: ProgressStream = process.stderr): boolean => !json && stream.isTTY === true

export interface ProgressLine {
  readonly show: (state: ProgressState) => void
  /** Clears the line so a log line can be written, and draws it again after. */
  readonly aroundLog: (write: () => void) => void
  readonly stop: () => void
}

/**
 * One cli-progress line on `stream`: a bar of import batches sent, then `formatProgress`. Redrawn ten
 * times a second so a Retry-After countdown moves on its own. On a stream that is not a terminal
 * cli-progress draws nothing.
 */
export const makeProgressLine = (stream: ProgressStream): ProgressLine => {
  let state = initialProgress
  const bar = new cliProgress.SingleBar({
    stream,
    format: (options, params) => `${cliProgress.Format.BarFormat(params.progress, options)} ${formatProgress(state, Date.now())}`,
    barsize: 20,
    hideCursor: true,
    clearOnComplete: true,
    forceRedraw: true,
    gracefulExit: false
  })
  bar.start(1, 0)
  const totalOf = (s: ProgressState) => Math.max(1, s.batchesTotal ?? 1)
  return {
    show: (next) => {
      state = next
      if (bar.getTotal() !== totalOf(next)) bar.setTotal(totalOf(next))
      bar.update(next.batchesTotal === 0 ? 1 : next.batchesSent)
    },
    aroundLog: (write) => {
      if (stream.isTTY !== true) return write()
      stream.write("\r\u001b[2K")
      write()
      // cli-progress returns the cursor to where it saved it when it stops: save it below the log line.
      stream.write("\u001b7")
      bar.render()
    },
    stop: () => bar.stop()
  }
}

/** The line being drawn, if any: the terminal logger writes around it (AppContext). */
let activeLine: ProgressLine | null = null

export const writeAroundProgress = (write: () => void): void => {
  if (activeLine === null) write()
  else activeLine.aroundLog(write)
}

/**
 * Runs `effect` with a progress line on stderr when `enabled`: the reporter the sync engine and the HTTP
 * client report to draws it; the line is removed when the effect ends, however it ends.
 */
export const withProgress =
  (enabled: boolean, stream: ProgressStream = process.stderr) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    enabled
      ? Effect.acquireUseRelease(
          Effect.sync(() => {
            const line = makeProgressLine(stream)
            activeLine = line
            return line
          }),
          (line) => {
            let state = initialProgress
            return Effect.provideService(effect, RunProgressReporter, {
              report: (event) =>
                Effect.sync(() => {
                  state = applyProgress(state, event)
                  line.show(state)
                })
            })
          },
          (line) =>
            Effect.sync(() => {
              line.stop()
              activeLine = null
            })
        )
      : effect
