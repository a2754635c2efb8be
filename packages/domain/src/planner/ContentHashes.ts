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
export const payloadHashOf = (payload: DefenderPayload): string =>
  sha256Hex(canonicalJson({ ...payload, expirationTime: undefined }))

/**
 * Hash of the source content that mapping and ranking read for one key: a new `IndicatorSelected` is
 * written only when it changes. `lastModified` is left out on purpose: ThreatConnect moves it for edits
 * tisync does not read (another attribute, an association), and the incremental overlap returns
 * records again; neither is a new selection.
 */
export const contentHashOf = (record: SourceIndicator, indicatorType: DefenderIndicatorType, rawValue: string): string =>
  // A positional array rather than an object: the same content, half the bytes to hash.
  sha256Hex(
    canonicalJson([
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
