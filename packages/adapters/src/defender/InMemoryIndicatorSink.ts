import {
  type BatchDeleteResult,
  BATCH_DELETE_LIMIT,
  DEFENDER_INDICATOR_LIMIT,
  type DefenderIndicator,
  type DefenderPayload,
  DefenderValidation,
  DefenderQuotaExceeded,
  IMPORT_BATCH_LIMIT,
  IndicatorSink,
  type ListOptions,
  matchImportResults,
  type SinkCallCounts,
  type SinkEndpoint
} from "@tisync/domain"
import { Effect, Layer, Stream } from "effect"
import { compileFilter } from "./simulator/ODataFilter.js"
import { isRejection, validateIndicatorBody } from "./simulator/SimulatorValueRules.js"

export interface InMemorySinkOptions {
  /** Tenant cap (default 15,000). */
  readonly cap?: number
  /** Indicators another application created (they count against the cap and are listed). */
  readonly foreign?: ReadonlyArray<DefenderPayload>
  /** The app id recorded as createdBy for this sink's own indicators. */
  readonly appId?: string
}

/**
 * An honest in-memory IndicatorSink: Defender's per-item validation (the simulator's rules), upsert on
 * (value, type, action), the tenant cap, 404 semantics of delete and BatchDelete, `$filter` subset, and
 * call counts (one per operation, as the API would count requests without retries).
 */
/** Test controls of the in-memory sink. */
export interface InMemorySinkControls {
  readonly reset: () => void
  readonly setCap: (cap: number) => void
  readonly seedForeign: (payloads: ReadonlyArray<DefenderPayload>) => void
  readonly size: () => number
}

export const makeInMemoryIndicatorSink = (options: InMemorySinkOptions = {}): Effect.Effect<IndicatorSink["Type"]> =>
  Effect.map(makeInMemoryIndicatorSinkWithControls(options), (r) => r.sink)

