import { Effect, Metric } from "effect"
import type { TargetSnapshot } from "../daemon/TargetSnapshot.js"

/**
 * Per-target gauges, set from the store after every run (and when the daemon starts): the figures
 * `status --json` prints, so a dashboard and the CLI never disagree.
 */
const live = Metric.gauge("tisync_live_indicators", { description: "Indicators tisync holds live in Defender" })
const capacity = Metric.gauge("tisync_quota_capacity", { description: "Indicators tisync may hold: limit - reserve - foreign" })
const capacityLeft = Metric.gauge("tisync_quota_capacity_left", { description: "Capacity not yet used: capacity - live (never below 0)" })
const foreign = Metric.gauge("tisync_quota_foreign", { description: "Indicators in the tenant that tisync does not own" })
const deferred = Metric.gauge("tisync_deferred_indicators", { description: "Indicators deferred for lack of quota" })
const rejected = Metric.gauge("tisync_rejected_indicators", { description: "Indicators rejected (invalid or duplicate)" })
const lastRunDuration = Metric.gauge("tisync_last_run_duration_seconds", { description: "Duration of the last run that ended" })
const lastRunFinished = Metric.gauge("tisync_last_run_finished_timestamp_seconds", { description: "When the last run that ended finished (Unix time)" })
const lastRunSuccess = Metric.gauge("tisync_last_run_success", { description: "1 when the last run that ended completed, 0 when it failed" })
const lastCompleted = Metric.gauge("tisync_last_completed_run_timestamp_seconds", { description: "When the last completed run finished (Unix time)" })

export const runsTotal = Metric.counter("tisync_runs_total", {
  description: "Runs the daemon started, by target and outcome",
  incremental: true
})

export const recordTargetSnapshot = (s: TargetSnapshot) => {
  const t = <A extends Metric.Metric.Gauge<number>>(gauge: A) => gauge.pipe(Metric.tagged("target", s.targetId))
  const sets: Array<Effect.Effect<void>> = [
    Metric.set(t(live), s.quota.live),
    Metric.set(t(capacity), s.quota.capacity),
    Metric.set(t(capacityLeft), Math.max(0, s.quota.capacity - s.quota.live)),
    Metric.set(t(foreign), s.quota.foreign),
    Metric.set(t(deferred), s.states.deferred),
    Metric.set(t(rejected), s.states.rejected)
  ]
  const last = s.lastFinished
  if (last !== null) {
    sets.push(
      Metric.set(t(lastRunDuration), Math.max(0, last.finishedAtMillis - last.startedAtMillis) / 1000),
      Metric.set(t(lastRunFinished), last.finishedAtMillis / 1000),
      Metric.set(t(lastRunSuccess), last.status === "completed" ? 1 : 0)
    )
  }
  if (s.lastCompletedAtMillis !== null) sets.push(Metric.set(t(lastCompleted), s.lastCompletedAtMillis / 1000))
  return Effect.all(sets, { discard: true })
}

export const recordRunOutcome = (targetId: string, status: "completed" | "failed") =>
  Metric.increment(Metric.tagged(Metric.tagged(runsTotal, "target", targetId), "status", status))
