/**
 * Incremental splitting of a JSON object's array member into its elements, over bytes as they arrive.
 *
 * A ThreatConnect page is ~13 MB for 10,000 records. Turning it into one string and one `JSON.parse` graph
 * makes V8 hold (and later collect) three page-sized copies: the process went to 450-600 MB RSS. Here body
 * chunks are scanned as they arrive; each element of the `data` array leaves as its own small JSON text, with
 * integer literals of 16+ digits quoted (reference/threatconnect-api.md §6.1: ids above 2^53), to be parsed
 * and decoded at once. Memory is one record plus one chunk; garbage dies young.
 *
 * The scan jumps over string literals with `indexOf` and only looks at bytes between them. A token cut by a
 * chunk boundary is re-scanned when the next chunk arrives. Anything outside the array (status, next...)
 * is kept as the `envelope` text, with the array emptied.
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

export class JsonArraySplitter {
  private buf: Buffer = Buffer.alloc(0)
  /** Next byte to scan in `buf`. */
  private pos = 0
  private depth = 0
  private inArray = false
  private arrayDone = false
  private lastKey: string | null = null
  private pendingKey: string | null = null
  /** Start in `buf` of the element being read (-1: between elements). */
  private elementStart = -1
  /** Big integer literals in the current element: [start, end) in `buf`. */
  private bigInts: Array<number> = []
  /** Start in `buf` of envelope bytes not yet copied to `envelopeParts` (-1 inside the array). */
  private envelopeStart = 0
  private readonly envelopeParts: Array<string> = []
  private started = false

  constructor(private readonly field: string) {}

  /** Feed a chunk; returns the elements completed by it, as JSON texts. */
  push(chunk: Uint8Array): Array<string> {
    // Envelope bytes already scanned are copied out, so the buffer only ever keeps the element in progress
    // (or the token cut by the last boundary) plus the new chunk.
    if (this.envelopeStart >= 0 && this.pos > this.envelopeStart) {
      this.envelopeParts.push(this.buf.toString("utf8", this.envelopeStart, this.pos))
      this.envelopeStart = this.pos
    }
    const keep = this.elementStart >= 0 ? this.elementStart : this.pos
    const rest = this.buf.subarray(keep)
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    this.buf = rest.length === 0 ? incoming : Buffer.concat([rest, incoming])
    this.pos -= keep
    if (this.elementStart >= 0) this.elementStart -= keep
    if (this.envelopeStart >= 0) this.envelopeStart -= keep
    for (let i = 0; i < this.bigInts.length; i++) this.bigInts[i] = (this.bigInts[i] ?? 0) - keep
    return this.scan()
  }

  /** After the last chunk: the envelope text (array emptied). Throws if the document is incomplete. */
  end(): string {
    if (this.depth !== 0 || this.elementStart >= 0 || !this.started || this.pos !== this.buf.length) throw new JsonSplitError("the JSON document is incomplete")
    if (!this.arrayDone) throw new JsonSplitError(`no "${this.field}" array in the JSON object`)
    this.envelopeParts.push(this.buf.toString("utf8", this.envelopeStart, this.buf.length))
    return this.envelopeParts.join("")
  }

  private emit(end: number, out: Array<string>): void {
    const b = this.buf
    if (this.bigInts.length === 0) {
      out.push(b.toString("utf8", this.elementStart, end))
    } else {
      let text = ""
      let last = this.elementStart
      for (let i = 0; i < this.bigInts.length; i += 2) {
        const s = this.bigInts[i] ?? last
        const e = this.bigInts[i + 1] ?? s
        text += `${b.toString("utf8", last, s)}"${b.toString("latin1", s, e)}"`
        last = e
      }
      out.push(text + b.toString("utf8", last, end))
      this.bigInts = []
    }
    this.elementStart = -1
  }

  private scan(): Array<string> {
    const out: Array<string> = []
    const b = this.buf
    const n = b.length
    let i = this.pos
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
        if (q < 0) break // string cut by the chunk boundary
        if (this.depth === 1) {
          const key: unknown = JSON.parse(b.toString("utf8", i, q + 1))
          this.pendingKey = typeof key === "string" ? key : null
        }
        else if (this.inArray && this.depth === 2 && this.elementStart < 0) this.elementStart = i
        i = q + 1
      } else if (isDigit(c) || c === MINUS) {
        let k = c === MINUS ? i + 1 : i
        const digitsStart = k
        while (k < n && isDigit(b[k] ?? 0)) k++
        if (k >= n) break // number cut by the chunk boundary
        const after = b[k] ?? 0
        const isBig = k - digitsStart >= 16 && after !== DOT && after !== LOWER_E && after !== UPPER_E
        while (k < n) {
          const d = b[k] ?? 0
          if (isDigit(d) || d === DOT || d === LOWER_E || d === UPPER_E || d === PLUS || d === MINUS) k++
          else break
        }
        if (k >= n) break
        if (this.inArray && this.depth >= 2) {
          if (this.depth === 2 && this.elementStart < 0) this.elementStart = i
          if (isBig) this.bigInts.push(i, digitsStart + (k - digitsStart))
        }
        i = k
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.depth === 0) this.started = true
        if (this.inArray && this.depth === 2 && this.elementStart < 0) this.elementStart = i
        this.depth++
        if (this.depth === 2 && c === OPEN_BRACKET && this.lastKey === this.field && !this.arrayDone) {
          this.inArray = true
          this.envelopeParts.push(b.toString("utf8", this.envelopeStart, i + 1))
          this.envelopeStart = -1
        }
        i++
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--
        if (this.inArray && this.depth === 1) {
          if (this.elementStart >= 0) this.emit(i, out)
          this.inArray = false
          this.arrayDone = true
          this.envelopeStart = i
        } else if (this.inArray && this.depth === 2 && this.elementStart >= 0) {
          this.emit(i + 1, out)
        }
        if (this.depth < 0) throw new JsonSplitError("unbalanced JSON")
        i++
      } else if (c === COMMA) {
        if (this.inArray && this.depth === 2 && this.elementStart >= 0) this.emit(i, out)
        i++
      } else if (c === COLON) {
        if (this.depth === 1) this.lastKey = this.pendingKey
        i++
      } else {
        if (!isSpace(c) && this.inArray && this.depth === 2 && this.elementStart < 0) this.elementStart = i
        i++
      }
    }
    this.pos = i
    return out
  }
}
