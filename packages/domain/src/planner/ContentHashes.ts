import { canonicalJson } from "../CanonicalJson.js"
import type { DefenderPayload } from "../DefenderPayload.js"
import type { DefenderIndicatorType } from "../IndicatorType.js"
import { sha256Hex } from "../Sha256.js"
import type { SourceIndicator } from "../SourceIndicator.js"
import { attributeValues, LAST_SEEN_ATTRIBUTE, PHASE_OF_INTRUSION_ATTRIBUTE, sortedTags, tlpLabels } from "./IndicatorDescription.js"

/**
 * The payload hash leaves out `expirationTime` (DESIGN §3 "Updates in place"): a renewal is not a
 * content change, so an immediate re-run writes nothing.
 */
export const payloadHashOf = (payload: DefenderPayload): string => sha256Hex(payloadHashText(payload))

/** The payload fields (DefenderPayload), in code-unit order. */
const PAYLOAD_KEYS: ReadonlySet<string> = new Set([
  "action", "application", "description", "educateUrl", "expirationTime", "externalId", "generateAlert",
  "indicatorType", "indicatorValue", "rbacGroupNames", "recommendedActions", "severity", "title"
])

/**
 * `canonicalJson({ ...payload, expirationTime: undefined })`, several times faster: a payload's values
 * are strings, booleans and arrays of strings (no nested object whose keys would need sorting), so
 * native `JSON.stringify` of an object written in sorted key order yields the same text (it drops the
 * undefined ones as canonicalJson does). A payload carrying any other field takes the general path.
 */
export const payloadHashText = (payload: DefenderPayload): string => {
  if (!Object.keys(payload).every((k) => PAYLOAD_KEYS.has(k))) return canonicalJson({ ...payload, expirationTime: undefined })
  return JSON.stringify({
    action: payload.action,
    application: payload.application,
    description: payload.description,
    educateUrl: payload.educateUrl,
    externalId: payload.externalId,
    generateAlert: payload.generateAlert,
    indicatorType: payload.indicatorType,
    indicatorValue: payload.indicatorValue,
    rbacGroupNames: payload.rbacGroupNames,
    recommendedActions: payload.recommendedActions,
    severity: payload.severity,
    title: payload.title
  })
}

/**
 * Hash of the source content that mapping and ranking read for one key: a new `IndicatorSelected` is
 * written only when it changes. `lastModified` is left out on purpose: ThreatConnect moves it for edits
 * tisync does not read (another attribute, an association), and the incremental overlap returns
 * records again; neither is a new selection.
 */
export const contentHashOf = (record: SourceIndicator, indicatorType: DefenderIndicatorType, rawValue: string): string =>
  // A positional array rather than an object: the same content, half the bytes to hash. Its elements
  // are strings, numbers, nulls and arrays of strings, for which `JSON.stringify` writes exactly the
  // text `canonicalJson` would (no object keys to sort), several times faster.
  sha256Hex(
    JSON.stringify([
      1,
      record.id,
      record.ownerId,
      record.ownerName,
      record.type,
      indicatorType,
      rawValue,
      record.rating,
      record.confidence,
      record.threatAssessScore,
      record.falsePositives,
      sortedTags(record),
      tlpLabels(record),
      attributeValues(record, PHASE_OF_INTRUSION_ATTRIBUTE),
      attributeValues(record, LAST_SEEN_ATTRIBUTE)
    ])
  )
