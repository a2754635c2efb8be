import { createHash } from "node:crypto"
import { evaluateTql, indicatorTqlLanguage, mentionsKeyword, type TqlExpr, type TqlScalar, type TqlSubject } from "./TqlEvaluator.js"

/**
 * The simulator's indicator store, its deterministic data generator and the rendering of records in the
 * documented v3 shapes (reference/threatconnect-api.md §3a-§3c). Times are epoch milliseconds.
 */

export interface SimAttribute {
  readonly type: string
  readonly value: string
}

export interface SimIndicator {
  /** int64 as a decimal string (rendered as a bare JSON number, possibly above 2^53). */
  readonly id: string
  readonly ownerId: string
  readonly ownerName: string
  /** `Address`, `Host`, `URL`, `File` or any other ThreatConnect type. */
  readonly type: string
  /** The value; for a File, `MD5 : SHA1 : SHA256` (whichever exist). */
  readonly summary: string
  readonly dateAdded: number
  readonly lastModified: number
  readonly active: boolean
  readonly rating: number | null
  readonly confidence: number | null
  readonly threatAssessScore: number | null
  readonly falsePositives: number
  readonly observations: number
  readonly tags: ReadonlyArray<string>
  readonly securityLabels: ReadonlyArray<string>
  readonly attributes: ReadonlyArray<SimAttribute>
  readonly description: string | null
  /**
   * Fields written over the rendered record as given (JSON values), to serve records the adapter must reject:
   * `{ lastModified: "yesterday" }`, `{ ownerName: null }`...
   */
  readonly overrides?: Readonly<Record<string, unknown>>
}

export interface SimDeleted {
  readonly ownerName: string
  readonly type: string
  readonly summary: string
  readonly dateAdded: number
  readonly deletedAt: number
}

export type SimIndicatorInput = Partial<SimIndicator> & Pick<SimIndicator, "ownerName" | "type" | "summary">

export const SIM_OWNERS: readonly [{ readonly id: string; readonly name: string }, ...Array<{ readonly id: string; readonly name: string }>] = [
  { id: "1", name: "ACME Corp" },
  { id: "2", name: "Demo Community" },
  { id: "3", name: "Partner Source" },
  { id: "9007199254740993", name: "Common Community" }
]
const TAGS: readonly [string, ...Array<string>] = ["APT28", "Phishing", "Ransomware", "Botnet", "Targeted Attack", "C2", "Emotet"]
const LABELS: readonly [string, ...Array<string>] = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
const PHASES: readonly [string, ...Array<string>] = ["Reconnaissance", "Delivery", "Exploitation", "Installation", "Command and Control", "Actions on Objectives"]
const TLDS: readonly [string, ...Array<string>] = ["com", "net", "org", "io", "ru", "xyz"]
const WORDS: readonly [string, ...Array<string>] = ["badguy", "evil", "malware", "phish", "login-update", "cdn-sync", "payload", "dropper", "beacon"]

/** mulberry32: tiny, seeded, deterministic. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface GeneratorOptions {
  readonly count: number
  readonly seed?: number
  /** The newest lastModified; records spread over the 30 days before it. Default 2026-01-01T00:00:00Z. */
  readonly epoch?: number
  /** First id (decimal string); default 9007199254900000, above 2^53 so every id exercises lossless parsing. */
  readonly firstId?: string
}

export const DEFAULT_EPOCH = Date.UTC(2026, 0, 1)
export const DEFAULT_FIRST_ID = "9007199254900000"

/**
 * N indicators across four owners; types Address/Host/URL/File; tags, ratings, confidence, ThreatAssess scores,
 * false positives, TLP labels, "Phase of Intrusion" and "Last Seen" attributes; ~3% duplicates of a value in
 * another owner; ~3% invalid values (CIDR blocks, private addresses); ~3% inactive. Same options, same data.
 */
