import { Context, type Effect } from "effect"
import type { Checkpoint } from "../store/Checkpoint.js"
import type { CheckpointConflict, EventStoreError } from "../store/StoreErrors.js"
import type { ProjectionKeys } from "./ProjectionFold.js"
import type {
  IndicatorStateRow,
  LastRunRow,
  ProjectionName,
  ProjectionRowTypes,
  QuotaRow,
  RunSummaryRow
} from "./ProjectionRows.js"

/** `live` read models, or the `shadow` copies `replay` rebuilds before comparing or promoting them. */
export type ProjectionSide = "live" | "shadow"

export type ProjectionChanges = { readonly [P in ProjectionName]: ReadonlyArray<readonly [string, ProjectionRowTypes[P]]> }
export type LoadedRows = { readonly [P in ProjectionName]: ReadonlyArray<readonly [string, ProjectionRowTypes[P]]> }

export interface ProjectionComparison {
  readonly name: ProjectionName
  readonly rows: number
  readonly mismatches: number
}

/** Persisted projections with their checkpoint (DESIGN §3, issue 2 item 4). */
export class ProjectionStore extends Context.Tag("@tisync/domain/ProjectionStore")<
  ProjectionStore,
  {
    /** The checkpoint all projections of a side share; null before the first event. */
    readonly checkpoint: (side: ProjectionSide) => Effect.Effect<Checkpoint | null, EventStoreError>
    readonly load: (side: ProjectionSide, keys: ProjectionKeys) => Effect.Effect<LoadedRows, EventStoreError>
    /**
     * Writes changed rows and moves the checkpoint from `expected` to `next` in one transaction; fails with
     * CheckpointConflict (writing nothing) when the stored checkpoint is not `expected`.
     */
    readonly commit: (
      side: ProjectionSide,
      changes: ProjectionChanges,
      expected: Checkpoint | null,
      next: Checkpoint
    ) => Effect.Effect<void, CheckpointConflict | EventStoreError>
    /** Empties the shadow tables and their checkpoint. */
    readonly resetShadow: Effect.Effect<void, EventStoreError>
    /** Compares shadow with live row by row. */
    readonly compare: Effect.Effect<ReadonlyArray<ProjectionComparison>, EventStoreError>
    /** Replaces live with shadow (rows and checkpoint) in one transaction. */
    readonly promoteShadow: Effect.Effect<void, EventStoreError>
    readonly indicators: (query: {
      readonly targetId?: string
      readonly value?: string
      readonly statuses?: ReadonlyArray<string>
    }) => Effect.Effect<ReadonlyArray<IndicatorStateRow>, EventStoreError>
    readonly quota: (targetId: string) => Effect.Effect<QuotaRow | null, EventStoreError>
    readonly lastRun: (targetId: string) => Effect.Effect<LastRunRow | null, EventStoreError>
    readonly runs: (query: {
      readonly targetId?: string
      readonly runId?: string
      readonly limit: number
    }) => Effect.Effect<ReadonlyArray<RunSummaryRow>, EventStoreError>
  }
>() {}
