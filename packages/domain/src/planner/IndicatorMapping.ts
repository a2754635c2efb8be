import { DateTime, Either } from "effect"
import type { DefenderPayload } from "../DefenderPayload.js"
import { buildDefenderPayload } from "../defender/DefenderPayloadBuilder.js"
import { normalizeIndicatorValue } from "../defender/IndicatorValueRules.js"
import type { Rank } from "../Events.js"
import type { StreamId, TargetId } from "../Identifiers.js"
import type { DefenderAction, PolicyAction } from "../IndicatorAction.js"
import { type IndicatorKey, indicatorStreamId } from "../IndicatorKey.js"
import { type DefenderIndicatorType, isFileIndicatorType, type PolicyIndicatorType } from "../IndicatorType.js"
import type { Policy } from "../Policy.js"
import type { FileHashes, SourceIndicator } from "../SourceIndicator.js"
import type { SourceRef } from "../SourceRef.js"
import { contentHashOf, payloadHashOf } from "./ContentHashes.js"
import { indicatorDescription } from "./IndicatorDescription.js"
import { rankOfRecord } from "./Ranking.js"
import { severityFor } from "./SeverityFromRating.js"

/**
 * Mapping of DESIGN §3: one ThreatConnect record -> the Defender keys it yields, each with the payload
 * tisync wants Defender to hold, or the local reason it cannot be sent.
 *
 * Address -> IpAddress, Host -> DomainName, URL -> Url, File -> up to three keys (FileMd5, FileSha1,
 * FileSha256). Other ThreatConnect types (EmailAddress, ASN, ...) have no Defender type: the record
 * yields no key and the plan notes it.
 */
export type MappingOutcome =
  | { readonly _tag: "Mapped"; readonly payload: DefenderPayload; readonly payloadHash: string }
  | { readonly _tag: "Rejected"; readonly reasonCode: string; readonly reason: string }

export interface KeyMapping {
  readonly key: IndicatorKey
  readonly streamId: StreamId
  /** The value as ThreatConnect gave it (before normalization). */
  readonly rawValue: string
  /** Whether the policy's `indicatorTypes` select this key (it decides the MD5/SHA1/SHA256 split). */
  readonly typeSelected: boolean
  readonly contentHash: string
  readonly outcome: MappingOutcome
}

export interface RecordMapping {
  readonly record: SourceIndicator
  readonly source: SourceRef
  readonly rank: Rank
  readonly keys: ReadonlyArray<KeyMapping>
  /** Set when the ThreatConnect type has no Defender indicator type. */
  readonly unsupportedType: string | null
}

/** A raw value of a record and the Defender type it is sent as. */
export interface SourceValue {
  readonly indicatorType: DefenderIndicatorType
  readonly raw: string
}

const HASH_TYPE_BY_LENGTH: Record<number, DefenderIndicatorType> = { 32: "FileMd5", 40: "FileSha1", 64: "FileSha256" }

/** A hash of no known length goes to the type of the nearest length, so its rejection names the problem. */
const hashTypeOf = (hash: string): DefenderIndicatorType =>
  HASH_TYPE_BY_LENGTH[hash.length] ?? (hash.length < 36 ? "FileMd5" : hash.length < 52 ? "FileSha1" : "FileSha256")

const fileValues = (summary: string, hashes: FileHashes | null): ReadonlyArray<SourceValue> => {
  if (hashes !== null) {
    const out: Array<SourceValue> = []
    if (hashes.md5 !== null && hashes.md5.trim() !== "") out.push({ indicatorType: "FileMd5", raw: hashes.md5 })
    if (hashes.sha1 !== null && hashes.sha1.trim() !== "") out.push({ indicatorType: "FileSha1", raw: hashes.sha1 })
    if (hashes.sha256 !== null && hashes.sha256.trim() !== "") out.push({ indicatorType: "FileSha256", raw: hashes.sha256 })
    return out
  }
  // ThreatConnect's File summary is `md5 : sha1 : sha256` with absent parts left out.
  const seen = new Set<DefenderIndicatorType>()
  const out: Array<SourceValue> = []
  for (const part of summary.split(":").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const indicatorType = hashTypeOf(part)
    if (seen.has(indicatorType)) continue
    seen.add(indicatorType)
    out.push({ indicatorType, raw: part })
  }
  return out
}

/** The Defender values a ThreatConnect (type, summary) yields; `null` for a type Defender has no counterpart of. */
export const sourceValuesOf = (
  type: string,
  summary: string,
  fileHashes: FileHashes | null
): ReadonlyArray<SourceValue> | null => {
  switch (type) {
    case "Address":
      return [{ indicatorType: "IpAddress", raw: summary }]
    case "Host":
      return [{ indicatorType: "DomainName", raw: summary }]
    case "URL":
      return [{ indicatorType: "Url", raw: summary }]
    case "File":
      return fileValues(summary, fileHashes)
    default:
      return null
  }
}

/** The key value: the normalized value, or (for a value Defender would refuse) the trimmed raw text. */
export const keyValueOf = (value: SourceValue): string => {
  const normalized = normalizeIndicatorValue(value.indicatorType, value.raw)
  return Either.isRight(normalized) ? normalized.right : value.raw.trim()
}

const POLICY_TYPE_OF: Record<DefenderIndicatorType, PolicyIndicatorType> = {
  IpAddress: "Address",
  DomainName: "Host",
  Url: "URL",
  FileMd5: "MD5",
  FileSha1: "SHA1",
  FileSha256: "SHA256"
}

const HASH_POLICY_TYPES: ReadonlyArray<PolicyIndicatorType> = ["MD5", "SHA1", "SHA256"]

