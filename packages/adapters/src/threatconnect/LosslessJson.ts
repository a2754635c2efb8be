/**
 * JSON parsing that keeps big integers exact (reference/threatconnect-api.md §6.1: ThreatConnect ids exceed
 * 2^53, and float64 decoding collapsed the distinct ids 9007199254918487 and 9007199254918489).
 *
 * Every integer literal of 16 or more digits (2^53 has 16) outside a string is turned into a JSON string
 * before `JSON.parse`, so it arrives as its exact decimal text; shorter numbers stay numbers. The scan jumps
 * over string literals with `indexOf` (a page is ~13 MB of mostly strings; a regular expression matching every
 * string literal cost ~10x more), and leaves a digit run that is part of a fraction or an exponent alone.
 */
const QUOTE = 34
const BACKSLASH = 92
const MINUS = 45
const ZERO = 48
const NINE = 57
const DOT = 46
const LOWER_E = 101
const UPPER_E = 69
const PLUS = 43

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE

/** Index just past the string literal opening at `start` (or text.length if unterminated). */
const skipString = (text: string, start: number): number => {
  let i = start + 1
  for (;;) {
    const q = text.indexOf('"', i)
    if (q < 0) return text.length
    let backslashes = 0
    for (let j = q - 1; j > start && text.charCodeAt(j) === BACKSLASH; j--) backslashes++
    if (backslashes % 2 === 0) return q + 1
    i = q + 1
  }
}

export const quoteBigIntegers = (text: string): string => {
  const n = text.length
  let out = ""
  let last = 0
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i = skipString(text, i)
    } else if (isDigit(c) || c === MINUS) {
      const start = i
      if (c === MINUS) i++
      const digitsStart = i
      while (i < n && isDigit(text.charCodeAt(i))) i++
      const after = i < n ? text.charCodeAt(i) : 0
      if (i - digitsStart >= 16 && after !== DOT && after !== LOWER_E && after !== UPPER_E) {
        out += `${text.slice(last, start)}"${text.slice(start, i)}"`
        last = i
      } else {
        // the rest of this number: fraction and exponent digits are never an integer literal of their own
        while (i < n) {
          const d = text.charCodeAt(i)
          if (isDigit(d) || d === DOT || d === LOWER_E || d === UPPER_E || d === PLUS || d === MINUS) i++
          else break
        }
      }
    } else {
      i++
    }
  }
  return last === 0 ? text : out + text.slice(last)
}

/** `JSON.parse` with big integer literals kept as decimal strings. Throws a SyntaxError like JSON.parse. */
export const parseLosslessJson = (text: string): unknown => JSON.parse(quoteBigIntegers(text))

