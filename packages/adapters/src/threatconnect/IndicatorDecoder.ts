import { DateTime, Either, ParseResult, Schema } from "effect"
import { SourceIndicatorId, type FileHashes, type SourceDeletion, type SourceIndicator, type SourceRecordRejected } from "@tisync/domain"

/**
 * Wire shapes of ThreatConnect v3 (reference/threatconnect-api.md §2b, §3) and their decoding into the
 * domain's `SourceIndicator`. The body is parsed by `parseLosslessJson`, so integers of 16+ digits arrive
 * as strings: ids accept a safe integer number or a decimal string. Everything but id, owner, type and
 * dates is optional upstream (§3c "Parser rules") and becomes null or empty here.
 */

/** int64 id: a decimal string (kept exactly) or a number that is a safe integer. */
const WireId = Schema.transformOrFail(Schema.Union(Schema.String, Schema.Number), Schema.String, {
  strict: true,
  decode: (value, _, ast) =>
    typeof value === "number"
      ? Number.isSafeInteger(value)
        ? ParseResult.succeed(String(value))
        : ParseResult.fail(new ParseResult.Type(ast, value, "an id is an integer (above 2^53 it must not be rounded)"))
      : /^-?\d{1,20}$/.test(value)
        ? ParseResult.succeed(value)
        : ParseResult.fail(new ParseResult.Type(ast, value, "an id is an integer")),
  encode: (value) => ParseResult.succeed(value)
})

/**
 * `rating` is documented as a Big Decimal (`3.00`); a string form is accepted too. Only finite numbers:
 * `1e400` parses to Infinity, which no rank, severity or JSON column can hold.
 */
const WireNumber = Schema.Union(Schema.Finite, Schema.NumberFromString.pipe(Schema.finite()))

const nullableNumber = Schema.optionalWith(Schema.NullOr(WireNumber), { default: () => null })
const nullableString = Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
const listOf = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.optionalWith(Schema.NullOr(Schema.Struct({ data: Schema.optionalWith(Schema.Array(item), { default: () => [] }) })), {
    default: () => null
  })

const AttributeValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean)

export const WireIndicator = Schema.Struct({
  id: WireId,
  ownerId: WireId,
  ownerName: Schema.String,
  type: Schema.String,
  summary: nullableString,
  dateAdded: Schema.DateTimeUtc,
  lastModified: Schema.DateTimeUtc,
  active: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  rating: nullableNumber,
  confidence: nullableNumber,
  threatAssessScore: nullableNumber,
  falsePositives: nullableNumber,
  webLink: nullableString,
  // type-specific value fields (§3a); File hashes may be upper case
  ip: nullableString,
  hostName: nullableString,
  text: nullableString,
  md5: nullableString,
  sha1: nullableString,
  sha256: nullableString,
  tags: listOf(Schema.Struct({ name: Schema.String })),
  securityLabels: listOf(Schema.Struct({ name: Schema.String })),
  attributes: listOf(Schema.Struct({ type: Schema.String, value: AttributeValue }))
})
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
  if (hashes.md5 === null && hashes.sha1 === null && hashes.sha256 === null && wire.summary !== null) {
    for (const part of wire.summary.split(":")) {
      const hash = part.trim().toLowerCase()
      const slot = HEX_LENGTH[hash.length]
      if (slot !== undefined && /^[0-9a-f]+$/.test(hash)) hashes[slot] = hash
    }
  }
  return hashes.md5 === null && hashes.sha1 === null && hashes.sha256 === null ? null : hashes
}

