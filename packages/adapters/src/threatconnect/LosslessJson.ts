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

const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const COMMA = 44
const COLON = 58

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9

/**
 * A JSON object whose array member `field` is left as text: `envelope` is the object parsed with that array
 * emptied, `elements` the array's elements as JSON texts (big integers already quoted), to parse one at a
 * time. A page's records are then decoded one by one: no page-sized object graph is built, and each record's
 * garbage dies young, which halves the adapter's CPU (most of it was JSON.parse and GC of whole pages).
 * Returns null when the text is not an object with such an array (the caller then parses it whole).
 */
export const parseObjectWithArrayField = (
  text: string,
  field: string
): { readonly envelope: unknown; readonly elements: ReadonlyArray<string> } | null => {
  const quoted = quoteBigIntegers(text)
  const n = quoted.length
  let i = 0
  while (i < n && isSpace(quoted.charCodeAt(i))) i++
  if (quoted.charCodeAt(i) !== OPEN_BRACE) return null
  let depth = 0
  let lastKey: string | null = null
  let arrayStart = -1
  let arrayEnd = -1
  const elements: Array<string> = []
  let elementStart = -1
  for (; i < n; i++) {
    const c = quoted.charCodeAt(i)
    if (c === QUOTE) {
      const end = skipString(quoted, i)
      if (depth === 1) {
        let j = end
        while (j < n && isSpace(quoted.charCodeAt(j))) j++
        if (quoted.charCodeAt(j) === COLON) lastKey = JSON.parse(quoted.slice(i, end))
      }
      if (depth === 2 && arrayStart >= 0 && arrayEnd < 0 && elementStart < 0) elementStart = i
      i = end - 1
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++
      if (depth === 2 && c === OPEN_BRACKET && lastKey === field && arrayStart < 0) {
        arrayStart = i
      } else if (depth === 3 && arrayStart >= 0 && arrayEnd < 0 && elementStart < 0) {
        elementStart = i
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 2 && c === CLOSE_BRACKET && arrayStart >= 0 && arrayEnd < 0) {
        if (elementStart >= 0) elements.push(quoted.slice(elementStart, i).trim())
        elementStart = -1
        arrayEnd = i
      }
      depth--
    } else if (c === COMMA && depth === 2 && arrayStart >= 0 && arrayEnd < 0) {
      if (elementStart >= 0) elements.push(quoted.slice(elementStart, i).trim())
      elementStart = -1
    } else if (depth === 2 && arrayStart >= 0 && arrayEnd < 0 && elementStart < 0 && !isSpace(c)) {
      elementStart = i
    }
  }
  if (arrayStart < 0 || arrayEnd < 0) return null
  const envelope: unknown = JSON.parse(`${quoted.slice(0, arrayStart)}[]${quoted.slice(arrayEnd + 1)}`)
  return { envelope, elements }
}
