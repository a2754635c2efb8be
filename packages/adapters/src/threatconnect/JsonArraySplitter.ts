/**
 * Splitting a JSON object's array member into its elements (a ThreatConnect page's `data`), without parsing
 * the page as a whole.
 *
 * A page is ~13 MB for 10,000 records. One page string plus one `JSON.parse` graph of it made V8 hold (and
 * later collect) several page-sized copies, and the graph's 10,000 records all outlived the young
 * generation: the process went to 450-600 MB RSS. Here one scan over the body bytes records where each
 * element starts and ends and where its integer literals of 16+ digits are (reference/threatconnect-api.md
 * §6.1: ids above 2^53); an element's JSON text, with those literals quoted so they parse as exact decimal
 * strings, is only built when asked for. The caller parses and decodes elements a batch at a time, so the
 * records die young and the body bytes are the only page-sized thing held.
 *
 * The scan jumps over string literals with `indexOf` and only looks at the bytes between them. Everything
 * outside the array (status, next...) is kept as the `envelope` text, with the array emptied.
 */
const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const DOT = 0x2e
const LOWER_E = 0x65
const UPPER_E = 0x45
const PLUS = 0x2b
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

export class JsonSplitError extends Error {
  override readonly name = "JsonSplitError"
}

/** The elements of one array member of a JSON document, by position in its bytes. */
export class SplitJsonArray {
  constructor(
    private readonly body: Buffer,
    /** Element i is bytes [bounds[2i], bounds[2i+1]). */
    private readonly bounds: ReadonlyArray<number>,
    /** Big integer literals of element i: bigInts[bigFrom[i]..bigFrom[i+1]), as [start, end) pairs. */
    private readonly bigInts: ReadonlyArray<number>,
    private readonly bigFrom: ReadonlyArray<number>,
    /** The document with the array emptied. */
    readonly envelope: string
  ) {}

  get length(): number {
    return this.bounds.length / 2
  }

  /** Element `index`'s JSON text, integer literals of 16+ digits quoted. */
  element(index: number): string {
    const b = this.body
    const end = this.bounds[2 * index + 1] ?? 0
    let last = this.bounds[2 * index] ?? end
    const to = this.bigFrom[index + 1] ?? 0
    let i = this.bigFrom[index] ?? to
    if (i === to) return b.toString("utf8", last, end)
    let text = ""
    for (; i < to; i += 2) {
      const s = this.bigInts[i] ?? last
      const e = this.bigInts[i + 1] ?? s
      text += `${b.toString("utf8", last, s)}"${b.toString("latin1", s, e)}"`
      last = e
    }
    return text + b.toString("utf8", last, end)
  }
}

/** Index the array member `field` of the JSON object in `body`. Throws JsonSplitError if it is not there or the document is cut. */
export const splitJsonArray = (body: Buffer, field: string): SplitJsonArray => {
  const b = body
  const n = b.length
  const bounds: Array<number> = []
  const bigInts: Array<number> = []
  const bigFrom: Array<number> = [0]
  const envelopeParts: Array<string> = []
  let envelopeStart = 0
  let depth = 0
  let inArray = false
  let arrayDone = false
  let started = false
  let lastKey: string | null = null
  let pendingKey: string | null = null
  /** Start of the element being read (-1: between elements). */
  let elementStart = -1

  const endElement = (end: number) => {
    bounds.push(elementStart, end)
    bigFrom.push(bigInts.length)
    elementStart = -1
  }

  let i = 0
  while (i < n) {
    const c = b[i] ?? 0
    if (c === QUOTE) {
      let q = b.indexOf(QUOTE, i + 1)
      while (q >= 0) {
        let slashes = 0
        for (let j = q - 1; j > i && b[j] === BACKSLASH; j--) slashes++
        if (slashes % 2 === 0) break
        q = b.indexOf(QUOTE, q + 1)
      }
      if (q < 0) throw new JsonSplitError("the JSON document is incomplete")
      if (depth === 1) {
        const key: unknown = JSON.parse(b.toString("utf8", i, q + 1))
        pendingKey = typeof key === "string" ? key : null
      } else if (inArray && depth === 2 && elementStart < 0) elementStart = i
      i = q + 1
    } else if (isDigit(c) || c === MINUS) {
      let k = c === MINUS ? i + 1 : i
      const digitsStart = k
      while (k < n && isDigit(b[k] ?? 0)) k++
      const after = k < n ? (b[k] ?? 0) : 0
      const isBig = k - digitsStart >= 16 && after !== DOT && after !== LOWER_E && after !== UPPER_E
      const digitsEnd = k
      // the rest of this number: fraction and exponent digits are never an integer literal of their own
      while (k < n) {
        const d = b[k] ?? 0
        if (isDigit(d) || d === DOT || d === LOWER_E || d === UPPER_E || d === PLUS || d === MINUS) k++
        else break
      }
      if (inArray && depth >= 2) {
        if (depth === 2 && elementStart < 0) elementStart = i
        if (isBig) bigInts.push(i, digitsEnd)
      }
      i = k
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 0) started = true
      if (inArray && depth === 2 && elementStart < 0) elementStart = i
      depth++
      if (depth === 2 && c === OPEN_BRACKET && lastKey === field && !arrayDone) {
        inArray = true
        envelopeParts.push(b.toString("utf8", envelopeStart, i + 1))
      }
      i++
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
      if (inArray && depth === 1) {
        if (elementStart >= 0) endElement(i)
        inArray = false
        arrayDone = true
        envelopeStart = i
      } else if (inArray && depth === 2 && elementStart >= 0) {
        endElement(i + 1)
      }
      if (depth < 0) throw new JsonSplitError("unbalanced JSON")
      i++
    } else if (c === COMMA) {
      if (inArray && depth === 2 && elementStart >= 0) endElement(i)
      i++
    } else if (c === COLON) {
      if (depth === 1) lastKey = pendingKey
      i++
    } else {
      if (!isSpace(c) && inArray && depth === 2 && elementStart < 0) elementStart = i
      i++
    }
  }
  if (depth !== 0 || !started) throw new JsonSplitError("the JSON document is incomplete")
  if (!arrayDone) throw new JsonSplitError(`no "${field}" array in the JSON object`)
  envelopeParts.push(b.toString("utf8", envelopeStart, n))
  return new SplitJsonArray(body, bounds, bigInts, bigFrom, envelopeParts.join(""))
}
