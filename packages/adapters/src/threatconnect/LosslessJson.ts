/**
 * JSON parsing that keeps big integers exact (reference/threatconnect-api.md §6.1: ThreatConnect ids exceed
 * 2^53, and float64 decoding collapsed the distinct ids 9007199254918487 and 9007199254918489).
 *
 * Every integer literal of 16 or more digits (2^53 has 16) outside a string is turned into a JSON string
 * before `JSON.parse`, so it arrives as its exact decimal text; shorter numbers stay numbers. One regular
 * expression pass: string literals are matched (and kept) as a whole so digits inside them are never touched;
 * a digit run that is part of a fraction or exponent is left alone by the look-arounds.
 */
const bigIntegerOrString = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g

export const quoteBigIntegers = (text: string): string =>
  text.replace(bigIntegerOrString, (token) => (token.charCodeAt(0) === 34 /* " */ ? token : `"${token}"`))

/** `JSON.parse` with big integer literals kept as decimal strings. Throws a SyntaxError like JSON.parse. */
export const parseLosslessJson = (text: string): unknown => JSON.parse(quoteBigIntegers(text))
