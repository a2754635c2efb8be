import { Context, Data } from "effect"
import type { Effect, Stream } from "effect"
import type { DefenderPayload } from "../DefenderPayload.js"
import type { DefenderAction } from "../IndicatorAction.js"
import type { DefenderIndicatorType } from "../IndicatorType.js"
import type { DefenderIndicator } from "./DefenderIndicator.js"
import { isQuotaExceededMessage, type SinkEndpoint, type SinkError } from "./DefenderErrors.js"

/** Defender's batch sizes (reference/defender-api.md §2.2, §2.5) and list page size (§2.3). */
export const IMPORT_BATCH_LIMIT = 500
export const BATCH_DELETE_LIMIT = 500
export const LIST_PAGE_LIMIT = 10_000

/**
 * The per-item result of `importBatch`, in request order, for the payload's (value, type, action).
 * Defender's response carries only the value (`indicator`), so items are matched on the value — the
 * k-th request item with a value gets the k-th response item with it — never on position alone.
 */
export type ImportOutcome = Data.TaggedEnum<{
  Imported: {
    readonly indicatorValue: string
    readonly indicatorType: DefenderIndicatorType
    readonly action: DefenderAction
    readonly id: string
  }
  Failed: {
    readonly indicatorValue: string
    readonly indicatorType: DefenderIndicatorType
    readonly action: DefenderAction
    /** Defender's `failureReason`, or why tisync could not match the item. */
    readonly reason: string
    /** The tenant cap refused it (defer it, do not reject it as invalid). */
    readonly quotaExceeded: boolean
  }
}>
export const ImportOutcome = Data.taggedEnum<ImportOutcome>()

/** `deleteOne`: a 404 means someone (expiry, a person in the portal) removed it already. */
export type DeleteOutcome = "Deleted" | "AlreadyGone"

/** `batchDelete`: every id ends up gone; the ones Defender did not know are reported apart. */
export interface BatchDeleteResult {
  readonly deleted: ReadonlyArray<string>
  readonly alreadyGone: ReadonlyArray<string>
}

export interface ListOptions {
  /** An OData `$filter`, e.g. `indicatorType eq 'IpAddress'`. */
  readonly filter?: string
  /** `$top` per page, 1-10,000 (default 10,000). */
  readonly pageSize?: number
}

/** HTTP requests made by this sink so far, by endpoint, retries included (`apiCalls` of `sync --json`). */
export type SinkCallCounts = Readonly<Record<SinkEndpoint, number>>

export const emptySinkCallCounts: SinkCallCounts = { import: 0, submit: 0, list: 0, delete: 0, batchDelete: 0 }

/**
 * The Defender side of the hexagon (DESIGN §4 `IndicatorSink`).
 *
 * - `importBatch`: upsert up to 500 payloads in one call (more is a `DefenderValidation`
 *   `MaximumBatchSizeExceeded` before any request); per-item outcomes, matched by value and type.
 * - `submit`: upsert one payload; the indicator as Defender now holds it.
 * - `list`: every indicator visible to the app, paged (`$top`/`$skip`, `@odata.nextLink` on the same host).
 * - `deleteOne`: `AlreadyGone` on 404, not an error.
 * - `batchDelete`: up to 500 ids; a 404 for some of them does not lose the others (the batch is split
 *   until each missing id is isolated).
 * - `callCounts`: requests made so far, by endpoint.
 *
 * Rate limits, retries and token renewal happen inside; the errors are what is left after them.
 */
export class IndicatorSink extends Context.Tag("@tisync/domain/IndicatorSink")<IndicatorSink, {
  readonly importBatch: (payloads: ReadonlyArray<DefenderPayload>) => Effect.Effect<ReadonlyArray<ImportOutcome>, SinkError>
  readonly submit: (payload: DefenderPayload) => Effect.Effect<DefenderIndicator, SinkError>
  readonly list: (options?: ListOptions) => Stream.Stream<DefenderIndicator, SinkError>
  readonly deleteOne: (id: string) => Effect.Effect<DeleteOutcome, SinkError>
  readonly batchDelete: (ids: ReadonlyArray<string>) => Effect.Effect<BatchDeleteResult, SinkError>
  readonly callCounts: Effect.Effect<SinkCallCounts>
}>() {}

/**
 * Matches Defender's import items to the request (shared by the adapter and the fake): the k-th
 * payload with a value gets the k-th response item with that value; a payload without a partner is a
 * failure ("missing from Defender's response").
 */
export const matchImportResults = (
  payloads: ReadonlyArray<DefenderPayload>,
  items: ReadonlyArray<{ readonly id: string | null; readonly indicator: string; readonly isFailed: boolean; readonly failureReason: string | null }>
): ReadonlyArray<ImportOutcome> => {
  const byValue = new Map<string, Array<(typeof items)[number]>>()
  for (const item of items) {
    // Defender may echo the value in another case (hashes, domains): match case-insensitively.
    const key = item.indicator.toLowerCase()
    const queue = byValue.get(key)
    if (queue === undefined) byValue.set(key, [item])
    else queue.push(item)
  }
  return payloads.map((p) => {
    const base = { indicatorValue: p.indicatorValue, indicatorType: p.indicatorType, action: p.action }
    const item = byValue.get(p.indicatorValue.toLowerCase())?.shift()
    if (item === undefined) {
      return ImportOutcome.Failed({ ...base, reason: "missing from Defender's import response", quotaExceeded: false })
    }
    if (item.isFailed || item.id === null) {
      const reason = item.failureReason ?? "failed without a reason"
      return ImportOutcome.Failed({ ...base, reason, quotaExceeded: isQuotaExceededMessage(reason) })
    }
    return ImportOutcome.Imported({ ...base, id: item.id })
  })
}
