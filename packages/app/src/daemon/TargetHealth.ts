import type { FinishedRun } from "./TargetSnapshot.js"

/** What the daemon knows of one target between scrapes. */
export interface TargetHealthState {
  readonly targetId: string
  readonly lastFinished: FinishedRun | null
  readonly running: boolean
}

export interface TargetHealth {
  readonly targetId: string
  /** `starting`: no run of this target has ended yet (neither in the store nor since the daemon started). */
  readonly status: "starting" | "completed" | "failed"
  readonly runId: string | null
  readonly finishedAt: string | null
  /** Seconds since the last run ended; null while starting. */
  readonly ageSeconds: number | null
  readonly running: boolean
  readonly healthy: boolean
}

/** `GET /healthz`'s JSON body. */
export interface HealthBody {
  readonly status: "ok" | "starting" | "unhealthy"
  readonly intervalSeconds: number
  /** A completed run older than this is stale: two intervals (the jitter and a slow run fit in it). */
  readonly maxAgeSeconds: number
  readonly targets: ReadonlyArray<TargetHealth>
}

export interface HealthAnswer {
  readonly httpStatus: 200 | 503
  readonly body: HealthBody
}

/**
 * 200 when the last run of every target completed no longer than two intervals ago; 503 otherwise:
 * a failed last run, a stale one (the daemon is stuck or runs keep failing), or no run yet (`starting`).
 */
export const evaluateHealth = (
  targets: ReadonlyArray<TargetHealthState>,
  nowMillis: number,
  intervalMillis: number
): HealthAnswer => {
  const maxAgeMillis = 2 * intervalMillis
  const health = targets.map((t): TargetHealth => {
    const last = t.lastFinished
    if (last === null) {
      return { targetId: t.targetId, status: "starting", runId: null, finishedAt: null, ageSeconds: null, running: t.running, healthy: false }
    }
    const ageMillis = Math.max(0, nowMillis - last.finishedAtMillis)
    return {
      targetId: t.targetId,
      status: last.status,
      runId: last.runId,
      finishedAt: new Date(last.finishedAtMillis).toISOString(),
      ageSeconds: Math.floor(ageMillis / 1000),
      running: t.running,
      healthy: last.status === "completed" && ageMillis <= maxAgeMillis
    }
  })
  const allHealthy = health.every((h) => h.healthy)
  const onlyStarting = !allHealthy && health.every((h) => h.healthy || h.status === "starting")
  return {
    httpStatus: allHealthy ? 200 : 503,
    body: {
      status: allHealthy ? "ok" : onlyStarting ? "starting" : "unhealthy",
      intervalSeconds: Math.round(intervalMillis / 1000),
      maxAgeSeconds: Math.round(maxAgeMillis / 1000),
      targets: health
    }
  }
}
