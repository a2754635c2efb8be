import type { Policy } from "../Policy.js"
import type { SourceIndicator } from "../SourceIndicator.js"
import { threatConnectTypeNames } from "./TqlBuilder.js"

/**
 * The policy's filters re-checked on a decoded record (issue 3: "filters that can change without
 * `lastModified` moving are re-checked in the domain"). A record ThreatConnect returned may have stopped
 * matching (a tag removed, the ThreatAssess score recomputed, a false positive reported, an owner or type
 * dropped from the policy); the planner uses this to revoke it.
 *
 * Semantics are those of the TQL `buildTql` emits: filters combine with AND; tags are any-of (compared
 * case-insensitively, as ThreatConnect tag names are); an unset score, rating or confidence fails a minimum;
 * an unset false-positive count counts as 0. A policy with a raw TQL cannot be re-evaluated here (the TQL
 * is ThreatConnect's to interpret), so only activity is checked for it.
 */
export type FilterMismatch =
  | "inactive"
  | "owner"
  | "type"
  | "tags"
  | "threatAssessScore"
  | "rating"
  | "confidence"
  | "falsePositives"

const atLeast = (value: number | null, minimum: number | null): boolean =>
  minimum === null || (value !== null && value >= minimum)

/** Every filter the record fails, in a fixed order; empty when it matches. */
export const policyMismatches = (policy: Policy, record: SourceIndicator): ReadonlyArray<FilterMismatch> => {
  const out: Array<FilterMismatch> = []
  if (!record.active) out.push("inactive")
  if (policy.tql !== null) return out
  if (!policy.owners.includes(record.ownerName)) out.push("owner")
  if (!threatConnectTypeNames(policy.indicatorTypes).includes(record.type)) out.push("type")
  if (policy.tags.length > 0) {
    const wanted = new Set(policy.tags.map((t) => t.toLowerCase()))
    if (!record.tags.some((t) => wanted.has(t.toLowerCase()))) out.push("tags")
  }
  if (!atLeast(record.threatAssessScore, policy.minThreatAssessScore)) out.push("threatAssessScore")
  if (!atLeast(record.rating, policy.minThreatRating)) out.push("rating")
  if (!atLeast(record.confidence, policy.minConfidence)) out.push("confidence")
  if (policy.maxFalsePositives !== null && (record.falsePositives ?? 0) > policy.maxFalsePositives) {
    out.push("falsePositives")
  }
  return out
}

/** Does the record still match the policy? */
export const matchesPolicy = (policy: Policy, record: SourceIndicator): boolean =>
  policyMismatches(policy, record).length === 0
