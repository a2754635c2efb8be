import { Schema } from "effect"
import { SourceIndicatorId } from "./Identifiers.js"

/**
 * One ThreatConnect indicator after decoding at the edge (reference/threatconnect-api.md §3).
 * Only what filtering, ranking and mapping need; everything optional upstream is nullable here.
 */
export const SourceAttribute = Schema.Struct({ type: Schema.String, value: Schema.String })
export type SourceAttribute = typeof SourceAttribute.Type

export const FileHashes = Schema.Struct({
  md5: Schema.NullOr(Schema.String),
  sha1: Schema.NullOr(Schema.String),
  sha256: Schema.NullOr(Schema.String)
})
export type FileHashes = typeof FileHashes.Type

export const SourceIndicator = Schema.Struct({
  id: SourceIndicatorId,
  ownerId: Schema.String,
  ownerName: Schema.String,
  /** ThreatConnect type name: `Address`, `Host`, `URL`, `File`, or any other (rejected later with a reason). */
  type: Schema.String,
  /** ThreatConnect `summary`: the IP, host name, URL text, or `md5 : sha1 : sha256` for a File. */
  summary: Schema.String,
  /** Set for File indicators (from the md5/sha1/sha256 fields or the split summary). */
  fileHashes: Schema.NullOr(FileHashes),
  dateAdded: Schema.DateTimeUtc,
  lastModified: Schema.DateTimeUtc,
  active: Schema.Boolean,
  rating: Schema.NullOr(Schema.Number),
  confidence: Schema.NullOr(Schema.Number),
  threatAssessScore: Schema.NullOr(Schema.Number),
  falsePositives: Schema.NullOr(Schema.Number),
  tags: Schema.Array(Schema.String),
  securityLabels: Schema.Array(Schema.String),
  attributes: Schema.Array(SourceAttribute),
  webLink: Schema.NullOr(Schema.String)
})
export type SourceIndicator = typeof SourceIndicator.Type

/** A record ThreatConnect reports deleted (`/v3/indicators/deleted`: only owner, type and summary are known). */
export const SourceDeletion = Schema.Struct({
  ownerName: Schema.String,
  type: Schema.String,
  summary: Schema.String,
  deletedAt: Schema.DateTimeUtc,
  /** `deleted` (from `/v3/indicators/deleted`) or `deactivated` (still there, `active: false`). Absent: deleted. */
  reason: Schema.optional(Schema.Literal("deleted", "deactivated")),
  /** Known for a deactivated record; the deleted listing carries no id. */
  indicatorId: Schema.optional(SourceIndicatorId)
})
export type SourceDeletion = typeof SourceDeletion.Type

/** A record that could not be decoded: kept with its raw id and the reason, never silently dropped. */
export const SourceRecordRejected = Schema.Struct({
  rawId: Schema.NullOr(Schema.String),
  reason: Schema.String
})
export type SourceRecordRejected = typeof SourceRecordRejected.Type
