import { Chunk, Effect, Either, Stream } from "effect"
import {
  type DefenderIndicator,
  defenderHoldsPayload,
  DefenderIndicatorType,
  EXTERNAL_ID_PREFIX,
  externalIdOf,
  type ForeignIndicator,
  type IndicatorStateRow,
  IndicatorSink,
  normalizeIndicatorValue,
  type RetryItem,
  type RevokeItem
} from "@tisync/domain"

/** `externalId` of indicators submitted by hand with `tisync submit` (no ThreatConnect record behind them). */
export const MANUAL_EXTERNAL_ID = "tisync:manual"

/** Correlation ids tisync writes: ThreatConnect-sourced (`threatconnect:<id>`) and manual submissions. */
export const carriesOwnExternalId = (indicator: DefenderIndicator): boolean => {
  const id = externalIdOf(indicator)
  return id !== null && (id.startsWith(EXTERNAL_ID_PREFIX) || id === MANUAL_EXTERNAL_ID)
}

const isDefenderType = (t: string): t is DefenderIndicatorType => DefenderIndicatorType.literals.some((l) => l === t)

/** `(type, normalized value)`: the key tisync's rows use, for an indicator Defender lists. */
export const listedKeyOf = (indicator: DefenderIndicator): string => {
  const type = indicator.indicatorType
  if (!isDefenderType(type)) return `${type}\u0000${indicator.indicatorValue}`
  const normalized = normalizeIndicatorValue(type, indicator.indicatorValue)
  return `${type}\u0000${Either.isRight(normalized) ? normalized.right : indicator.indicatorValue.trim()}`
}

export const rowKeyOf = (row: Pick<IndicatorStateRow, "indicatorType" | "value">): string =>
  `${row.indicatorType}\u0000${row.value}`

/** What one list of Defender's indicators means for a target, given what tisync knows. */
export interface DefenderHoldings {
  /** Every listed indicator, by Defender id. */
  readonly listed: ReadonlyArray<DefenderIndicator>
  /** Listed indicators that are tisync's: a row holds their Defender id. */
  readonly ownById: ReadonlyMap<string, DefenderIndicator>
  /**
   * Listed indicators on a key tisync has pending (mapped, unconfirmed) with the same externalId and
   * action: a crash between the import and `IndicatorSubmitted`. They are tisync's own; the planner's
   * retry finishes them (the import is an upsert and returns the same id).
   */
  readonly adopted: ReadonlyArray<{ readonly row: IndicatorStateRow; readonly indicator: DefenderIndicator }>
  /** Everything else: another app's, counted against the quota and never overwritten. */
  readonly foreign: ReadonlyArray<ForeignIndicator>
  /** The part of `foreign` that carries tisync's externalId but matches no row (reconcile reports it). */
  readonly unknownOwn: ReadonlyArray<DefenderIndicator>
  /** Foreign indicators by key, for duplicate checks. */
  readonly foreignByKey: ReadonlyMap<string, ReadonlyArray<DefenderIndicator>>
}

export const classifyHoldings = (
  rows: ReadonlyArray<IndicatorStateRow>,
  listed: ReadonlyArray<DefenderIndicator>
): DefenderHoldings => {
  const ownIds = new Set<string>()
  const pendingByKey = new Map<string, IndicatorStateRow>()
  for (const row of rows) {
    if (row.defenderId !== null) ownIds.add(row.defenderId)
    if (row.pending !== null) pendingByKey.set(rowKeyOf(row), row)
  }
  const ownById = new Map<string, DefenderIndicator>()
  const adopted: Array<{ readonly row: IndicatorStateRow; readonly indicator: DefenderIndicator }> = []
  const foreign: Array<ForeignIndicator> = []
  const unknownOwn: Array<DefenderIndicator> = []
  const foreignByKey = new Map<string, Array<DefenderIndicator>>()
  for (const indicator of listed) {
    if (ownIds.has(indicator.id)) {
      ownById.set(indicator.id, indicator)
      continue
    }
    const key = listedKeyOf(indicator)
    const pending = pendingByKey.get(key)
    const externalId = externalIdOf(indicator)
    if (
      pending?.pending != null &&
      externalId !== null &&
      externalId === (pending.pending.payload.externalId ?? null) &&
      indicator.action === pending.pending.payload.action
    ) {
      ownById.set(indicator.id, indicator)
      adopted.push({ row: pending, indicator })
      continue
    }
    foreign.push({
      indicatorType: indicator.indicatorType,
      value: indicator.indicatorValue,
      action: indicator.action,
      defenderId: indicator.id,
      createdBy: indicator.createdByDisplayName ?? indicator.createdBy ?? indicator.application
    })
    const same = foreignByKey.get(key)
    if (same === undefined) foreignByKey.set(key, [indicator])
    else same.push(indicator)
    if (carriesOwnExternalId(indicator)) unknownOwn.push(indicator)
  }
  return { listed, ownById, adopted, foreign, unknownOwn, foreignByKey }
}

/**
 * Retries Defender has already applied: the listed indicator (by the recorded id, or adopted by key)
 * carries the pending payload exactly, so the import was answered before a crash and only its
 * `IndicatorSubmitted` is missing. Stream id -> Defender id; these are confirmed without a call.
 */
export const retriesAlreadyHeld = (
  retry: ReadonlyArray<RetryItem>,
  holdings: DefenderHoldings
): ReadonlyMap<string, string> => {
  const adoptedByStream = new Map(holdings.adopted.map((a) => [a.row.streamId, a.indicator]))
  const held = new Map<string, string>()
  for (const item of retry) {
    const candidates = [
      item.defenderId === null ? undefined : holdings.ownById.get(item.defenderId),
      adoptedByStream.get(item.streamId)
    ]
    const found = candidates.find((c) => c !== undefined && defenderHoldsPayload(c, item.payload))
    if (found !== undefined) held.set(item.streamId, found.id)
  }
  return held
}

/**
 * Revocations of keys never confirmed (`defenderId` null: mapped, no `IndicatorSubmitted`) that Defender
 * holds anyway: an import answered before a crash. The planner only knows the log; here they get the
 * listed id, so the revocation deletes the indicator instead of only recording it (which would leave
 * it in Defender, unknown to the projections).
 */
export const revokesOfAdopted = (revoke: ReadonlyArray<RevokeItem>, holdings: DefenderHoldings): ReadonlyArray<RevokeItem> => {
  const adoptedByStream = new Map(holdings.adopted.map((a) => [a.row.streamId, a.indicator]))
  return revoke.map((item) => {
    const held = item.defenderId === null ? adoptedByStream.get(item.streamId) : undefined
    return held === undefined ? item : { ...item, defenderId: held.id }
  })
}

/** One pass over Defender's list (paged inside the sink). */
export const listDefender = Effect.flatMap(IndicatorSink, (sink) =>
  Stream.runCollect(sink.list()).pipe(Effect.map(Chunk.toReadonlyArray))
)
