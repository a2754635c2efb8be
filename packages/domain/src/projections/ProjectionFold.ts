import { isIndicatorEvent, type DomainEvent } from "../Events.js"
import { evolveIndicatorState } from "./IndicatorStateProjection.js"
import type { ProjectionName, ProjectionRowTypes } from "./ProjectionRows.js"
import { evolveQuotaOnRunCompleted, evolveQuotaOnTransition } from "./QuotaProjection.js"
import { countIndicatorEvent, evolveLastRun, evolveRunSummary } from "./RunProjections.js"

/** Row keys an event touches, per projection: what a runner loads before folding a batch. */
export interface ProjectionKeys {
  readonly indicator_state: Set<string>
  readonly target_quota: Set<string>
  readonly target_last_run: Set<string>
  readonly run_summary: Set<string>
}

export const emptyProjectionKeys = (): ProjectionKeys => ({
  indicator_state: new Set(),
  target_quota: new Set(),
  target_last_run: new Set(),
  run_summary: new Set()
})

export interface FoldableEvent {
  readonly streamId: string
  readonly version: number
  readonly event: DomainEvent
}

export const addKeysOf = (keys: ProjectionKeys, { event, streamId }: FoldableEvent): void => {
  if (isIndicatorEvent(event)) {
    keys.indicator_state.add(streamId)
    keys.target_quota.add(event.key.targetId)
    if (event.runId !== null) keys.run_summary.add(event.runId)
  } else {
    keys.target_last_run.add(event.targetId)
    keys.run_summary.add(event.runId)
    if (event._tag === "RunCompleted") keys.target_quota.add(event.targetId)
  }
}

type RowMaps = { readonly [P in ProjectionName]: Map<string, ProjectionRowTypes[P]> }

/**
 * Folds events over the four read models. It holds only the rows a batch touches (loaded by the
 * runner), applies the pure evolve functions in log order, and remembers which rows changed.
 */
export class ProjectionFold {
  readonly rows: RowMaps = {
    indicator_state: new Map(),
    target_quota: new Map(),
    target_last_run: new Map(),
    run_summary: new Map()
  }
  private readonly dirty: ProjectionKeys = emptyProjectionKeys()

  load<P extends ProjectionName>(projection: P, key: string, row: ProjectionRowTypes[P]): void {
    const map: Map<string, ProjectionRowTypes[P]> = this.rows[projection]
    map.set(key, row)
  }

  apply({ streamId, version, event }: FoldableEvent): void {
    if (isIndicatorEvent(event)) {
      const before = this.rows.indicator_state.get(streamId)
      const after = evolveIndicatorState(before, streamId, version, event)
      this.rows.indicator_state.set(streamId, after)
      this.dirty.indicator_state.add(streamId)
      const targetId = event.key.targetId
      const quota = this.rows.target_quota.get(targetId)
      const nextQuota = evolveQuotaOnTransition(quota, targetId, before?.status, after.status)
      if (nextQuota !== quota) {
        this.rows.target_quota.set(targetId, nextQuota)
        this.dirty.target_quota.add(targetId)
      }
      if (event.runId !== null) {
        const run = this.rows.run_summary.get(event.runId)
        if (run !== undefined) {
          this.rows.run_summary.set(event.runId, countIndicatorEvent(run))
          this.dirty.run_summary.add(event.runId)
        }
      }
      return
    }
    this.rows.target_last_run.set(event.targetId, evolveLastRun(this.rows.target_last_run.get(event.targetId), event))
    this.dirty.target_last_run.add(event.targetId)
    this.rows.run_summary.set(event.runId, evolveRunSummary(this.rows.run_summary.get(event.runId), event))
    this.dirty.run_summary.add(event.runId)
    if (event._tag === "RunCompleted") {
      const quota = evolveQuotaOnRunCompleted(this.rows.target_quota.get(event.targetId), event.targetId, event.quota)
      this.rows.target_quota.set(event.targetId, quota)
      this.dirty.target_quota.add(event.targetId)
    }
  }

  /** The rows changed since the last call, and forget them (the runner has written them). */
  takeDirty(): { readonly [P in ProjectionName]: ReadonlyArray<readonly [string, ProjectionRowTypes[P]]> } {
    const take = <P extends ProjectionName>(p: P): ReadonlyArray<readonly [string, ProjectionRowTypes[P]]> => {
      const map: Map<string, ProjectionRowTypes[P]> = this.rows[p]
      const out: Array<readonly [string, ProjectionRowTypes[P]]> = []
      for (const key of this.dirty[p]) {
        const row = map.get(key)
        if (row !== undefined) out.push([key, row])
      }
      this.dirty[p].clear()
      return out
    }
    return {
      indicator_state: take("indicator_state"),
      target_quota: take("target_quota"),
      target_last_run: take("target_last_run"),
      run_summary: take("run_summary")
    }
  }
}
