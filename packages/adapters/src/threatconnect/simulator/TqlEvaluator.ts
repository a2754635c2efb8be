/**
 * A TQL parser and evaluator for the subset tisync emits and a little more (reference/threatconnect-api.md §4):
 * `AND`/`OR`/`NOT`, parentheses, `= == EQ EQUALS != NE > GT < LT >= GEQ <= LEQ IN, NOT IN, LIKE, NOT LIKE,
 * CONTAINS, STARTSWITH, ENDSWITH, IS [NOT] NULL`, string literals in double or single quotes with the
 * documented backslash escapes (`\\ \" \' \``), numbers, booleans, lists, and the `hasTag(...)` /
 * `hasSecurityLabel(...)` sub-queries. Keywords and operators are case-insensitive. Date literals are
 * `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM:SSZ`; milliseconds are refused, as real
 * ThreatConnect refuses them (§6.2).
 */

export class TqlParseError extends Error {
  override readonly name = "TqlParseError"
}

export type TqlScalar = string | number | boolean
export type TqlKind = "string" | "number" | "date" | "boolean" | "id"

export interface TqlKeyword {
  readonly kind: TqlKind
  /** Compare strings ignoring case (tag names, security labels). */
  readonly caseInsensitive?: boolean
}

/** A sub-query keyword (`hasTag`) and the keywords valid inside it. */
export interface TqlSubQuery {
  readonly keywords: Readonly<Record<string, TqlKeyword>>
}

export interface TqlLanguage {
  readonly keywords: Readonly<Record<string, TqlKeyword>>
  readonly subQueries: Readonly<Record<string, TqlSubQuery>>
}

export type TqlOperator = "=" | "!=" | ">" | "<" | ">=" | "<=" | "in" | "not in" | "like" | "not like" | "contains" | "not contains" | "startswith" | "not startswith" | "endswith" | "not endswith"

export type TqlExpr =
  | { readonly _tag: "And"; readonly left: TqlExpr; readonly right: TqlExpr }
  | { readonly _tag: "Or"; readonly left: TqlExpr; readonly right: TqlExpr }
  | { readonly _tag: "Not"; readonly expr: TqlExpr }
  | { readonly _tag: "Compare"; readonly keyword: string; readonly op: TqlOperator; readonly values: ReadonlyArray<TqlScalar> }
  | { readonly _tag: "IsNull"; readonly keyword: string; readonly negated: boolean }
  | { readonly _tag: "Sub"; readonly keyword: string; readonly expr: TqlExpr }

/** What an expression is evaluated on: field values by (lower-case) keyword; dates as epoch millis; ids as decimal strings. */
export interface TqlSubject {
  readonly field: (keyword: string) => TqlScalar | ReadonlyArray<TqlScalar> | null
  readonly children: (subQuery: string) => ReadonlyArray<TqlSubject>
}

// ---------------------------------------------------------------------------------------------- lexer

type Token =
  | { readonly t: "str"; readonly v: string; readonly at: number }
  | { readonly t: "num"; readonly v: number; readonly at: number }
  | { readonly t: "word"; readonly v: string; readonly at: number }
  | { readonly t: "sym"; readonly v: string; readonly at: number }

const ESCAPABLE = new Set(["\\", '"', "'", "`"])

export const tokenizeTql = (text: string): Array<Token> => {
  const out: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const c = text.charAt(i)
    if (/\s/.test(c)) {
      i++
    } else if (c === '"' || c === "'") {
      const start = i
      let value = ""
      i++
      for (;;) {
        if (i >= text.length) throw new TqlParseError(`unterminated string starting at ${start}`)
        const d = text.charAt(i)
        if (d === "\\") {
          const e = text.charAt(i + 1)
          if (!ESCAPABLE.has(e)) throw new TqlParseError(`invalid escape \\${e} at ${i}`)
          value += e
          i += 2
        } else if (d === c) {
          i++
          break
        } else {
          value += d
          i++
        }
      }
      out.push({ t: "str", v: value, at: start })
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(text.charAt(i + 1)))) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i))
      const lexeme = m?.[0] ?? c
      out.push({ t: "num", v: Number(lexeme), at: i })
      i += lexeme.length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))
      const lexeme = m?.[0] ?? c
      out.push({ t: "word", v: lexeme, at: i })
      i += lexeme.length
    } else {
      const two = text.slice(i, i + 2)
      if (two === ">=" || two === "<=" || two === "!=" || two === "==" || two === "<>") {
        out.push({ t: "sym", v: two === "==" ? "=" : two === "<>" ? "!=" : two, at: i })
        i += 2
      } else if ("=<>(),".includes(c)) {
        out.push({ t: "sym", v: c, at: i })
        i++
      } else {
        throw new TqlParseError(`unexpected character '${c}' at ${i}`)
      }
    }
  }
  return out
}