export const makeInMemoryIndicatorSinkWithControls = (
  options: InMemorySinkOptions = {}
): Effect.Effect<{ readonly sink: IndicatorSink["Type"]; readonly controls: InMemorySinkControls }> =>
  Effect.sync(() => {
    let cap = options.cap ?? DEFENDER_INDICATOR_LIMIT
    const appId = options.appId ?? "in-memory-app"
    const store = new Map<string, DefenderIndicator>()
    const counts: Record<SinkEndpoint, number> = { import: 0, submit: 0, list: 0, delete: 0, batchDelete: 0 }
    let nextId = 1
    const key = (p: { indicatorType: string; indicatorValue: string; action: string | null }) =>
      `${p.indicatorType}|${p.indicatorValue.toLowerCase()}|${p.action ?? ""}`
    const now = () => new Date().toISOString()
    const purge = () => {
      const t = Date.now()
      for (const [k, i] of store) if (i.expirationTime !== null && Date.parse(i.expirationTime) <= t) store.delete(k)
    }

    /** Upserts one payload; a string is the failure reason. */
    const upsert = (payload: DefenderPayload, createdBy: string): DefenderIndicator | { readonly reason: string; readonly quota: boolean } => {
      const v = validateIndicatorBody(payload)
      if (isRejection(v)) return { reason: `${v.code}: ${v.message}`, quota: false }
      const k = key(v)
      const existing = store.get(k)
      if (existing === undefined && store.size >= cap) {
        return { reason: `Tenant reached the maximum allowed number of active indicators (${cap}).`, quota: true }
      }
      const indicator: DefenderIndicator = {
        id: existing?.id ?? String(nextId++),
        indicatorValue: v.indicatorValue,
        indicatorType: v.indicatorType,
        action: v.action,
        severity: v.severity,
        title: v.title,
        description: v.description,
        recommendedActions: v.recommendedActions,
        application: existing?.application ?? v.application,
        createdBy: existing?.createdBy ?? createdBy,
        createdBySource: "PublicApi",
        createdByDisplayName: null,
        creationTimeDateTimeUtc: existing?.creationTimeDateTimeUtc ?? now(),
        expirationTime: v.expirationTime,
        lastUpdateTime: now(),
        lastUpdatedBy: createdBy,
        externalId: v.externalId,
        externalID: null,
        generateAlert: v.generateAlert,
        rbacGroupNames: v.rbacGroupNames,
        category: 1
      }
      store.set(k, indicator)
      return indicator
    }
    for (const f of options.foreign ?? []) upsert(f, "foreign-app")

    const findKey = (id: string): string | undefined => {
      for (const [k, i] of store) if (i.id === id) return k
      return undefined
    }
    const tooMany = (endpoint: SinkEndpoint, n: number, limit: number) =>
      new DefenderValidation({ endpoint, status: 0, code: "MaximumBatchSizeExceeded", serverMessage: `Received: ${n}, allowed: ${limit}.`, correlationId: null })

    const controls: InMemorySinkControls = {
      reset: () => {
        store.clear()
        counts.import = 0
        counts.submit = 0
        counts.list = 0
        counts.delete = 0
        counts.batchDelete = 0
      },
      setCap: (c) => {
        cap = c
      },
      seedForeign: (payloads) => {
        for (const f of payloads) upsert(f, "foreign-app")
      },
      size: () => store.size
    }

    const sink = IndicatorSink.of({
      importBatch: (payloads) =>
        Effect.suspend(() => {
          if (payloads.length === 0) return Effect.succeed([])
          if (payloads.length > IMPORT_BATCH_LIMIT) return Effect.fail(tooMany("import", payloads.length, IMPORT_BATCH_LIMIT))
          counts.import++
          purge()
          const items = payloads.map((p) => {
            const r = upsert(p, appId)
            return "reason" in r
              ? { id: null, indicator: p.indicatorValue, isFailed: true, failureReason: r.reason }
              : { id: r.id, indicator: p.indicatorValue, isFailed: false, failureReason: null }
          })
          return Effect.succeed(matchImportResults(payloads, items))
        }),
      submit: (payload) =>
        Effect.suspend(() => {
          counts.submit++
          purge()
          const r = upsert(payload, appId)
          if (!("reason" in r)) return Effect.succeed(r)
          const fields = { endpoint: "submit" as const, status: 400, code: r.quota ? "BadRequest" : r.reason.split(":")[0] ?? "InvalidInput", serverMessage: r.reason, correlationId: null }
          return Effect.fail(r.quota ? new DefenderQuotaExceeded({ ...fields, limit: cap }) : new DefenderValidation(fields))
        }),
      list: (options?: ListOptions) =>
        Stream.unwrap(
          Effect.suspend(() => {
            purge()
            const filter = options?.filter
            const pred = filter === undefined ? () => true : compileFilter(filter)
            if (pred === null) {
              counts.list++
              return Effect.fail(new DefenderValidation({ endpoint: "list", status: 400, code: "ODataError", serverMessage: `unsupported $filter ${filter ?? ""}`, correlationId: null }))
            }
            const all = [...store.values()].sort((a, b) => Number(a.id) - Number(b.id)).filter((i) => pred({ ...i }))
            const top = Math.max(1, Math.min(10_000, options?.pageSize ?? 10_000))
            // As many "requests" as pages the adapter would fetch (a last short or empty page ends it).
            counts.list += Math.floor(all.length / top) + 1
            return Effect.succeed(Stream.fromIterable(all))
          })
        ),
      deleteOne: (id) =>
        Effect.sync(() => {
          counts.delete++
          purge()
          const k = findKey(id)
          if (k === undefined) return "AlreadyGone" as const
          store.delete(k)
          return "Deleted" as const
        }),
      batchDelete: (ids) =>
        Effect.suspend(() => {
          const unique = [...new Set(ids)]
          if (unique.length === 0) return Effect.succeed<BatchDeleteResult>({ deleted: [], alreadyGone: [] })
          if (unique.length > BATCH_DELETE_LIMIT) return Effect.fail(tooMany("batchDelete", unique.length, BATCH_DELETE_LIMIT))
          counts.batchDelete++
          purge()
          const deleted: Array<string> = []
          const alreadyGone: Array<string> = []
          for (const id of unique) {
            const k = findKey(id)
            if (k === undefined) alreadyGone.push(id)
            else {
              store.delete(k)
              deleted.push(id)
            }
          }
          return Effect.succeed<BatchDeleteResult>({ deleted, alreadyGone })
        }),
      callCounts: Effect.sync((): SinkCallCounts => ({ ...counts }))
    })
    return { sink, controls }
  })

export const InMemoryIndicatorSinkLive = (options: InMemorySinkOptions = {}): Layer.Layer<IndicatorSink> =>
  Layer.effect(IndicatorSink, makeInMemoryIndicatorSink(options))
