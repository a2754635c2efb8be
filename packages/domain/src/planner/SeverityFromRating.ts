import type { DefenderSeverity } from "../IndicatorAction.js"
import type { Policy } from "../Policy.js"

/**
 * Defender severity from the ThreatConnect Threat Rating (DESIGN §3 "Mapping"): none/0 Informational,
 * 1-2 Low, 3 Medium, 4-5 High.
 *
 * ThreatConnect ratings may be fractional (3.5). A fractional rating falls in the band of its integer
 * part (2.5 Low, 3.5 Medium, 4.5 High): a half skull is not yet the next level. The one exception is a
 * positive rating below 1 (0.5), which is Low: it was rated, so it is not "none".
 */
export const severityFromRating = (rating: number | null): DefenderSeverity => {
  if (rating === null || Number.isNaN(rating) || rating <= 0) return "Informational"
  if (rating < 3) return "Low"
  if (rating < 4) return "Medium"
  return "High"
}

/** `policy.severity`, when set, overrides the rating for every indicator. */
export const severityFor = (policy: Policy, rating: number | null): DefenderSeverity =>
  policy.severity ?? severityFromRating(rating)