// --------------------------------------------------------------------------------------------- parser

const WORD_OPERATORS: Record<string, TqlOperator> = {
  eq: "=", equals: "=", ne: "!=", gt: ">", lt: "<", geq: ">=", leq: "<=", in: "in", like: "like",
  contains: "contains", startswith: "startswith", endswith: "endswith"
}
const SYMBOL_OPERATORS: Record<string, TqlOperator> = { "=": "=", "!=": "!=", ">": ">", "<": "<", ">=": ">=", "<=": "<=" }
const NEGATED: Partial<Record<TqlOperator, TqlOperator>> = {
  in: "not in", like: "not like", contains: "not contains", startswith: "not startswith", endswith: "not endswith"
}

const DATE_LITERAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z)?)?$/

/** A date literal to epoch millis (zone-less values read as UTC), or an error naming it. */
export const parseTqlDate = (literal: string): number => {
  const m = DATE_LITERAL.exec(literal)
  if (m === null) throw new TqlParseError(`invalid date '${literal}': expected yyyy-MM-dd, yyyy-MM-dd HH:mm[:ss] or yyyy-MM-ddTHH:mm:ssZ`)
  const [, y, mo, d, h, mi, s] = m
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0))
  if (Number.isNaN(ms)) throw new TqlParseError(`invalid date '${literal}'`)
  return ms
}

class Parser {
  private pos = 0
  constructor(
    private readonly tokens: ReadonlyArray<Token>,
    private readonly language: TqlLanguage
  ) {}

