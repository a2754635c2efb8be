import { DateTime, Order } from "effect"
import type { Rank } from "../Events.js"
import type { RankRow } from "../projections/ProjectionRows.js"
import type { SourceIndicator } from "../SourceIndicator.js"

/**
 * The quota order of DESIGN §3 "Quota": (ThreatAssess score, threat rating, confidence, last modified)
 * descending, an unset (or NaN) figure below every set one, ties broken by key (type, then value)
 * ascending. Comparators return a negative number when `a` ranks higher (comes first).
 */
export interface RankedKey {
  readonly rank: Rank
  readonly key: { readonly indicatorType: string; readonly value: string }
}

const known = (n: number | null): n is number => n !== null && !Number.isNaN(n)

/** Higher first; an unset figure is the lowest. */
const descendingNullLast = (a: number | null, b: number | null): number => {
  if (!known(a)) return known(b) ? 1 : 0
  if (!known(b)) return -1
  return a > b ? -1 : a < b ? 1 : 0
}

/** Code-unit order: independent of the locale, so the same on every machine. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Ranks alone: negative when `a` is the better candidate. */
export const compareRanks = (a: Rank, b: Rank): number =>
  descendingNullLast(a.threatAssessScore, b.threatAssessScore) ||
  descendingNullLast(a.rating, b.rating) ||
  descendingNullLast(a.confidence, b.confidence) ||
  descendingNullLast(DateTime.toEpochMillis(a.lastModified), DateTime.toEpochMillis(b.lastModified))

/** Keys ascending: indicator type, then value. */
export const compareKeys = (a: RankedKey["key"], b: RankedKey["key"]): number =>
  compareText(a.indicatorType, b.indicatorType) || compareText(a.value, b.value)

/** The total order the planner keeps the top `capacity` of. */
export const compareRankedKeys = (a: RankedKey, b: RankedKey): number =>
  compareRanks(a.rank, b.rank) || compareKeys(a.key, b.key)

/** The same order as an effect `Order` (ascending = best first). */
export const RankedKeyOrder: Order.Order<RankedKey> = (a, b) => {
  const c = compareRankedKeys(a, b)
  return c < 0 ? -1 : c > 0 ? 1 : 0
}

/**
 * Compares ThreatConnect ids (int64 decimal strings) as integers without going through a float:
 * ids above 2^53 keep their order.
 */
const stripLeadingZeros = (digits: string): string =>
  digits.length > 1 && digits.startsWith("0") ? digits.replace(/^0+(?=\d)/, "") : digits

export const compareIntegerStrings = (a: string, b: string): number => {
  const negA = a.startsWith("-")
  const negB = b.startsWith("-")
  if (negA !== negB) return negA ? -1 : 1
  const da = stripLeadingZeros(negA ? a.slice(1) : a)
  const db = stripLeadingZeros(negB ? b.slice(1) : b)
  const magnitude = da.length !== db.length ? da.length - db.length : compareText(da, db)
  return negA ? -magnitude : magnitude
}

export const rankOfRecord = (record: SourceIndicator): Rank => ({
  threatAssessScore: record.threatAssessScore,
  rating: record.rating,
  confidence: record.confidence,
  lastModified: record.lastModified
})

/** The lowest possible rank: a key tisync knows nothing about ranks below every record. */
export const LOWEST_RANK: Rank = {
  threatAssessScore: null,
  rating: null,
  confidence: null,
  lastModified: DateTime.unsafeMake(0)
}

export const rankOfRow = (row: RankRow | null): Rank => {
  if (row === null) return LOWEST_RANK
  const lastModified = DateTime.make(row.lastModified)
  return {
    threatAssessScore: row.threatAssessScore,
    rating: row.rating,
    confidence: row.confidence,
    lastModified: lastModified._tag === "Some" ? DateTime.toUtc(lastModified.value) : LOWEST_RANK.lastModified
  }
}
