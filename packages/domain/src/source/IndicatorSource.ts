import { Context, Data } from "effect"
import type { DateTime, Effect, Stream } from "effect"
import type { Policy } from "../Policy.js"
import type { SourceDeletion, SourceIndicator, SourceRecordRejected } from "../SourceIndicator.js"
import type { SourceError } from "./SourceErrors.js"

/** What to read: the indicators the policy selects, modified at or after `since` (null: all of them). */
export interface IndicatorQuery {
  readonly policy: Policy
  readonly since: DateTime.Utc | null
}

/**
 * One element of the indicator stream: a decoded record, or a record that could not be decoded, kept with
 * its raw id and the reason (the stream goes on after it; DESIGN §3 never drops a record silently).
 */
export type SourceItem = Data.TaggedEnum<{
  Indicator: { readonly indicator: SourceIndicator }
  Rejected: { readonly rejection: SourceRecordRejected }
}>
export const SourceItem = Data.taggedEnum<SourceItem>()

/**
 * The ThreatConnect side of the hexagon (DESIGN §4 `IndicatorSource`).
 *
 * - `indicators`: every active record the policy's TQL (see `buildTql`) selects, oldest `lastModified` first,
 *   paged in constant memory. A policy selecting nothing (no owner or no type, and no raw TQL) yields an empty
 *   stream without a request; the caller explains why with `buildTql`.
 * - `deletions`: records deleted since the watermark, and records deactivated since it (ThreatConnect's
 *   default listing only returns active records, so a deactivated one would otherwise just vanish).
 * - `requestCount`: HTTP requests made so far by this instance, retries included (`apiCalls.threatconnect`).
 */
export class IndicatorSource extends Context.Tag("@tisync/domain/IndicatorSource")<IndicatorSource, {
  readonly indicators: (query: IndicatorQuery) => Stream.Stream<SourceItem, SourceError>
  readonly deletions: (since: DateTime.Utc) => Stream.Stream<SourceDeletion, SourceError>
  readonly requestCount: Effect.Effect<number>
}>() {}
