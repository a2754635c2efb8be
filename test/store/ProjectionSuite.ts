import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { catchUp, rebuildShadow, replay, verifyReplay } from "@tisync/app"
import {
  EventStore,
  indicatorStreamId,
  ProjectionStore,
  runStreamId,
  TargetId
} from "@tisync/domain"
import { ipKey, revoked, runCompleted, runStarted, smallRun, testRunId } from "../support/sampleEvents.js"

export interface ProjectionHarness<R> {
  /** Changes one live indicator row behind the runner's back. */
  readonly tamper: (streamId: string) => Effect.Effect<void, unknown, R>
}

const appendRun = (value: string, targetId = TargetId.make("default")) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const [started, indicator, completed] = smallRun(value, targetId)
    yield* store.append({ streamId: started!.streamId, expectedVersion: 0, events: started!.events })
    yield* store.append({ streamId: indicator!.streamId, expectedVersion: 0, events: indicator!.events })
    yield* store.append({ streamId: completed!.streamId, expectedVersion: 1, events: completed!.events })
  })

/** Projection behaviour on top of an EventStore + ProjectionStore pair. */
export const projectionSuite = <R>(
  name: string,
  make: () => { readonly layer: Layer.Layer<EventStore | ProjectionStore | R, unknown>; readonly harness: ProjectionHarness<R> }
) => {
  const { layer: storeLayer, harness } = make()
  layer(storeLayer, { timeout: 120_000 })(`projections (${name})`, (it) => {
    it.effect("fold: a submitted indicator is live, counted in quota, and the run is summarised", () =>
      Effect.gen(function* () {
        const projections = yield* ProjectionStore
        const targetId = TargetId.make("fold")
        yield* appendRun("198.51.100.1", targetId)
        yield* catchUp()
        const rows = yield* projections.indicators({ targetId })
        expect(rows.map((r) => [r.value, r.status, r.version, r.defenderId])).toEqual([
          ["198.51.100.1", "live", 3, "d-198.51.100.1"]
        ])
        const quota = yield* projections.quota(targetId)
        expect(quota?.quota).toEqual({ limit: 15000, reserve: 100, foreign: 10, live: 1, capacity: 14890 })
        expect(quota?.states).toEqual({ live: 1, rejected: 0, deferred: 0, expired: 0, revoked: 0 })
        const last = yield* projections.lastRun(targetId)
        expect(last?.status).toBe("completed")
        expect(last?.watermark).toBe("2026-01-01T00:02:00.000Z")
        const runs = yield* projections.runs({ targetId, limit: 10 })
        expect(runs).toHaveLength(1)
        expect(runs[0]?.indicatorEvents).toBe(3)
        expect(runs[0]?.counts?.submitted).toBe(1)
      }))

    it.effect("a revoked indicator leaves the live count", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const projections = yield* ProjectionStore
        const targetId = TargetId.make("revoke")
        yield* appendRun("198.51.100.2", targetId)
        const key = ipKey("198.51.100.2", targetId)
        const runId = testRunId()
        yield* store.append({ streamId: runStreamId(targetId, runId), expectedVersion: 0, events: [runStarted(runId, 5, targetId)] })
        yield* store.append({ streamId: indicatorStreamId(key), expectedVersion: 3, events: [revoked(key, runId, 6)] })
        yield* store.append({ streamId: runStreamId(targetId, runId), expectedVersion: 1, events: [runCompleted(runId, 7, targetId)] })
        yield* catchUp()
        const quota = yield* projections.quota(targetId)
        expect(quota?.states).toEqual({ live: 0, rejected: 0, deferred: 0, expired: 0, revoked: 1 })
        expect((yield* projections.indicators({ targetId, value: "198.51.100.2" }))[0]?.status).toBe("revoked")
      }))

    it.effect("replay --verify matches the live projections", () =>
      Effect.gen(function* () {
        yield* appendRun("198.51.100.3")
        yield* catchUp()
        const report = yield* verifyReplay
        expect(report.match).toBe(true)
        expect(report.events).toBeGreaterThan(0)
        expect(report.projections.indicator_state.rows).toBeGreaterThan(0)
      }))

    it.effect("a tampered projection row makes replay --verify fail", () =>
      Effect.gen(function* () {
        yield* appendRun("198.51.100.4")
        yield* catchUp()
        const key = ipKey("198.51.100.4")
        yield* harness.tamper(indicatorStreamId(key))
        const report = yield* verifyReplay
        expect(report.match).toBe(false)
        expect(report.projections.indicator_state.match).toBe(false)
        expect(report.projections.run_summary.match).toBe(true)
      }))

    it.effect("replay makes the rebuilt projections live, again and again", () =>
      Effect.gen(function* () {
        const projections = yield* ProjectionStore
        yield* appendRun("198.51.100.5")
        yield* catchUp()
        const key = ipKey("198.51.100.5")
        yield* harness.tamper(indicatorStreamId(key))
        expect((yield* verifyReplay).match).toBe(false)
        // Twice: the second promotion swaps the tables back, so their names and indexes must still line up.
        for (let i = 0; i < 2; i++) {
          const events = yield* replay
          expect(events).toBeGreaterThan(0)
          const report = yield* verifyReplay
          expect(report.match).toBe(true)
          expect((yield* projections.indicators({ value: "198.51.100.5" }))[0]?.status).toBe("live")
        }
        yield* appendRun("198.51.100.6")
        yield* catchUp()
        expect((yield* projections.indicators({ value: "198.51.100.6" }))[0]?.status).toBe("live")
        expect((yield* verifyReplay).match).toBe(true)
      }))
  })

  layer(make().layer, { timeout: 120_000 })(`projection checkpoints (${name})`, (it) => {
    it.effect("resumes from the checkpoint after a crash between two batches", () =>
      Effect.gen(function* () {
        for (let i = 0; i < 5; i++) yield* appendRun(`192.0.2.${i + 1}`)
        const projections = yield* ProjectionStore
        // Crash: the second batch's commit never happens.
        let commits = 0
        const crashing = ProjectionStore.of({
          ...projections,
          commit: (side, changes, expected, next) =>
            ++commits === 2 ? Effect.die("crash before commit") : projections.commit(side, changes, expected, next)
        })
        const crashed = yield* Effect.exit(catchUp("live", 4).pipe(Effect.provideService(ProjectionStore, crashing)))
        expect(crashed._tag).toBe("Failure")
        const midway = yield* projections.checkpoint("live")
        expect(midway).not.toBeNull()
        // Restart: catch up from the stored checkpoint; the result equals a fold of everything.
        const processed = yield* catchUp("live", 4)
        expect(processed).toBe(5 * 5 - 4)
        const report = yield* verifyReplay
        expect(report.match).toBe(true)
        expect((yield* projections.indicators({ targetId: "default" })).length).toBe(5)
      }))

    it.effect("a rebuild that drops its held rows between small batches still equals the live projections", () =>
      Effect.gen(function* () {
        const projections = yield* ProjectionStore
        for (let i = 0; i < 4; i++) yield* appendRun(`192.0.2.${50 + i}`)
        yield* catchUp()
        // Batches of 3 events and at most 1 held row: streams and runs span batches whose rows were dropped.
        const rebuilt = yield* rebuildShadow(3, 1)
        expect(rebuilt.events).toBeGreaterThan(20)
        const comparisons = yield* projections.compare
        expect(comparisons.find((c) => c.name === "indicator_state")?.rows).toBeGreaterThanOrEqual(4)
        for (const c of comparisons) expect([c.name, c.mismatches]).toEqual([c.name, 0])
      }))

    it.effect("a stale checkpoint is a conflict and writes nothing", () =>
      Effect.gen(function* () {
        const projections = yield* ProjectionStore
        const rebuilt = yield* rebuildShadow()
        expect(rebuilt.checkpoint).not.toBeNull()
        const conflict = yield* Effect.flip(
          projections.commit(
            "shadow",
            { indicator_state: [], target_quota: [], target_last_run: [], run_summary: [] },
            null,
            { transactionId: "1", position: "1" }
          )
        )
        expect(conflict._tag).toBe("CheckpointConflict")
        expect(yield* projections.checkpoint("shadow")).toEqual(rebuilt.checkpoint)
      }))
  })
}

