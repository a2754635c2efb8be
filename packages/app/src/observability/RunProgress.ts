import { Context, Effect } from "effect"

/** What a terminal shows of a run in progress (issue 7 item 4). */
export interface ProgressState {
  readonly pagesFetched: number
  /** Source records the run planned for; null until the plan is made. */
  readonly candidates: number | null
  readonly batchesSent: number
  /** Import batches the plan needs; null until the plan is made. */
  readonly batchesTotal: number | null
  /** An API answered 429 or 5xx: the adapter waits (until `untilMillis` when it sent `Retry-After`). */
  readonly waiting: { readonly endpoint: string; readonly status: number; readonly untilMillis: number | null } | null
}

export const initialProgress: ProgressState = { pagesFetched: 0, candidates: null, batchesSent: 0, batchesTotal: null, waiting: null }

export type ProgressEvent =
  | { readonly _tag: "PageFetched" }
  | { readonly _tag: "Planned"; readonly candidates: number; readonly batches: number }
  | { readonly _tag: "BatchSent" }
  | { readonly _tag: "Waiting"; readonly endpoint: string; readonly status: number; readonly untilMillis: number | null }
  | { readonly _tag: "Answered" }

export const applyProgress = (state: ProgressState, event: ProgressEvent): ProgressState => {
  switch (event._tag) {
    case "PageFetched":
      return { ...state, pagesFetched: state.pagesFetched + 1, waiting: null }
    case "Planned":
      return { ...state, candidates: event.candidates, batchesTotal: event.batches, batchesSent: 0 }
    case "BatchSent":
      return { ...state, batchesSent: state.batchesSent + 1, waiting: null }
    case "Waiting":
      return { ...state, waiting: { endpoint: event.endpoint, status: event.status, untilMillis: event.untilMillis } }
    case "Answered":
      return state.waiting === null ? state : { ...state, waiting: null }
  }
}

/** One line: `pages 3 | planned 1200 | batches 1/3 | import 429: Retry-After, 7s left`. */
export const formatProgress = (state: ProgressState, nowMillis: number): string => {
  const parts = [
    `pages ${state.pagesFetched}`,
    state.candidates === null ? "planning" : `planned ${state.candidates}`,
    `batches ${state.batchesSent}/${state.batchesTotal ?? "?"}`
  ]
  const w = state.waiting
  if (w !== null) {
    parts.push(
      w.untilMillis === null
        ? `${w.endpoint} ${w.status}: retrying`
        : `${w.endpoint} ${w.status}: Retry-After, ${Math.max(0, Math.ceil((w.untilMillis - nowMillis) / 1000))}s left`
    )
  }
  return parts.join(" | ")
}

/**
 * Where a run's progress goes. A Context.Reference: nothing needs to provide it (the default drops every
 * event), so the sync engine and the HTTP client report without new requirements; `sync` and `demo` on a
 * terminal provide one that draws a progress line.
 */
export class RunProgressReporter extends Context.Reference<RunProgressReporter>()("@tisync/app/RunProgressReporter", {
  defaultValue: (): { readonly report: (event: ProgressEvent) => Effect.Effect<void> } => ({ report: () => Effect.void })
}) {}

export const reportProgress = (event: ProgressEvent): Effect.Effect<void> => Effect.flatMap(RunProgressReporter, (r) => r.report(event))
