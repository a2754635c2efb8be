import { Schema } from "effect"

/**
 * int8 columns: node-postgres returns them as strings, PGlite as numbers. Both decode here, at the
 * adapter boundary, so driver types never reach the ports (reference/architecture-anchors.md Part C).
 */
export const Int8AsNumber = Schema.Union(Schema.Number, Schema.NumberFromString).pipe(
  Schema.filter((n) => Number.isSafeInteger(n), { message: () => "int8 value beyond 2^53" })
)
export const decodeInt8 = Schema.decodeUnknownSync(Int8AsNumber)

/** int8/xid8 kept exactly as a decimal string (used for checkpoints). */
export const Int8AsString = Schema.Union(
  Schema.String.pipe(Schema.pattern(/^\d+$/)),
  Schema.Number.pipe(Schema.int(), Schema.nonNegative())
).pipe(Schema.transform(Schema.String, { decode: (v) => String(v), encode: (s) => s, strict: true }))
export const decodeInt8String = Schema.decodeUnknownSync(Int8AsString)
