import { type DateTime, Either, ParseResult, Schema } from "effect"
import { SourceIndicatorId, type FileHashes, type SourceDeletion, type SourceIndicator, type SourceRecordRejected } from "@tisync/domain"

/**
 * Wire shapes of ThreatConnect v3 (reference/threatconnect-api.md §2b, §3) and their decoding into the
 * domain's `SourceIndicator`. The body is parsed by `parseLosslessJson`, so integers of 16+ digits arrive
 * as strings: ids accept a safe integer number or a decimal string. Everything but id, owner, type and
 * dates is optional upstream (§3c "Parser rules") and becomes null or empty here.
 *
 * Every record goes through the `WireIndicator` Schema (no hand-written fast path); the schema's shape is
 * chosen to be cheap to run: see the notes on `WireId` and `optionalNullable`.
 */

/**
 * int64 id: a decimal string (kept exactly) or a number that is a safe integer. A union of two refinements
 * rather than a transformation to string: the caller turns a number into its decimal text, and a
 * transformation costs a second parse step per id (the schema is run 100,000 times a sync).
 */
const DecimalId = Schema.String.pipe(Schema.pattern(/^-?\d{1,20}$/, { message: () => "an id is an integer" }))
const SafeIntegerId = Schema.Number.pipe(
  Schema.filter(Number.isSafeInteger, { message: () => "an id is an integer (above 2^53 it must not be rounded)" })
)
const WireId = Schema.Union(DecimalId, SafeIntegerId).annotations({ identifier: "IntegerId" })
/** Owner ids are small: the number member first spares the union a failed attempt per record. */
const WireOwnerId = Schema.Union(SafeIntegerId, DecimalId).annotations({ identifier: "IntegerId" })

/**
 * `rating` is documented as a Big Decimal (`3.00`); a string form is accepted too. Only finite numbers:
 * `1e400` parses to Infinity, which no rank, severity or JSON column can hold.
 */
const WireNumber = Schema.Union(Schema.Finite, Schema.NumberFromString.pipe(Schema.finite()))

// Optional fields are `optional(NullOr(..))`, not `optionalWith(.., { default })`: a default is a
// property-signature transformation per field and made the struct ~2x slower to decode; the mapping to
// `SourceIndicator` below turns absent into null instead.
const optionalNullable = <A, I>(schema: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(schema))
const listOf = <A, I>(item: Schema.Schema<A, I>) => optionalNullable(Schema.Struct({ data: Schema.optional(Schema.Array(item)) }))

const AttributeValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean)

export const WireIndicator = Schema.Struct({
  id: WireId,
  ownerId: WireOwnerId,
  ownerName: Schema.String,
  type: Schema.String,
  summary: optionalNullable(Schema.String),
  dateAdded: Schema.DateTimeUtc,
  lastModified: Schema.DateTimeUtc,
  active: Schema.optional(Schema.Boolean),
  rating: optionalNullable(WireNumber),
  confidence: optionalNullable(WireNumber),
  threatAssessScore: optionalNullable(WireNumber),
  falsePositives: optionalNullable(WireNumber),
  webLink: optionalNullable(Schema.String),
  // type-specific value fields (§3a); File hashes may be upper case
  ip: optionalNullable(Schema.String),
  hostName: optionalNullable(Schema.String),
  text: optionalNullable(Schema.String),
  md5: optionalNullable(Schema.String),
  sha1: optionalNullable(Schema.String),
  sha256: optionalNullable(Schema.String),
  tags: listOf(Schema.Struct({ name: Schema.String })),
  securityLabels: listOf(Schema.Struct({ name: Schema.String })),
  attributes: listOf(Schema.Struct({ type: Schema.String, value: AttributeValue }))
}).annotations({ identifier: "ThreatConnectIndicator" }) // rejection reasons name the record, not its whole shape
export type WireIndicator = typeof WireIndicator.Type

const decodeWire = Schema.decodeUnknownEither(WireIndicator)

const HEX_LENGTH: Record<number, keyof FileHashes> = { 32: "md5", 40: "sha1", 64: "sha256" }

/** A File's hashes: from md5/sha1/sha256, else from its summary `md5 : sha1 : sha256` (DOC mergeFileHashes). */
const fileHashesOf = (wire: WireIndicator): FileHashes | null => {
  const hashes: { md5: string | null; sha1: string | null; sha256: string | null } = {
    md5: wire.md5?.trim().toLowerCase() || null,
    sha1: wire.sha1?.trim().toLowerCase() || null,
    sha256: wire.sha256?.trim().toLowerCase() || null
  }
  if (hashes.md5 === null && hashes.sha1 === null && hashes.sha256 === null && typeof wire.summary === "string") {
    for (const part of wire.summary.split(":")) {
      const hash = part.trim().toLowerCase()
      const slot = HEX_LENGTH[hash.length]
      if (slot !== undefined && /^[0-9a-f]+$/.test(hash)) hashes[slot] = hash
    }
  }
  return hashes.md5 === null && hashes.sha1 === null && hashes.sha256 === null ? null : hashes
}

const summaryOf = (wire: WireIndicator): string | null => {
  if (typeof wire.summary === "string" && wire.summary !== "") return wire.summary
  switch (wire.type) {
    case "Address":
      return wire.ip ?? null
    case "Host":
      return wire.hostName ?? null
    case "URL":
      return wire.text ?? null
    case "File":
      return [wire.md5, wire.sha1, wire.sha256].filter((h) => typeof h === "string" && h !== "").join(" : ") || null
    default:
      return null
  }
}

