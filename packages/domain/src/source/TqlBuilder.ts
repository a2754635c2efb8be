import { Data, DateTime } from "effect"
import type { Policy } from "../Policy.js"
import type { PolicyIndicatorType } from "../IndicatorType.js"

/**
 * The TQL query for a policy (reference/threatconnect-api.md §4; DESIGN §3 "Filters").
 *
 * - owners `ownerName IN (...)`, types `typeName IN (...)` (MD5/SHA1/SHA256 all read the File type), tags
 *   `tag IN (...)` (any of), `threatAssessScore >=`, `rating >=`, `confidence >=`, `falsePositiveCount <=`;
 * - a raw `policy.tql` replaces all of those and is parenthesised, so an `OR` inside it cannot escape the
 *   incremental clause (the KB's own tip);
 * - `lastModified >= "YYYY-MM-DDTHH:MM:SSZ"` when a watermark is given: seconds precision, because
 *   milliseconds make TQL fail (§6.2), truncated down so a record of the same second is read again rather
 *   than missed;
 * - clauses joined with `AND`.
 */
export type TqlQuery = Data.TaggedEnum<{
  Query: { readonly tql: string }
  /** The policy selects nothing (no owner or no type without a raw TQL): no request should be made. */
  MatchesNothing: { readonly reason: string }
}>
export const TqlQuery = Data.taggedEnum<TqlQuery>()

/** The documented TQL escape sequences (DOC `v3/filter_results.rst`): `\\`, `\"`, `\'`, `` \` ``. */
export const escapeTqlString = (value: string): string => value.replace(/[\\"'`]/g, (c) => `\\${c}`)

/** A TQL string literal, double-quoted and escaped. */
export const tqlString = (value: string): string => `"${escapeTqlString(value)}"`

/** A TQL number literal (policy minimums are finite by schema). */
export const tqlNumber = (value: number): string => String(value)

/** `YYYY-MM-DDTHH:MM:SSZ`, milliseconds dropped (truncated towards the past). */
export const formatTqlDateTime = (at: DateTime.Utc): string => {
  const epochSeconds = Math.floor(DateTime.toEpochMillis(at) / 1000)
  return DateTime.formatIso(DateTime.unsafeMake(epochSeconds * 1000)).replace(/\.\d{3}Z$/, "Z")
}

/** ThreatConnect type names read for the policy's indicator types, sorted and without repeats. */
export const threatConnectTypeNames = (types: ReadonlyArray<PolicyIndicatorType>): ReadonlyArray<string> => {
  const names = new Set<string>()
  for (const t of types) names.add(t === "MD5" || t === "SHA1" || t === "SHA256" ? "File" : t)
  return [...names].sort()
}

const tqlList = (values: ReadonlyArray<string>): string => `(${values.map(tqlString).join(",")})`

/** The incremental clause alone. */
export const lastModifiedClause = (since: DateTime.Utc): string => `lastModified >= "${formatTqlDateTime(since)}"`

const filterClauses = (policy: Policy): ReadonlyArray<string> | string => {
  if (policy.owners.length === 0) return "no owner selected: set owners (or a raw tql) in the policy"
  const types = threatConnectTypeNames(policy.indicatorTypes)
  if (types.length === 0) return "no indicator type selected: set indicatorTypes (or a raw tql) in the policy"
  const clauses = [`ownerName IN ${tqlList([...new Set(policy.owners)])}`, `typeName IN ${tqlList(types)}`]
  if (policy.tags.length > 0) clauses.push(`tag IN ${tqlList([...new Set(policy.tags)])}`)
  if (policy.minThreatAssessScore !== null) clauses.push(`threatAssessScore >= ${tqlNumber(policy.minThreatAssessScore)}`)
  if (policy.minThreatRating !== null) clauses.push(`rating >= ${tqlNumber(policy.minThreatRating)}`)
  if (policy.minConfidence !== null) clauses.push(`confidence >= ${tqlNumber(policy.minConfidence)}`)
  if (policy.maxFalsePositives !== null) clauses.push(`falsePositiveCount <= ${tqlNumber(policy.maxFalsePositives)}`)
  return clauses
}

/** Pure: the same policy and watermark always give the same query. */
export const buildTql = (policy: Policy, since: DateTime.Utc | null): TqlQuery => {
  const selection = policy.tql !== null ? [`(${policy.tql})`] : filterClauses(policy)
  if (typeof selection === "string") return TqlQuery.MatchesNothing({ reason: selection })
  const clauses = since === null ? selection : [...selection, lastModifiedClause(since)]
  return TqlQuery.Query({ tql: clauses.join(" AND ") })
}
