import type { DateTime } from "effect"
import type { DefenderPayload } from "../DefenderPayload.js"
import type { Rank, RevokeReason, RunMode } from "../Events.js"
import type { StreamId, TargetId } from "../Identifiers.js"
import type { DefenderAction } from "../IndicatorAction.js"
import type { IndicatorKey } from "../IndicatorKey.js"
import type { Policy } from "../Policy.js"
import type { IndicatorStateRow, IndicatorStatus } from "../projections/ProjectionRows.js"
import type { QuotaFigures } from "../RunCounts.js"
import type { SourceDeletion, SourceIndicator } from "../SourceIndicator.js"
import type { SourceRef } from "../SourceRef.js"

/** An indicator Defender holds that tisync did not create (seen by a list call). */
export interface ForeignIndicator {
  /** Defender's type name; other apps may hold types tisync never sends (`CertificateThumbprint`). */
  readonly indicatorType: string
  readonly value: string
  readonly action: string | null
  readonly defenderId: string
  readonly createdBy: string | null
}

export interface PlanInput {
  readonly targetId: TargetId
  readonly mode: RunMode
  /** Records the source returned this run; may include records that no longer match and inactive ones. */
  readonly candidates: ReadonlyArray<SourceIndicator>
  readonly deletions: ReadonlyArray<SourceDeletion>
  /** Every known key of the target (the indicator_state projection). */
  readonly current: ReadonlyArray<IndicatorStateRow>
  /** Indicators in Defender not created by tisync; empty when unknown. */
  readonly foreign: ReadonlyArray<ForeignIndicator>
  readonly policy: Policy
  readonly now: DateTime.Utc
}

/**
 * Every item names its key, its stream and the stream version in `current` (0 for a new key): the
 * expected version of the first append of this run to that stream.
 */
export interface PlanItemBase {
  readonly key: IndicatorKey
  readonly streamId: StreamId
  readonly expectedVersion: number
}

/** Record `IndicatorSelected`: a new key, or the content (or the record) behind it changed. */
export interface SelectItem extends PlanItemBase {
  readonly source: SourceRef
  readonly sourceLastModified: DateTime.Utc
  readonly rank: Rank
  readonly contentHash: string
}

export type SubmitIntent = "create" | "update" | "renew"

/** A payload to send (import is an upsert): `IndicatorMapped` before the call, `IndicatorSubmitted` after. */
export interface SubmitItem extends PlanItemBase {
  readonly intent: SubmitIntent
  /** The full body, `expirationTime` included. */
  readonly payload: DefenderPayload
  readonly payloadHash: string
  readonly source: SourceRef | null
  readonly rank: Rank
  /** The id Defender gave the indicator (update, renew), null for a create. */
  readonly defenderId: string | null
  /**
   * Set on the create that follows an action change: Defender treats value+type+action as identity, so
   * the old indicator is deleted first (a `revoke` item with reason `action-changed` on the same
   * stream) and this `IndicatorMapped` is appended together with that `IndicatorRevoked`.
   */
  readonly replaces: { readonly defenderId: string | null; readonly action: DefenderAction | null } | null
}

/** Mapped in an earlier run and never confirmed (a crash): send the pending payload again. */
export interface RetryItem extends PlanItemBase {
  readonly intent: SubmitIntent
  readonly payload: DefenderPayload
  readonly payloadHash: string
  readonly defenderId: string | null
  /** The run that mapped it. */
  readonly mappedInRun: string | null
}

/** Remove from Defender. `defenderId` null: nothing to delete (never sent), only the event is written. */
export interface RevokeItem extends PlanItemBase {
  readonly reason: RevokeReason
  readonly defenderId: string | null
  readonly action: DefenderAction | null
  /** Why, in words, for logs and the plan printout. */
  readonly detail: string
}

/** Invalid for Defender, found locally (`IndicatorRejected`, origin local). */
export interface RejectItem extends PlanItemBase {
  readonly source: SourceRef | null
  readonly reasonCode: string
  readonly reason: string
}

/** `IndicatorRejectedDuplicate`: another record won the key, or another app holds it in Defender. */
export interface DuplicateItem extends PlanItemBase {
  /** The losing record (`claimedBy: "source"`), or the record tisync would have sent (`"defender"`). */
  readonly source: SourceRef | null
  readonly claimedBy: "source" | "defender"
  readonly holder: string
  readonly reason: string
}

/** Valid but over capacity (`IndicatorDeferred`). */
export interface DeferItem extends PlanItemBase {
  readonly source: SourceRef | null
  readonly rank: Rank
  readonly capacity: number
  readonly reason: string
}

/** Its expiration passed: Defender has dropped it (`IndicatorExpired`, no call). */
export interface ExpireItem extends PlanItemBase {
  readonly defenderId: string | null
  readonly expiredAt: DateTime.Utc
}

/** A key the run looked at that needs no event and no call. */
export interface UnchangedItem extends PlanItemBase {
  readonly status: IndicatorStatus
}

export interface Plan {
  readonly targetId: TargetId
  readonly mode: RunMode
  readonly selected: ReadonlyArray<SelectItem>
  readonly create: ReadonlyArray<SubmitItem>
  readonly update: ReadonlyArray<SubmitItem>
  readonly renew: ReadonlyArray<SubmitItem>
  readonly revoke: ReadonlyArray<RevokeItem>
  readonly reject: ReadonlyArray<RejectItem>
  readonly duplicate: ReadonlyArray<DuplicateItem>
  readonly defer: ReadonlyArray<DeferItem>
  readonly expire: ReadonlyArray<ExpireItem>
  readonly retry: ReadonlyArray<RetryItem>
  readonly unchanged: ReadonlyArray<UnchangedItem>
  /** Why something was not done (nothing selected, reserve above the limit, unsupported types...). */
  readonly notes: ReadonlyArray<string>
  /** `live` is what tisync will hold in Defender once the plan is carried out. */
  readonly quota: QuotaFigures
}