const summaryOf = (wire: WireIndicator): string | null => {
  if (wire.summary !== null && wire.summary !== "") return wire.summary
  switch (wire.type) {
    case "Address":
      return wire.ip
    case "Host":
      return wire.hostName
    case "URL":
      return wire.text
    case "File":
      return [wire.md5, wire.sha1, wire.sha256].filter((h) => h !== null && h !== "").join(" : ") || null
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

// ------------------------------------------------------------------------------------------- fast path
//
// Decoding 100,000 records through the Schema costs ~3 s of CPU (the benchmark's budget is 2 s for the whole
// adapter), so records in the canonical shape (ids as integers or decimal strings, `...Z` timestamps, numbers
// as numbers) are read by hand here, producing exactly what `WireIndicator` would (a property test checks
// that). Anything else (a missing field, a string rating, an offset timestamp) goes through the Schema, which
// stays the contract and words the rejection.

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u)
const BAIL = Symbol("bail")
type Bail = typeof BAIL
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/
const DECIMAL_ID = /^-?\d{1,20}$/

const fastId = (v: unknown): string | Bail =>
  typeof v === "string" ? (DECIMAL_ID.test(v) ? v : BAIL) : typeof v === "number" && Number.isSafeInteger(v) ? String(v) : BAIL
const fastInstant = (v: unknown): DateTime.Utc | Bail => {
  if (typeof v !== "string" || !CANONICAL_INSTANT.test(v)) return BAIL
  const ms = Date.parse(v)
  return Number.isNaN(ms) ? BAIL : DateTime.unsafeMake(ms)
}
const fastNumber = (v: unknown): number | null | Bail =>
  v === undefined || v === null ? null : typeof v === "number" && Number.isFinite(v) ? v : BAIL
const fastString = (v: unknown): string | null | Bail => (v === undefined || v === null ? null : typeof v === "string" ? v : BAIL)
const fastList = <A>(v: unknown, item: (x: Readonly<Record<string, unknown>>) => A | Bail): { readonly data: ReadonlyArray<A> } | null | Bail => {
  if (v === undefined || v === null) return null
  if (!isRecord(v)) return BAIL
  const data = v.data
  if (data === undefined) return { data: [] }
  if (!Array.isArray(data)) return BAIL
  const out: Array<A> = []
  for (const x of data) {
    if (!isRecord(x)) return BAIL
    const a = item(x)
    if (a === BAIL) return BAIL
    out.push(a)
  }
  return { data: out }
}
const named = (x: Readonly<Record<string, unknown>>): { readonly name: string } | Bail => (typeof x.name === "string" ? { name: x.name } : BAIL)
const attribute = (x: Readonly<Record<string, unknown>>): { readonly type: string; readonly value: string | number | boolean } | Bail =>
  typeof x.type === "string" && (typeof x.value === "string" || typeof x.value === "number" || typeof x.value === "boolean")
    ? { type: x.type, value: x.value }
    : BAIL

/** The `WireIndicator` of a canonical record, or undefined when the Schema has to decide. */
export const decodeWireFast = (raw: unknown): WireIndicator | undefined => {
  if (!isRecord(raw)) return undefined
  const id = fastId(raw.id)
  const ownerId = fastId(raw.ownerId)
  const dateAdded = fastInstant(raw.dateAdded)
  const lastModified = fastInstant(raw.lastModified)
  const active = raw.active === undefined ? true : typeof raw.active === "boolean" ? raw.active : BAIL
  const rating = fastNumber(raw.rating)
  const confidence = fastNumber(raw.confidence)
  const threatAssessScore = fastNumber(raw.threatAssessScore)
  const falsePositives = fastNumber(raw.falsePositives)
  const summary = fastString(raw.summary)
  const webLink = fastString(raw.webLink)
  const ip = fastString(raw.ip)
  const hostName = fastString(raw.hostName)
  const text = fastString(raw.text)
  const md5 = fastString(raw.md5)
  const sha1 = fastString(raw.sha1)
  const sha256 = fastString(raw.sha256)
  const tags = fastList(raw.tags, named)
  const securityLabels = fastList(raw.securityLabels, named)
  const attributes = fastList(raw.attributes, attribute)
  if (
    id === BAIL || ownerId === BAIL || typeof raw.ownerName !== "string" || typeof raw.type !== "string" ||
    dateAdded === BAIL || lastModified === BAIL || active === BAIL || rating === BAIL || confidence === BAIL ||
    threatAssessScore === BAIL || falsePositives === BAIL || summary === BAIL || webLink === BAIL || ip === BAIL ||
    hostName === BAIL || text === BAIL || md5 === BAIL || sha1 === BAIL || sha256 === BAIL || tags === BAIL ||
    securityLabels === BAIL || attributes === BAIL
  ) {
    return undefined
  }
  return {
    id, ownerId, ownerName: raw.ownerName, type: raw.type, summary, dateAdded, lastModified, active, rating, confidence,
    threatAssessScore, falsePositives, webLink, ip, hostName, text, md5, sha1, sha256, tags, securityLabels, attributes
  }
}

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
  let wire = decodeWireFast(raw)
  if (wire === undefined) {
    const decoded = decodeWire(raw)
    if (Either.isLeft(decoded)) {
      return Either.left(reject(raw, ParseResult.TreeFormatter.formatErrorSync(decoded.left)))
    }
    wire = decoded.right
  }
  const summary = summaryOf(wire)
  if (summary === null) return Either.left(reject(raw, `a ${wire.type} indicator without a summary or value field`))
  const fileHashes = wire.type === "File" ? fileHashesOf(wire) : null
  if (wire.type === "File" && fileHashes === null) {
    return Either.left(reject(raw, "a File indicator without an md5, sha1 or sha256 hash"))
  }
  const indicator: SourceIndicator = {
    id: SourceIndicatorId.make(wire.id),
    ownerId: wire.ownerId,
    ownerName: wire.ownerName,
    type: wire.type,
    summary,
    fileHashes,
    dateAdded: wire.dateAdded,
    lastModified: wire.lastModified,
    active: wire.active,
    rating: wire.rating,
    confidence: wire.confidence,
    threatAssessScore: wire.threatAssessScore,
    falsePositives: wire.falsePositives,
    tags: (wire.tags?.data ?? []).map((t) => t.name),
    securityLabels: (wire.securityLabels?.data ?? []).map((l) => l.name),
    attributes: (wire.attributes?.data ?? []).map((a) => ({ type: a.type, value: String(a.value) })),
    webLink: wire.webLink
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