const rawIdOf = (raw: unknown): string | null => {
  if (typeof raw !== "object" || raw === null || !("id" in raw)) return null
  const id = raw.id
  return typeof id === "string" || typeof id === "number" || typeof id === "bigint" ? String(id) : null
}

const MAX_REASON = 1000
const reject = (raw: unknown, reason: string): SourceRecordRejected => ({
  rawId: rawIdOf(raw),
  reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}...` : reason
})

/**
 * The first text field holding U+0000, if any. PostgreSQL stores no NUL character in text or jsonb
 * ("unsupported Unicode escape sequence"), so such a record would make every event about it (and the run)
 * fail to append, run after run; it is rejected here instead, with a reason.
 */
const fieldWithNul = (i: SourceIndicator): string | null => {
  const has = (s: string | null): boolean => s !== null && s.includes("\u0000")
  if (has(i.id) || has(i.ownerId)) return "id"
  if (has(i.ownerName)) return "ownerName"
  if (has(i.type)) return "type"
  if (has(i.summary)) return "summary"
  if (i.fileHashes !== null && (has(i.fileHashes.md5) || has(i.fileHashes.sha1) || has(i.fileHashes.sha256))) return "hash"
  if (i.tags.some(has)) return "tags"
  if (i.securityLabels.some(has)) return "securityLabels"
  if (i.attributes.some((a) => has(a.type) || has(a.value))) return "attributes"
  if (has(i.webLink)) return "webLink"
  return null
}

/** One list item: a `SourceIndicator`, or the rejection to report (raw id and reason). */
export const decodeIndicator = (raw: unknown): Either.Either<SourceIndicator, SourceRecordRejected> => {
  const decoded = decodeWire(raw)
  if (Either.isLeft(decoded)) return Either.left(reject(raw, ParseResult.TreeFormatter.formatErrorSync(decoded.left)))
  const wire = decoded.right
  const summary = summaryOf(wire)
  if (summary === null) return Either.left(reject(raw, `a ${wire.type} indicator without a summary or value field`))
  const fileHashes = wire.type === "File" ? fileHashesOf(wire) : null
  if (wire.type === "File" && fileHashes === null) {
    return Either.left(reject(raw, "a File indicator without an md5, sha1 or sha256 hash"))
  }
  const indicator: SourceIndicator = {
    id: SourceIndicatorId.make(String(wire.id)),
    ownerId: String(wire.ownerId),
    ownerName: wire.ownerName,
    type: wire.type,
    summary,
    fileHashes,
    dateAdded: wire.dateAdded,
    lastModified: wire.lastModified,
    active: wire.active ?? true,
    rating: wire.rating ?? null,
    confidence: wire.confidence ?? null,
    threatAssessScore: wire.threatAssessScore ?? null,
    falsePositives: wire.falsePositives ?? null,
    tags: (wire.tags?.data ?? []).map((t) => t.name),
    securityLabels: (wire.securityLabels?.data ?? []).map((l) => l.name),
    attributes: (wire.attributes?.data ?? []).map((a) => ({ type: a.type, value: String(a.value) })),
    webLink: wire.webLink ?? null
  }
  const nul = fieldWithNul(indicator)
  if (nul !== null) return Either.left(reject(raw, `${nul} holds a NUL character (U+0000), which cannot be stored`))
  return Either.right(indicator)
}

/** `/v3/indicators/deleted` item: only owner, type, summary and dateAdded are documented (§2a). */
export const WireDeletedIndicator = Schema.Struct({
  ownerName: Schema.String,
  type: Schema.String,
  summary: Schema.String,
  deletedDate: Schema.optional(Schema.DateTimeUtc)
})
const decodeDeleted = Schema.decodeUnknownEither(WireDeletedIndicator)

/**
 * A deleted item. The listing has no deletion time; `listedAt` (when the listing was requested) stands in,
 * unless the server sends a `deletedDate`.
 */
export const decodeDeletion = (raw: unknown, listedAt: DateTime.Utc): Either.Either<SourceDeletion, string> =>
  Either.match(decodeDeleted(raw), {
    onLeft: (e) => Either.left(ParseResult.TreeFormatter.formatErrorSync(e)),
    onRight: (d) => Either.right({ ownerName: d.ownerName, type: d.type, summary: d.summary, deletedAt: d.deletedDate ?? listedAt, reason: "deleted" })
  })

/** A deactivated record, reported as a deletion (it left the active set at its last modification). */
export const deactivationOf = (indicator: SourceIndicator): SourceDeletion => ({
  ownerName: indicator.ownerName,
  type: indicator.type,
  summary: indicator.summary,
  deletedAt: indicator.lastModified,
  reason: "deactivated",
  indicatorId: indicator.id
})

/** The page envelope (§2b): success status, `data`, optional absolute `next`. */
export const WirePage = Schema.Struct({
  status: Schema.Literal("Success"),
  data: Schema.Array(Schema.Unknown),
  next: Schema.optional(Schema.NullOr(Schema.String))
})
export const decodePage = Schema.decodeUnknownEither(WirePage)

/** The error envelope `{"status":"Error","message":...}`. */
export const WireErrorBody = Schema.Struct({ message: Schema.String })
export const decodeErrorBody = Schema.decodeUnknownEither(WireErrorBody)