  parse(): TqlExpr {
    if (this.tokens.length === 0) throw new TqlParseError("empty query")
    const expr = this.or(this.language.keywords)
    const extra = this.tokens[this.pos]
    if (extra !== undefined) throw new TqlParseError(`unexpected '${extra.v}' at ${extra.at}`)
    return expr
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos]
  }
  private isWord(word: string, offset = 0): boolean {
    const t = this.tokens[this.pos + offset]
    return t !== undefined && t.t === "word" && t.v.toLowerCase() === word
  }
  private isSym(sym: string): boolean {
    const t = this.peek()
    return t !== undefined && t.t === "sym" && t.v === sym
  }
  private expectSym(sym: string): void {
    const t = this.peek()
    if (t === undefined || t.t !== "sym" || t.v !== sym) {
      throw new TqlParseError(t === undefined ? `expected '${sym}' at end of query` : `expected '${sym}' at ${t.at}, found '${t.v}'`)
    }
    this.pos++
  }

  private or(keywords: TqlLanguage["keywords"]): TqlExpr {
    let left = this.and(keywords)
    while (this.isWord("or")) {
      this.pos++
      left = { _tag: "Or", left, right: this.and(keywords) }
    }
    return left
  }
  private and(keywords: TqlLanguage["keywords"]): TqlExpr {
    let left = this.unary(keywords)
    while (this.isWord("and")) {
      this.pos++
      left = { _tag: "And", left, right: this.unary(keywords) }
    }
    return left
  }
  private unary(keywords: TqlLanguage["keywords"]): TqlExpr {
    if (this.isWord("not")) {
      this.pos++
      return { _tag: "Not", expr: this.unary(keywords) }
    }
    if (this.isSym("(")) {
      this.pos++
      const inner = this.or(keywords)
      this.expectSym(")")
      return inner
    }
    return this.comparison(keywords)
  }

  private comparison(keywords: TqlLanguage["keywords"]): TqlExpr {
    const t = this.peek()
    if (t === undefined) throw new TqlParseError("expected a parameter at end of query")
    if (t.t !== "word") throw new TqlParseError(`expected a parameter at ${t.at}, found '${t.v}'`)
    this.pos++
    const name = t.v.toLowerCase()
    const sub = this.language.subQueries[name]
    if (sub !== undefined && this.isSym("(")) {
      this.pos++
      const expr = this.or(sub.keywords)
      this.expectSym(")")
      return { _tag: "Sub", keyword: name, expr }
    }
    const keyword = keywords[name]
    if (keyword === undefined) throw new TqlParseError(`unknown parameter '${t.v}' at ${t.at}`)
    if (this.isWord("is")) {
      this.pos++
      const negated = this.isWord("not")
      if (negated) this.pos++
      if (!this.isWord("null")) throw new TqlParseError(`expected NULL after IS at ${this.peek()?.at ?? "end"}`)
      this.pos++
      return { _tag: "IsNull", keyword: name, negated }
    }
    const op = this.operator()
    const values = op === "in" || op === "not in" ? this.list(keyword) : [this.literal(keyword)]
    return { _tag: "Compare", keyword: name, op, values }
  }

  private operator(): TqlOperator {
    const t = this.peek()
    if (t === undefined) throw new TqlParseError("expected an operator at end of query")
    this.pos++
    if (t.t === "sym") {
      const op = SYMBOL_OPERATORS[t.v]
      if (op !== undefined) return op
    }
    if (t.t === "word") {
      const word = t.v.toLowerCase()
      if (word === "not") {
        const next = this.peek()
        const inner = next !== undefined && next.t === "word" ? WORD_OPERATORS[next.v.toLowerCase()] : undefined
        const negated = inner === undefined ? undefined : NEGATED[inner]
        if (negated === undefined) throw new TqlParseError(`expected IN, LIKE, CONTAINS, STARTSWITH or ENDSWITH after NOT at ${t.at}`)
        this.pos++
        return negated
      }
      const op = WORD_OPERATORS[word]
      if (op !== undefined) return op
    }
    throw new TqlParseError(`unknown operator '${t.v}' at ${t.at}`)
  }

  private list(keyword: TqlKeyword): Array<TqlScalar> {
    this.expectSym("(")
    const values = [this.literal(keyword)]
    while (this.isSym(",")) {
      this.pos++
      values.push(this.literal(keyword))
    }
    this.expectSym(")")
    return values
  }

  private literal(keyword: TqlKeyword): TqlScalar {
    const t = this.peek()
    if (t === undefined) throw new TqlParseError("expected a value at end of query")
    this.pos++
    switch (keyword.kind) {
      case "string":
        if (t.t === "str") return t.v
        break
      case "number":
        if (t.t === "num") return t.v
        break
      case "id":
        if (t.t === "num" && Number.isSafeInteger(t.v)) return String(t.v)
        if (t.t === "str" && /^-?\d+$/.test(t.v)) return t.v
        break
      case "date":
        if (t.t === "str") return parseTqlDate(t.v)
        break
      case "boolean":
        if (t.t === "word" && (t.v.toLowerCase() === "true" || t.v.toLowerCase() === "false")) return t.v.toLowerCase() === "true"
        break
    }
    throw new TqlParseError(`expected a ${keyword.kind} value at ${t.at}, found '${t.v}'`)
  }
}

/** Parses a TQL query; throws `TqlParseError` with a position on any error. */
export const parseTql = (text: string, language: TqlLanguage): TqlExpr => new Parser(tokenizeTql(text), language).parse()

// ------------------------------------------------------------------------------------------ evaluator