export const generateIndicators = (options: GeneratorOptions): Array<SimIndicator> => {
  const rnd = prng(options.seed ?? 42)
  const pick = <A>(xs: readonly [A, ...Array<A>]): A => xs[Math.floor(rnd() * xs.length)] ?? xs[0]
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const epoch = options.epoch ?? DEFAULT_EPOCH
  let nextId = BigInt(options.firstId ?? DEFAULT_FIRST_ID)
  const out: Array<SimIndicator> = []
  for (let i = 0; i < options.count; i++) {
    const owner = pick(SIM_OWNERS)
    const roll = rnd()
    let type: string
    let summary: string
    const previous = out.length > 0 ? out[int(0, out.length - 1)] : undefined
    if (roll < 0.03 && previous !== undefined && previous.ownerName !== owner.name) {
      type = previous.type
      summary = previous.summary
    } else if (roll < 0.38) {
      type = "Address"
      const v = rnd()
      summary = v < 0.02 ? `203.0.${int(0, 255)}.0/24` : v < 0.04 ? `192.168.${int(0, 255)}.${int(1, 254)}` : `${int(11, 99)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`
    } else if (roll < 0.63) {
      type = "Host"
      summary = `${pick(WORDS)}${i}.${pick(TLDS)}`
    } else if (roll < 0.78) {
      type = "URL"
      summary = `https://${pick(WORDS)}${i}.${pick(TLDS)}/path/${int(1, 9999)}?q=${i}`
    } else {
      type = "File"
      const h = (alg: string) => createHash(alg).update(`${options.seed ?? 42}:${i}`).digest("hex").toUpperCase()
      const parts = [h("md5"), rnd() < 0.6 ? h("sha1") : null, rnd() < 0.7 ? h("sha256") : null]
      summary = parts.filter((p) => p !== null).join(" : ")
    }
    const lastModified = epoch - int(0, 30 * 24 * 3600) * 1000
    const tags = TAGS.filter(() => rnd() < 0.18)
    const attributes: Array<SimAttribute> = []
    if (rnd() < 0.5) attributes.push({ type: "Phase of Intrusion", value: pick(PHASES) })
    if (rnd() < 0.5) attributes.push({ type: "Last Seen", value: new Date(lastModified - int(0, 86400) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") })
    out.push({
      id: String(nextId),
      ownerId: owner.id,
      ownerName: owner.name,
      type,
      summary,
      dateAdded: lastModified - int(0, 90 * 24 * 3600) * 1000,
      lastModified,
      active: rnd() >= 0.03,
      rating: rnd() < 0.1 ? null : int(0, 5),
      confidence: rnd() < 0.1 ? null : int(0, 100),
      threatAssessScore: rnd() < 0.05 ? null : int(0, 1000),
      falsePositives: rnd() < 0.85 ? 0 : int(1, 5),
      observations: int(0, 50),
      tags,
      securityLabels: rnd() < 0.6 ? [pick(LABELS)] : [],
      attributes,
      description: rnd() < 0.3 ? `Seen in campaign ${int(1, 40)}` : null
    })
    nextId += 1n
  }
  return out
}

// ------------------------------------------------------------------------------------------ TQL subject

const fileHashesOfSummary = (summary: string) => {
  const out: { md5?: string; sha1?: string; sha256?: string } = {}
  for (const part of summary.split(":")) {
    const h = part.trim()
    if (h.length === 32) out.md5 = h
    else if (h.length === 40) out.sha1 = h
    else if (h.length === 64) out.sha256 = h
  }
  return out
}

/** The fields TQL sees on a stored record. */
export const simIndicatorSubject = (r: SimIndicator): TqlSubject => ({
  field: (keyword): TqlScalar | ReadonlyArray<TqlScalar> | null => {
    switch (keyword) {
      case "id":
        return r.id
      case "owner":
        return r.ownerId
      case "ownername":
        return r.ownerName
      case "typename":
        return r.type
      case "summary":
        return r.summary
      case "rating":
        return r.rating
      case "confidence":
        return r.confidence
      case "threatassessscore":
        return r.threatAssessScore
      case "falsepositivecount":
        return r.falsePositives
      case "observationcount":
        return r.observations
      case "dateadded":
        return r.dateAdded
      case "lastmodified":
        return r.lastModified
      case "indicatoractive":
        return r.active
      case "tag":
        return r.tags
      case "securitylabel":
        return r.securityLabels
      case "description":
        return r.description
      default:
        return null
    }
  },
  children: (sub) => {
    const names = sub === "hastag" ? r.tags : sub === "hassecuritylabel" ? r.securityLabels : []
    return names.map((name) => ({ field: (k) => (k === "name" ? name : null), children: () => [] }))
  }
})

// -------------------------------------------------------------------------------------------- rendering

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

const TLP_COLORS: Record<string, string> = { "TLP:CLEAR": "FFFFFF", "TLP:WHITE": "FFFFFF", "TLP:GREEN": "33FF00", "TLP:AMBER": "FFC000", "TLP:AMBER+STRICT": "FFC000", "TLP:RED": "FF0033" }

const tagId = (name: string): number => {
  let h = 7
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 100000
  return h
}

export const SUPPORTED_FIELDS = new Set([
  "tags", "attributes", "securityLabels", "threatAssess", "falsePositives", "observations", "sightings", "associatedGroups"
])

/**
 * One record as JSON text, with the fields requested. Ids and owner ids are bare number literals (as the
 * real API sends them, above 2^53 too) and `rating` is written `3.00` (a Big Decimal upstream).
 */
export const renderIndicator = (r: SimIndicator, fields: ReadonlySet<string>, webBase: string): string => {
  const body: Record<string, unknown> = {
    ownerName: r.ownerName,
    dateAdded: iso(r.dateAdded),
    webLink: `${webBase}/#/details/indicators/${r.id}/overview`,
    type: r.type,
    lastModified: iso(r.lastModified)
  }
  if (fields.has("tags")) {
    body.tags = { data: r.tags.map((name) => ({ id: tagId(name), name, lastUsed: iso(r.lastModified) })) }
  }
  if (fields.has("securityLabels")) {
    body.securityLabels = {
      data: r.securityLabels.map((name) => ({ id: tagId(name), name, description: `${name} label`, color: TLP_COLORS[name] ?? "FFFFFF", owner: "System", dateAdded: "2016-08-31T00:00:00Z" }))
    }
  }
  if (r.confidence !== null) body.confidence = r.confidence
  if (fields.has("threatAssess")) {
    body.threatAssessRating = r.rating ?? 0
    body.threatAssessConfidence = r.confidence ?? 0
    body.threatAssessScore = r.threatAssessScore ?? undefined
    body.threatAssessScoreObserved = 0
    body.threatAssessScoreFalsePositive = 0
    body.calScore = r.threatAssessScore ?? undefined
  }
  if (r.description !== null) body.description = r.description
  body.summary = r.summary
  if (fields.has("observations")) body.observations = r.observations
  if (fields.has("falsePositives")) {
    body.falsePositives = r.falsePositives
    if (r.falsePositives > 0) body.lastFalsePositive = iso(r.lastModified)
    body.falsePositiveReportedByUser = false
  }
  body.privateFlag = false
  body.active = r.active
  body.activeLocked = false
  if (fields.has("attributes")) {
    body.attributes = {
      data: r.attributes.map((a, i) => ({
        id: i + 1,
        dateAdded: iso(r.dateAdded),
        type: a.type,
        value: a.value,
        createdBy: { id: 3, userName: "11112222333344445555", firstName: "Sim", lastName: "User", pseudonym: "simAPI", owner: r.ownerName },
        lastModified: iso(r.lastModified),
        pinned: false,
        default: false
      }))
    }
  }
  if (fields.has("associatedGroups")) body.associatedGroups = { data: [] }
  switch (r.type) {
    case "Address":
      body.ip = r.summary
      break
    case "Host":
      body.hostName = r.summary
      body.dnsActive = false
      body.whoisActive = false
      break
    case "URL":
      body.text = r.summary
      break
    case "File":
      Object.assign(body, fileHashesOfSummary(r.summary))
      body.size = 24576
      break
  }
  body.legacyLink = `${webBase}/auth/indicators/details/${r.type.toLowerCase()}.xhtml?owner=${encodeURIComponent(r.ownerName).replace(/%20/g, "+")}`
  const json = JSON.stringify(body)
  const rating = r.rating === null ? "" : `"rating":${r.rating.toFixed(2)},`
  const head = `{"id":${r.id},"ownerId":${r.ownerId},${rating}`
  if (r.overrides === undefined) return head + json.slice(1)
  // Overrides replace fields (ids included) so malformed records can be served.
  const { id, ownerId, ...rest } = r.overrides
  const idText = id === undefined ? r.id : JSON.stringify(id)
  const ownerText = ownerId === undefined ? r.ownerId : JSON.stringify(ownerId)
  return `{"id":${idText},"ownerId":${ownerText},${rating}${JSON.stringify({ ...body, ...rest }).slice(1)}`
}

export const renderDeleted = (d: SimDeleted): string =>
  JSON.stringify({ ownerName: d.ownerName, dateAdded: iso(d.dateAdded), type: d.type, summary: d.summary })

// ----------------------------------------------------------------------------------------------- store

export type SortKey = "lastModified" | "dateAdded" | "id" | "rating" | "confidence" | "threatAssessScore" | "summary" | "ownerName"
const SORT_KEYS: ReadonlyArray<SortKey> = ["lastModified", "dateAdded", "id", "rating", "confidence", "threatAssessScore", "summary", "ownerName"]
export const isSortKey = (s: string): s is SortKey => SORT_KEYS.some((k) => k === s)
export interface Sorting {
  readonly key: SortKey
  readonly desc: boolean
}

const compareIds = (a: string, b: string): number => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0)

const compareBy = (key: SortKey, a: SimIndicator, b: SimIndicator): number => {
  if (key === "id") return compareIds(a.id, b.id)
  const x = a[key]
  const y = b[key]
  if (x === y) return 0
  if (x === null) return 1
  if (y === null) return -1
  return x < y ? -1 : 1
}

/** Mutable store of indicators and deletions; `version` moves on every change (queries are cached per version). */
export class SimulatorStore {
  private readonly records = new Map<string, SimIndicator>()
  private deletedList: Array<SimDeleted> = []
  private version = 0
  private cache: { key: string; version: number; result: ReadonlyArray<SimIndicator> } | null = null
  private nextId = BigInt(DEFAULT_FIRST_ID) + 10_000_000n

  constructor(private readonly now: () => number) {}

  all(): ReadonlyArray<SimIndicator> {
    return [...this.records.values()]
  }
  get(id: string): SimIndicator | undefined {
    return this.records.get(id)
  }
  deleted(): ReadonlyArray<SimDeleted> {
    return this.deletedList
  }

  /** Replace everything (deletions included). */
  reset(records: ReadonlyArray<SimIndicator> = []): void {
    this.records.clear()
    this.deletedList = []
    for (const r of records) this.records.set(r.id, r)
    this.touch()
  }

  /** Add one record; missing fields get neutral defaults, the id the next free one, times `now`. */
  add(input: SimIndicatorInput): SimIndicator {
    const at = input.lastModified ?? this.now()
    let id = input.id
    if (id === undefined) {
      while (this.records.has(String(this.nextId))) this.nextId += 1n
      id = String(this.nextId)
      this.nextId += 1n
    }
    const owner = SIM_OWNERS.find((o) => o.name === input.ownerName)
    const record: SimIndicator = {
      ownerId: owner?.id ?? "99",
      dateAdded: at,
      active: true,
      rating: null,
      confidence: null,
      threatAssessScore: null,
      falsePositives: 0,
      observations: 0,
      tags: [],
      securityLabels: [],
      attributes: [],
      description: null,
      ...input,
      id,
      lastModified: at
    }
    this.records.set(id, record)
    this.touch()
    return record
  }

  /** Change a record; `lastModified` moves to `at` (default now) unless the patch sets it. */
  modify(id: string, patch: Partial<Omit<SimIndicator, "id">>, at: number = this.now()): SimIndicator {
    const current = this.records.get(id)
    if (current === undefined) throw new Error(`no simulator indicator ${id}`)
    const next: SimIndicator = { ...current, lastModified: at, ...patch }
    this.records.set(id, next)
    this.touch()
    return next
  }

  /** Change a record without moving `lastModified` (a ThreatAssess recomputation, a tag renamed elsewhere). */
  modifySilently(id: string, patch: Partial<Omit<SimIndicator, "id" | "lastModified">>): SimIndicator {
    const current = this.records.get(id)
    if (current === undefined) throw new Error(`no simulator indicator ${id}`)
    return this.modify(id, patch, current.lastModified)
  }

  deactivate(id: string, at: number = this.now()): SimIndicator {
    return this.modify(id, { active: false }, at)
  }

  /** Delete a record: it leaves the listing and appears in `/v3/indicators/deleted`. */
  remove(id: string, at: number = this.now()): void {
    const current = this.records.get(id)
    if (current === undefined) throw new Error(`no simulator indicator ${id}`)
    this.records.delete(id)
    this.deletedList.push({ ownerName: current.ownerName, type: current.type, summary: current.summary, dateAdded: current.dateAdded, deletedAt: at })
    this.touch()
  }

  private touch(): void {
    this.version++
    this.cache = null
  }

  /** Records matching a parsed query (active only unless it mentions `indicatorActive`), sorted, id as tiebreak. */
  query(tqlText: string, expr: TqlExpr | null, sorting: ReadonlyArray<Sorting>): ReadonlyArray<SimIndicator> {
    const key = `${tqlText}\u0000${sorting.map((s) => `${s.key}:${s.desc}`).join(",")}`
    if (this.cache !== null && this.cache.key === key && this.cache.version === this.version) return this.cache.result
    const onlyActive = expr === null || !mentionsKeyword(expr, "indicatoractive")
    const result = [...this.records.values()].filter(
      (r) => (!onlyActive || r.active) && (expr === null || evaluateTql(expr, simIndicatorSubject(r), indicatorTqlLanguage))
    )
    result.sort((a, b) => {
      for (const s of sorting) {
        const c = compareBy(s.key, a, b)
        if (c !== 0) return s.desc ? -c : c
      }
      return compareIds(a.id, b.id)
    })
    this.cache = { key, version: this.version, result }
    return result
  }
}
