import { Effect, Fiber } from "effect"
import {
  addKeysOf,
  type Checkpoint,
  compareCheckpoints,
  emptyProjectionKeys,
  type EventDecodeError,
  EventStore,
  type EventStoreError,
  type KnownEvents,
  PROJECTION_NAMES,
  ProjectionFold,
  type ProjectionKeys,
  type ProjectionName,
  type ProjectionSide,
  ProjectionStore,
  type RecordedEvent
} from "@tisync/domain"

/** Events read and folded per transaction. */
export const PROJECTION_BATCH = 20_000

/**
 * Rows a catch-up keeps folded between its batches. A run's outcome events (`IndicatorSubmitted`) touch
 * the rows its intent events made a batch or two earlier; kept, they are neither loaded nor decoded again.
 */
const MAX_HELD_ROWS = 100_000

/**
 * A rebuild reads each stream's events together (they were appended together), so a dropped row is
 * rarely needed again: it holds about one batch's rows (at 100,000 a 1,000,000-event replay peaked at 1 GB).
 */
const REBUILD_MAX_HELD_ROWS = 20_000

/**
 * Loads the rows the events touch that the fold does not hold yet. `stored`, when known, is every key the
 * side holds (a rebuild wrote them all itself): a key outside it has no row to load.
 */
const loadInto = (
  fold: ProjectionFold,
  side: ProjectionSide,
  events: ReadonlyArray<RecordedEvent>,
  stored: ProjectionKeys | null
) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const touched = emptyProjectionKeys()
    for (const e of events) addKeysOf(touched, e)
    const keys = emptyProjectionKeys()
    for (const name of PROJECTION_NAMES) {
      const held = fold.rows[name]
      const exists = stored?.[name]
      for (const key of touched[name]) if (!held.has(key) && (exists === undefined || exists.has(key))) keys[name].add(key)
    }
    const rows = yield* projections.load(side, keys)
    for (const [key, row] of rows.indicator_state) fold.load("indicator_state", key, row)
    for (const [key, row] of rows.target_quota) fold.load("target_quota", key, row)
    for (const [key, row] of rows.target_last_run) fold.load("target_last_run", key, row)
    for (const [key, row] of rows.run_summary) fold.load("run_summary", key, row)
  })

const heldRows = (fold: ProjectionFold): number =>
  PROJECTION_NAMES.reduce((n, name) => n + fold.rows[name].size, 0)

const lastCheckpoint = (events: ReadonlyArray<RecordedEvent>): Checkpoint | null =>
  events.length === 0 ? null : (events[events.length - 1]?.checkpoint ?? null)

/**
 * Brings one side's projections up to the end of the log. Each batch loads the rows it touches, folds
 * the events and commits rows and checkpoint together; if another process moved the checkpoint first
 * (compare-and-set failed), the batch is dropped and read again from the new checkpoint. After a crash
 * between two batches the next call resumes from the last committed checkpoint. Events in `known` (what
 * this process appended) are folded as they are instead of being read back and decoded.
 */
export const catchUp = (side: ProjectionSide = "live", batchSize = PROJECTION_BATCH, known?: KnownEvents) =>
  catchUpFrom(side, batchSize, known, null, MAX_HELD_ROWS)