const likeToRegExp = (pattern: string): RegExp =>
  new RegExp(`^${pattern.split("%").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "is")

const compareScalar = (op: TqlOperator, actual: TqlScalar, expected: TqlScalar, keyword: TqlKeyword): boolean => {
  if (keyword.kind === "id" && typeof actual === "string" && typeof expected === "string") {
    const a = BigInt(actual)
    const b = BigInt(expected)
    return op === "=" ? a === b : op === "!=" ? a !== b : op === ">" ? a > b : op === "<" ? a < b : op === ">=" ? a >= b : op === "<=" ? a <= b : false
  }
  if (typeof actual === "string" && typeof expected === "string") {
    const a = keyword.caseInsensitive || op.includes("like") || op.includes("contains") || op.includes("with") ? actual.toLowerCase() : actual
    const b = keyword.caseInsensitive || op.includes("like") || op.includes("contains") || op.includes("with") ? expected.toLowerCase() : expected
    switch (op) {
      case "like":
        return likeToRegExp(b).test(a)
      case "contains":
        return a.includes(b)
      case "startswith":
        return a.startsWith(b)
      case "endswith":
        return a.endsWith(b)
      default:
        break
    }
    return op === "=" ? a === b : op === "!=" ? a !== b : op === ">" ? a > b : op === "<" ? a < b : op === ">=" ? a >= b : op === "<=" ? a <= b : false
  }
  if (typeof actual === "number" && typeof expected === "number") {
    return op === "=" ? actual === expected : op === "!=" ? actual !== expected : op === ">" ? actual > expected : op === "<" ? actual < expected : op === ">=" ? actual >= expected : op === "<=" ? actual <= expected : false
  }
  if (typeof actual === "boolean" && typeof expected === "boolean") {
    return op === "=" ? actual === expected : op === "!=" ? actual !== expected : false
  }
  return false
}

const POSITIVE: Partial<Record<TqlOperator, TqlOperator>> = {
  "not in": "in", "not like": "like", "not contains": "contains", "not startswith": "startswith", "not endswith": "endswith"
}

/** Evaluates a parsed expression. Null fields fail every comparison (an unset rating fails `rating >= 3`). */
export const evaluateTql = (expr: TqlExpr, subject: TqlSubject, language: TqlLanguage): boolean => {
  const go = (e: TqlExpr, s: TqlSubject, keywords: TqlLanguage["keywords"]): boolean => {
    switch (e._tag) {
      case "And":
        return go(e.left, s, keywords) && go(e.right, s, keywords)
      case "Or":
        return go(e.left, s, keywords) || go(e.right, s, keywords)
      case "Not":
        return !go(e.expr, s, keywords)
      case "IsNull": {
        const v = s.field(e.keyword)
        const isNull = v === null || (Array.isArray(v) && v.length === 0)
        return e.negated ? !isNull : isNull
      }
      case "Sub": {
        const sub = language.subQueries[e.keyword]
        return sub !== undefined && s.children(e.keyword).some((child) => go(e.expr, child, sub.keywords))
      }
      case "Compare": {
        const keyword = keywords[e.keyword]
        const raw = s.field(e.keyword)
        if (keyword === undefined || raw === null) return false
        const actual: ReadonlyArray<TqlScalar> = typeof raw === "object" ? raw : [raw]
        const positive = POSITIVE[e.op]
        if (positive !== undefined) return !go({ ...e, op: positive }, s, keywords)
        if (e.op === "in") return actual.some((a) => e.values.some((v) => compareScalar("=", a, v, keyword)))
        const expected = e.values[0]
        if (expected === undefined) return false
        if (e.op === "!=") return actual.length > 0 && actual.every((a) => compareScalar("!=", a, expected, keyword))
        return actual.some((a) => compareScalar(e.op, a, expected, keyword))
      }
    }
  }
  return go(expr, subject, language.keywords)
}

/** The indicator keywords the simulator (and the in-memory fake) understand (reference §4 keyword table). */
export const indicatorTqlLanguage: TqlLanguage = {
  keywords: {
    id: { kind: "id" },
    owner: { kind: "id" },
    ownername: { kind: "string" },
    typename: { kind: "string" },
    summary: { kind: "string" },
    rating: { kind: "number" },
    confidence: { kind: "number" },
    threatassessscore: { kind: "number" },
    falsepositivecount: { kind: "number" },
    observationcount: { kind: "number" },
    dateadded: { kind: "date" },
    lastmodified: { kind: "date" },
    indicatoractive: { kind: "boolean" },
    tag: { kind: "string", caseInsensitive: true },
    securitylabel: { kind: "string", caseInsensitive: true },
    description: { kind: "string" }
  },
  subQueries: {
    hastag: { keywords: { name: { kind: "string", caseInsensitive: true } } },
    hassecuritylabel: { keywords: { name: { kind: "string", caseInsensitive: true } } }
  }
}

/** Does the expression mention `indicatorActive`? (If not, only active records are listed: reference §2a.) */
export const mentionsKeyword = (expr: TqlExpr, keyword: string): boolean => {
  switch (expr._tag) {
    case "And":
    case "Or":
      return mentionsKeyword(expr.left, keyword) || mentionsKeyword(expr.right, keyword)
    case "Not":
      return mentionsKeyword(expr.expr, keyword)
    case "Sub":
      return false
    default:
      return expr.keyword === keyword
  }
}
