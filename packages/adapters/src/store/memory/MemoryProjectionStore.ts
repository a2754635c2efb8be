import { Effect, Layer, Schema } from "effect"
import {
  type Checkpoint,
  CheckpointConflict,
  compareCheckpoints,
  IndicatorStateRow,
  LastRunRow,
  PROJECTION_NAMES,
  type ProjectionChanges,
  type ProjectionComparison,
  type ProjectionKeys,
  type ProjectionName,
  type ProjectionRowTypes,
  type ProjectionSide,
  ProjectionStore,
  QuotaRow,
  RunSummaryRow
} from "@tisync/domain"

type Tables = { [P in ProjectionName]: Map<string, string> }

interface Side {
  tables: Tables
  checkpoint: Checkpoint | null
}

/** The fake's state; rows are kept as JSON text, as the jsonb columns are. */
export interface MemoryProjectionState {
  readonly live: Side
  readonly shadow: Side
}

const emptyTables = (): Tables => ({
  indicator_state: new Map(),
  target_quota: new Map(),
  target_last_run: new Map(),
  run_summary: new Map()
})

export const emptyMemoryProjectionState = (): MemoryProjectionState => ({
  live: { tables: emptyTables(), checkpoint: null },
  shadow: { tables: emptyTables(), checkpoint: null }
})

const sameCheckpoint = (a: Checkpoint | null, b: Checkpoint | null): boolean =>
  a === null || b === null ? a === b : compareCheckpoints(a, b) === 0

const schemas = {
  indicator_state: IndicatorStateRow,
  target_quota: QuotaRow,
  target_last_run: LastRunRow,
  run_summary: RunSummaryRow
}

/** Equality as jsonb compares: the same JSON value whatever the key order. */
const canonical = (json: string): string => JSON.stringify(sortKeys(JSON.parse(json)))
const sortKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sortKeys)
    : typeof v === "object" && v !== null
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)]))
      : v

export const makeMemoryProjectionStore = (state: MemoryProjectionState) => {
  // Rows are decoded on the way out, as the SQL store decodes its jsonb.
  const parseAll = <A, I>(
    schema: Schema.Schema<A, I>,
    map: Map<string, string>,
    keys: Iterable<string>
  ): ReadonlyArray<readonly [string, A]> => {
    const decode = Schema.decodeUnknownSync(Schema.parseJson(schema))
    const out: Array<readonly [string, A]> = []
    for (const key of keys) {
      const json = map.get(key)
      if (json !== undefined) out.push([key, decode(json)])
    }
    return out
  }
  const loadOne = <P extends ProjectionName, A extends ProjectionRowTypes[P], I>(
    side: ProjectionSide,
    name: P,
    schema: Schema.Schema<A, I>,
    keys: ProjectionKeys
  ) => parseAll(schema, state[side].tables[name], keys[name])
  const rowsOf = <A, I>(schema: Schema.Schema<A, I>, map: Map<string, string>): ReadonlyArray<A> =>
    parseAll(schema, map, map.keys()).map(([, row]) => row)

  return ProjectionStore.of({
    checkpoint: (side) => Effect.sync(() => state[side].checkpoint),
    load: (side, keys: ProjectionKeys) =>
      Effect.sync(() => ({
        indicator_state: loadOne(side, "indicator_state", schemas.indicator_state, keys),
        target_quota: loadOne(side, "target_quota", schemas.target_quota, keys),
        target_last_run: loadOne(side, "target_last_run", schemas.target_last_run, keys),
        run_summary: loadOne(side, "run_summary", schemas.run_summary, keys)
      })),
    commit: (side, changes: ProjectionChanges, expected, next) =>
      Effect.suspend(() => {
        if (!sameCheckpoint(state[side].checkpoint, expected)) {
          return Effect.fail(new CheckpointConflict({ projection: side }))
        }
        for (const name of PROJECTION_NAMES) {
          for (const [key, row] of changes[name]) state[side].tables[name].set(key, JSON.stringify(row))
        }
        state[side].checkpoint = next
        return Effect.void
      }),
    resetShadow: Effect.sync(() => {
      state.shadow.tables = emptyTables()
      state.shadow.checkpoint = null
    }),
    compare: Effect.sync(() =>
      PROJECTION_NAMES.map((name): ProjectionComparison => {
        const live = state.live.tables[name]
        const shadow = state.shadow.tables[name]
        let mismatches = 0
        for (const key of new Set([...live.keys(), ...shadow.keys()])) {
          const a = live.get(key)
          const b = shadow.get(key)
          if (a === undefined || b === undefined || canonical(a) !== canonical(b)) mismatches++
        }
        return { name, rows: shadow.size, mismatches }
      })
    ),
    promoteShadow: Effect.sync(() => {
      state.live.tables = emptyTables()
      for (const name of PROJECTION_NAMES) {
        for (const [k, v] of state.shadow.tables[name]) state.live.tables[name].set(k, v)
      }
      state.live.checkpoint = state.shadow.checkpoint
    }),
    indicators: (query) =>
      Effect.sync(() =>
        rowsOf(IndicatorStateRow, state.live.tables.indicator_state)
          .filter(
            (r) =>
              (query.targetId === undefined || r.targetId === query.targetId) &&
              (query.value === undefined || r.value === query.value) &&
              (query.statuses === undefined || query.statuses.includes(r.status))
          )
          .sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0))
      ),
    quota: (targetId) =>
      Effect.sync(() => parseAll(QuotaRow, state.live.tables.target_quota, [targetId])[0]?.[1] ?? null),
    lastRun: (targetId) =>
      Effect.sync(() => parseAll(LastRunRow, state.live.tables.target_last_run, [targetId])[0]?.[1] ?? null),
    runs: (query) =>
      Effect.sync(() =>
        rowsOf(RunSummaryRow, state.live.tables.run_summary)
          .filter(
            (r) =>
              (query.targetId === undefined || r.targetId === query.targetId) &&
              (query.runId === undefined || r.runId === query.runId)
          )
          .sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0))
          .slice(0, query.limit)
      )
  })
}

export const MemoryProjectionStoreLive = (
  state: MemoryProjectionState = emptyMemoryProjectionState()
): Layer.Layer<ProjectionStore> => Layer.sync(ProjectionStore, () => makeMemoryProjectionStore(state))