/** `stored`: every key the side's tables hold, when this call is their only writer (a rebuild); else null. */
const catchUpFrom = (
  side: ProjectionSide,
  batchSize: number,
  known: KnownEvents | undefined,
  initiallyStored: ProjectionKeys | null,
  maxHeldRows: number
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = yield* EventStore
      const projections = yield* ProjectionStore
      const read = (from: Checkpoint | null) =>
        known === undefined ? store.readAll(from, batchSize) : store.readAllKnown(from, batchSize, known)
      let processed = 0
      // The fold's rows are the stored rows as of `held`, the checkpoint this call last committed; when the
      // checkpoint is anywhere else (another process caught up meanwhile, or a commit failed) they are dropped.
      let fold = new ProjectionFold()
      let held: Checkpoint | null = null
      let stored = initiallyStored
      // The next batch is read while this one is folded and committed (the database works meanwhile). It
      // is used only if the checkpoint is then where that read started; the log is append-only, so a read
      // made a little earlier is still the right prefix.
      let prefetched: { readonly from: Checkpoint; readonly fiber: Fiber.Fiber<ReadonlyArray<RecordedEvent>, EventDecodeError | EventStoreError> } | null = null
      for (;;) {
        const from = yield* projections.checkpoint(side)
        if (held === null || from === null || compareCheckpoints(held, from) !== 0 || heldRows(fold) > maxHeldRows) {
          fold = new ProjectionFold()
        }
        const ahead: typeof prefetched = prefetched
        prefetched = null
        const events =
          ahead !== null && from !== null && compareCheckpoints(ahead.from, from) === 0
            ? yield* Fiber.join(ahead.fiber)
            : yield* Effect.zipRight(ahead === null ? Effect.void : Fiber.interrupt(ahead.fiber), read(from))
        const next = lastCheckpoint(events)
        if (next === null) return processed
        prefetched = { from: next, fiber: yield* Effect.forkScoped(read(next)) }
        yield* loadInto(fold, side, events, stored)
        for (const e of events) fold.apply(e)
        const changes = fold.takeDirty()
        const committed = yield* projections.commit(side, changes, from, next).pipe(
          Effect.as(true),
          Effect.catchTag("CheckpointConflict", () => Effect.succeed(false))
        )
        // Someone else writes this side too: its keys are no longer all known here.
        if (!committed) stored = null
        if (stored !== null) for (const name of PROJECTION_NAMES) for (const [key] of changes[name]) stored[name].add(key)
        if (committed) processed += events.length
        if (committed && known !== undefined) for (const e of events) known.forget(e.streamId, e.version)
        held = committed ? next : null
      }
    })
  )

/**
 * Rebuilds the shadow projections from the first event: empties them, then catches them up like the
 * live side, so memory stays bounded by the rows it holds (REBUILD_MAX_HELD_ROWS) and the set of keys
 * written, not by the size of the log (holding every row made a 1,000,000-event replay peak at 1.5 GB).
 * The keys written are remembered so that a key seen for the first time is not looked up.
 */
export const rebuildShadow = (batchSize = PROJECTION_BATCH, maxHeldRows = REBUILD_MAX_HELD_ROWS) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    yield* projections.resetShadow
    const events = yield* catchUpFrom("shadow", batchSize, undefined, emptyProjectionKeys(), maxHeldRows)
    return { events, checkpoint: yield* projections.checkpoint("shadow") }
  })

export interface ReplayReport {
  readonly events: number
  readonly projections: Record<ProjectionName, { readonly rows: number; readonly match: boolean }>
  readonly match: boolean
}

const sameCheckpoint = (a: Checkpoint | null, b: Checkpoint | null) =>
  a === null || b === null ? a === b : compareCheckpoints(a, b) === 0

/**
 * `replay --verify`: rebuild into shadow tables and compare row by row with the live ones, both read up
 * to the same checkpoint (a sync appending meanwhile moves both on; we retry until they line up).
 */
export const verifyReplay = Effect.gen(function* () {
  const projections = yield* ProjectionStore
  yield* catchUp("live")
  let rebuilt = yield* rebuildShadow()
  for (let attempt = 0; attempt < 5; attempt++) {
    yield* catchUp("live")
    const live = yield* projections.checkpoint("live")
    const shadow = yield* projections.checkpoint("shadow")
    if (sameCheckpoint(live, shadow)) break
    const more = yield* catchUp("shadow")
    rebuilt = { events: rebuilt.events + more, checkpoint: yield* projections.checkpoint("shadow") }
  }
  const comparisons = yield* projections.compare
  const verdict = (name: ProjectionName) => {
    const c = comparisons.find((x) => x.name === name)
    return { rows: c?.rows ?? 0, match: c !== undefined && c.mismatches === 0 }
  }
  const verdicts = {
    indicator_state: verdict("indicator_state"),
    target_quota: verdict("target_quota"),
    target_last_run: verdict("target_last_run"),
    run_summary: verdict("run_summary")
  }
  const report: ReplayReport = {
    events: rebuilt.events,
    projections: verdicts,
    match: PROJECTION_NAMES.every((name) => verdicts[name].match)
  }
  return report
})

/** `replay`: rebuild every projection from the log and make the result live. */
export const replay = Effect.gen(function* () {
  const projections = yield* ProjectionStore
  const rebuilt = yield* rebuildShadow()
  yield* projections.promoteShadow
  yield* catchUp("live")
  return rebuilt.events
})
