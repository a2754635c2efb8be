import { Clock, DateTime, Duration, Effect, Layer, Random, Ref } from "effect"
import type { Policy } from "@tisync/domain"
import { type AppContext, storeSettings } from "../cli/AppContext.js"
import { storeLayerOf } from "../cli/AppLayers.js"
import { printJson, printLine } from "../cli/Output.js"
import { runFailed, syncTargetsThen } from "../cli/SyncCommand.js"
import { recordRunOutcome, recordTargetSnapshot } from "../observability/RunMetrics.js"
import { dueTargets, firstRunAt, MAX_JITTER, nextRunAt } from "./DaemonSchedule.js"
import { healthServerLayer } from "./HealthServer.js"
import type { TargetHealthState } from "./TargetHealth.js"
import { snapshotTargets, type TargetSnapshot } from "./TargetSnapshot.js"

export interface DaemonOptions {
  readonly every: Duration.Duration
  readonly json: boolean
  /** 0: no health server. */
  readonly healthPort: number
  readonly healthHost: string
}

const isoOf = (millis: number) => DateTime.formatIso(DateTime.unsafeMake(millis))

/**
 * `tisync daemon` (issue 7 item 2). Each target has its own due time: at start, one catch-up run at once
 * when its last completed run is an interval old or more, else one interval (plus jitter) after it; after
 * every run, one interval (plus jitter) after it ended. One loop runs whatever is due, so a target's runs
 * never overlap; targets due together run side by side on PostgreSQL, one after another on PGlite.
 * A failed run is logged and tried again at its next due time. Interrupted (SIGTERM), the run in flight
 * finishes its Defender batch, records RunFailed and releases its lock (BatchInFlight), and the daemon
 * stops; main.ts turns that into exit 0.
 */
export const runDaemon = (context: AppContext, options: DaemonOptions) =>
  Effect.gen(function* () {
    const intervalMillis = Duration.toMillis(options.every)
    const ids = context.targets.map((t) => t.settings.id)
    const policies = new Map<string, Policy>(context.targets.map((t) => [t.settings.id, t.policy]))
    const policyOf = (id: string) => policies.get(id)
    const health = yield* Ref.make<ReadonlyArray<TargetHealthState>>(ids.map((targetId) => ({ targetId, lastFinished: null, running: false })))

    const setRunning = (running: ReadonlySet<string>) =>
      Ref.update(health, (all) => all.map((h) => ({ ...h, running: running.has(h.targetId) })))
    const apply = (snapshots: ReadonlyArray<TargetSnapshot>) =>
      Effect.gen(function* () {
        const byId = new Map(snapshots.map((s) => [s.targetId, s]))
        yield* Effect.forEach(snapshots, recordTargetSnapshot, { discard: true })
        yield* Ref.update(health, (all) => all.map((h) => ({ ...h, lastFinished: byId.get(h.targetId)?.lastFinished ?? h.lastFinished })))
      })

    if (options.healthPort > 0) {
      yield* Layer.build(healthServerLayer({ host: options.healthHost, port: options.healthPort, intervalMillis, targets: health }))
      yield* Effect.logInfo(`health on http://${options.healthHost}:${options.healthPort}/healthz, metrics on /metrics`)
    }

    const initial = yield* snapshotTargets(ids, policyOf).pipe(Effect.provide(storeLayerOf(storeSettings(context))))
    yield* apply(initial)
    const startedAt = yield* Clock.currentTimeMillis
    const due = new Map<string, number>()
    for (const s of initial) {
      const at = firstRunAt({ lastCompletedAtMillis: s.lastCompletedAtMillis, nowMillis: startedAt, intervalMillis, jitter: yield* Random.nextRange(0, MAX_JITTER) })
      due.set(s.targetId, at)
      const last = s.lastCompletedAtMillis === null ? "never completed a run" : `last completed a run at ${isoOf(s.lastCompletedAtMillis)}`
      yield* Effect.logInfo(
        at <= startedAt ? `target ${s.targetId} ${last}: running it now` : `target ${s.targetId} ${last}: next run at ${isoOf(at)}`
      )
    }

    const runDue = (ready: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        yield* setRunning(new Set(ready))
        const subset: AppContext = { ...context, targets: context.targets.filter((t) => ready.includes(t.settings.id)) }
        // A failed read of the figures afterwards must not turn completed runs into failed ones.
        const outcome = yield* syncTargetsThen(subset, { full: false, dryRun: false }, (reports) =>
          Effect.map(Effect.either(snapshotTargets(ready, policyOf)), (snapshots) => ({ reports, snapshots }))
        ).pipe(Effect.either)
        if (outcome._tag === "Right") {
          for (const r of outcome.right.reports) {
            yield* options.json ? printJson(r) : printLine(`${r.targetId}: run ${r.runId} ${r.status}`)
            yield* recordRunOutcome(r.targetId, r.status)
            if (runFailed(r)) yield* Effect.logWarning(`run ${r.runId} on ${r.targetId} did not complete every write`)
          }
          const snapshots = outcome.right.snapshots
          if (snapshots._tag === "Right") yield* apply(snapshots.right)
          else yield* Effect.logWarning(`could not read the targets' figures after the run: ${snapshots.left.message}`)
        } else {
          const e = outcome.left
          yield* Effect.logError(`run failed: ${e instanceof Error ? e.message : String(e)}`)
          for (const id of ready) yield* recordRunOutcome(id, "failed")
        }
        yield* setRunning(new Set())
        const finished = yield* Clock.currentTimeMillis
        for (const id of ready) due.set(id, nextRunAt(finished, intervalMillis, yield* Random.nextRange(0, MAX_JITTER)))
      })

    const step = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const { due: ready, nextAtMillis } = dueTargets(due, now)
      if (ready.length > 0) return yield* runDue(ready)
      if (nextAtMillis === null) return yield* Effect.never
      const pause = Duration.millis(nextAtMillis - now)
      yield* Effect.logInfo(`next run in ${Duration.format(pause)} (at ${isoOf(nextAtMillis)})`)
      yield* Effect.sleep(pause)
    })
    return yield* Effect.forever(step)
  }).pipe(Effect.scoped)
