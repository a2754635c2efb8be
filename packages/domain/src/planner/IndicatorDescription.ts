import type { SourceIndicator } from "../SourceIndicator.js"
import { compareText } from "./Ranking.js"

/**
 * The seed's description format (DESIGN §3 "Mapping"), exactly:
 * `ThreatConnect <Indicator type> | Owner: <owner name> | Id: <owner ID>`, then ` | Key: value` segments
 * for the fields Defender has no field for, only when present, in this order: Confidence, Tags, TLP
 * (security label), Phase of Intrusion (attribute), False positives, Last Seen (attribute).
 *
 * Lists (tags, labels, attribute values) are trimmed, de-duplicated and sorted so that the same record
 * always yields the same text (ThreatConnect does not promise an order). A false-positive count of 0
 * is "not present": it says nothing an analyst can use.
 */
export const PHASE_OF_INTRUSION_ATTRIBUTE = "Phase of Intrusion"
export const LAST_SEEN_ATTRIBUTE = "Last Seen"

const sortedDistinct = (values: ReadonlyArray<string>): ReadonlyArray<string> =>
  [...new Set(values.map((v) => v.trim()).filter((v) => v.length > 0))].sort(compareText)

/** Values of the attributes of one type (attribute type names compared case-insensitively). */
export const attributeValues = (record: SourceIndicator, type: string): ReadonlyArray<string> =>
  sortedDistinct(record.attributes.filter((a) => a.type.trim().toLowerCase() === type.toLowerCase()).map((a) => a.value))

/** `TLP:AMBER` -> `AMBER` (the segment is already called TLP); other labels are kept as they are. */
export const tlpLabels = (record: SourceIndicator): ReadonlyArray<string> =>
  sortedDistinct(record.securityLabels.map((l) => l.trim().replace(/^TLP\s*:\s*/i, "")))

export const sortedTags = (record: SourceIndicator): ReadonlyArray<string> => sortedDistinct(record.tags)

const formatNumber = (n: number): string => (Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100))

export const indicatorDescription = (record: SourceIndicator): string => {
  const segments: Array<string> = [
    `ThreatConnect ${record.type}`,
    `Owner: ${record.ownerName}`,
    `Id: ${record.ownerId}`
  ]
  const add = (key: string, value: string | null): void => {
    if (value !== null && value.length > 0) segments.push(`${key}: ${value}`)
  }
  add("Confidence", record.confidence === null || Number.isNaN(record.confidence) ? null : formatNumber(record.confidence))
  add("Tags", sortedTags(record).join(", "))
  add("TLP", tlpLabels(record).join(", "))
  add("Phase of Intrusion", attributeValues(record, PHASE_OF_INTRUSION_ATTRIBUTE).join(", "))
  add(
    "False positives",
    record.falsePositives === null || !(record.falsePositives > 0) ? null : formatNumber(record.falsePositives)
  )
  add("Last Seen", attributeValues(record, LAST_SEEN_ATTRIBUTE).join(", "))
  return segments.join(" | ")
}
