import { Schema } from "effect"

/**
 * An indicator as Defender lists it (reference/defender-api.md §3). Decoded leniently because real
 * responses differ from the docs: unknown fields are ignored, most fields may be missing or null,
 * `id` may come as a number, `category` is an integer, `rbacGroupNames` is a list (documented as a
 * comma-separated string), and enums of other apps' indicators may hold values tisync never sends
 * (`CertificateThumbprint`, legacy `AlertAndBlock`): they are kept as plain strings.
 */
const OptionalText = Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })

/** `"994"` or `994` -> `"994"`. */
const IdString = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Number, Schema.String, { strict: true, decode: (n) => String(n), encode: (s) => Number(s) })
)

/** A list of group names, or a comma-separated string of them, or null -> a list. */
const GroupNames = Schema.optionalWith(
  Schema.Union(
    Schema.Array(Schema.String),
    Schema.transform(Schema.NullOr(Schema.String), Schema.Array(Schema.String), {
      strict: true,
      decode: (s) => (s === null ? [] : s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)),
      encode: (xs) => xs.join(",")
    })
  ),
  { default: () => [] }
)

/** `true`, `"True"`, `"true"` -> true (the docs call generateAlert an Enum). */
const LenientBoolean = Schema.optionalWith(
  Schema.NullOr(
    Schema.Union(
      Schema.Boolean,
      Schema.transform(Schema.String, Schema.Boolean, {
        strict: true,
        decode: (s) => s.toLowerCase() === "true",
        encode: (b) => (b ? "True" : "False")
      })
    )
  ),
  { default: () => null }
)

export const DefenderIndicator = Schema.Struct({
  id: IdString,
  indicatorValue: Schema.String,
  indicatorType: Schema.String,
  action: OptionalText,
  severity: OptionalText,
  title: OptionalText,
  description: OptionalText,
  recommendedActions: OptionalText,
  application: OptionalText,
  createdBy: OptionalText,
  createdBySource: OptionalText,
  createdByDisplayName: OptionalText,
  creationTimeDateTimeUtc: OptionalText,
  expirationTime: OptionalText,
  lastUpdateTime: OptionalText,
  lastUpdatedBy: OptionalText,
  /** Documented `externalID`; clients send and read `externalId`. Both are read (see below). */
  externalId: OptionalText,
  externalID: OptionalText,
  generateAlert: LenientBoolean,
  rbacGroupNames: GroupNames,
  category: Schema.optionalWith(Schema.NullOr(Schema.Union(Schema.Number, Schema.String)), { default: () => null })
})
export type DefenderIndicator = typeof DefenderIndicator.Type

/** The correlation id tisync set, whichever casing Defender returned it in. */
export const externalIdOf = (indicator: DefenderIndicator): string | null => indicator.externalId ?? indicator.externalID

export const decodeDefenderIndicator = Schema.decodeUnknownEither(DefenderIndicator)

/** One element of `/api/indicators/import`'s `value` array (§2.2). */
export const DefenderImportItem = Schema.Struct({
  id: Schema.optionalWith(Schema.NullOr(IdString), { default: () => null }),
  indicator: Schema.String,
  isFailed: Schema.Boolean,
  failureReason: OptionalText
})
export type DefenderImportItem = typeof DefenderImportItem.Type

export const DefenderImportResponse = Schema.Struct({ value: Schema.Array(DefenderImportItem) })

export const DefenderListResponse = Schema.Struct({
  value: Schema.Array(Schema.Unknown),
  "@odata.nextLink": Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})

export const DefenderErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.optionalWith(Schema.String, { default: () => "Unknown" }),
    message: Schema.optionalWith(Schema.String, { default: () => "" }),
    target: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
  })
})