/**
 * Is this Defender type selected by the policy? Without TQL, `indicatorTypes` decides every type. A raw
 * TQL replaces the type filter, so it decides which records come back; the MD5/SHA1/SHA256 split of a
 * File is still taken from `indicatorTypes` (all three when it names none of them).
 */
export const typeSelectedByPolicy = (policy: Policy, indicatorType: DefenderIndicatorType): boolean => {
  const wanted = POLICY_TYPE_OF[indicatorType]
  if (policy.tql === null) return policy.indicatorTypes.includes(wanted)
  if (!isFileIndicatorType(indicatorType)) return true
  const hashTypes = policy.indicatorTypes.filter((t) => HASH_POLICY_TYPES.includes(t))
  return hashTypes.length === 0 || hashTypes.includes(wanted)
}

/**
 * The action sent for a key. `Alert` becomes `Audit` + `generateAlert: true` in the payload builder.
 * `BlockAndRemediate` exists for files only; Defender does not import it on a network indicator
 * (reference/defender-api.md §3.2), so a policy asking for it sends network indicators as `Block`,
 * the strongest network action, instead of rejecting them all (the plan notes it).
 */
export const actionFor = (policy: Policy, indicatorType: DefenderIndicatorType): PolicyAction | DefenderAction =>
  policy.action === "BlockAndRemediate" && !isFileIndicatorType(indicatorType) ? "Block" : policy.action

const DAY_MS = 24 * 60 * 60 * 1000

/** `now + expirationDays.file` (hashes) or `.network` (IP, domain, URL), whole seconds, `…Z`. */
export const expirationFor = (policy: Policy, indicatorType: DefenderIndicatorType, now: DateTime.Utc): DateTime.Utc => {
  const days = isFileIndicatorType(indicatorType) ? policy.expirationDays.file : policy.expirationDays.network
  const seconds = Math.floor(DateTime.toEpochMillis(now) / 1000)
  return DateTime.unsafeMake(seconds * 1000 + days * DAY_MS)
}

/** ISO 8601 UTC at whole seconds, as Defender's examples write it (`2026-01-01T00:00:00Z`). */
export const formatExpiration = (at: DateTime.Utc): string => DateTime.formatIso(at).replace(/\.\d{3}Z$/, "Z")

/**
 * `formatExpiration(expirationFor(...))`, remembered: every key of a run shares `now` and one of two
 * periods, and formatting a DateTime per key cost ~0.25 s of CPU per 20,000 keys.
 */
const expirationTexts = new Map<string, string>()
const expirationText = (policy: Policy, indicatorType: DefenderIndicatorType, now: DateTime.Utc): string => {
  const days = isFileIndicatorType(indicatorType) ? policy.expirationDays.file : policy.expirationDays.network
  const id = `${DateTime.toEpochMillis(now)}/${days}`
  const known = expirationTexts.get(id)
  if (known !== undefined) return known
  if (expirationTexts.size >= 16) expirationTexts.clear()
  const text = formatExpiration(expirationFor(policy, indicatorType, now))
  expirationTexts.set(id, text)
  return text
}

export const EXTERNAL_ID_PREFIX = "threatconnect:"

export const sourceRefOf = (record: SourceIndicator): SourceRef => ({
  system: "threatconnect",
  ownerId: record.ownerId,
  ownerName: record.ownerName,
  indicatorId: record.id
})

/** The payload (or the reason there is none) for one value of a record. */
export const mapValue = (
  record: SourceIndicator,
  value: SourceValue,
  keyValue: string,
  policy: Policy,
  now: DateTime.Utc
): MappingOutcome => {
  const built = buildDefenderPayload({
    indicatorType: value.indicatorType,
    indicatorValue: value.raw,
    action: actionFor(policy, value.indicatorType),
    title: `ThreatConnect ${record.type}: ${keyValue}`,
    description: indicatorDescription(record),
    severity: severityFor(policy, record.rating),
    expirationTime: expirationText(policy, value.indicatorType, now),
    generateAlert: policy.generateAlert,
    recommendedActions: policy.recommendedActions,
    rbacGroupNames: policy.rbacGroupNames,
    educateUrl: policy.educateUrl,
    application: policy.application,
    externalId: `${EXTERNAL_ID_PREFIX}${record.id}`
  })
  return Either.isRight(built)
    ? { _tag: "Mapped", payload: built.right, payloadHash: payloadHashOf(built.right) }
    : { _tag: "Rejected", reasonCode: built.left.code, reason: built.left.reason }
}

/** Every Defender key of one record, in a fixed order (the order `sourceValuesOf` yields them). */
export const mapSourceIndicator = (
  targetId: TargetId,
  record: SourceIndicator,
  policy: Policy,
  now: DateTime.Utc
): RecordMapping => {
  const source = sourceRefOf(record)
  const rank = rankOfRecord(record)
  const values = sourceValuesOf(record.type, record.summary, record.fileHashes)
  if (values === null) return { record, source, rank, keys: [], unsupportedType: record.type }
  const keys: Array<KeyMapping> = []
  for (const value of values) {
    const keyValue = keyValueOf(value)
    if (keyValue.length === 0) continue
    const key: IndicatorKey = { targetId, indicatorType: value.indicatorType, value: keyValue }
    keys.push({
      key,
      streamId: indicatorStreamId(key),
      rawValue: value.raw,
      typeSelected: typeSelectedByPolicy(policy, value.indicatorType),
      contentHash: contentHashOf(record, value.indicatorType, value.raw),
      outcome: mapValue(record, value, keyValue, policy, now)
    })
  }
  return { record, source, rank, keys, unsupportedType: null }
}
