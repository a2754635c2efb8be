import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { createHash, createPublicKey, randomUUID, verify, X509Certificate, constants as cryptoConstants } from "node:crypto"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import { compileFilter } from "./ODataFilter.js"
import { checkIndicatorValue, isRejection, validateIndicatorBody, type SimIndicatorInput } from "./SimulatorValueRules.js"
import { TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM, TEST_CA_PEM } from "./TestTls.js"

/**
 * A loopback Microsoft Defender for Endpoint simulator (DESIGN §5): Entra's client-credentials token
 * endpoint and OpenID metadata over TLS (MSAL refuses http authorities, reference/defender-api.md §1.4),
 * and the indicators API with the documented behaviour (§2-§4): bearer check, case-sensitive bodies,
 * value and enum validation with Defender's error codes, upsert on (value, type, action), the tenant cap,
 * foreign indicators, per-endpoint rate limits with 429 + Retry-After, and fault switches. Every request
 * lands in a journal tests can read.
 */
export type SimEndpoint = "import" | "submit" | "list" | "delete" | "batchDelete"
const ENDPOINTS: ReadonlyArray<SimEndpoint> = ["import", "submit", "list", "delete", "batchDelete"]

/** Documented limits (§0): per minute, per hour (null: none documented). */
export const DOCUMENTED_RATE_LIMITS: Readonly<Record<SimEndpoint, { readonly perMinute: number; readonly perHour: number | null }>> = {
  import: { perMinute: 30, perHour: null },
  submit: { perMinute: 100, perHour: 1500 },
  list: { perMinute: 100, perHour: 1500 },
  delete: { perMinute: 100, perHour: 1500 },
  batchDelete: { perMinute: 30, perHour: 1500 }
}

export type SimFault =
  /** Answer with this HTTP status (500, 503...) and Defender's error body. */
  | { readonly kind: "status"; readonly status: number; readonly retryAfterSeconds?: number }
  /** Destroy the connection without an answer. */
  | { readonly kind: "drop" }
  /** Answer 429 with this Retry-After. */
  | { readonly kind: "throttle"; readonly retryAfterSeconds: number }
  /** Expire every issued token just before handling the call (token expiry mid-run): the call gets 401. */
  | { readonly kind: "expireTokens" }
  /** Hang for this long before handling the call (for timeouts). */
  | { readonly kind: "delay"; readonly ms: number }

export interface SimFaultRule {
  readonly endpoint: SimEndpoint
  /** 1-based call numbers of that endpoint (every request counts, rejected ones too), or every call. */
  readonly calls: ReadonlyArray<number> | "all"
  readonly fault: SimFault
}

export interface SimJournalEntry {
  readonly seq: number
  readonly endpoint: SimEndpoint | "token" | "openid" | "unknown"
  /** The call number of that endpoint (1-based). */
  readonly call: number
  readonly method: string
  readonly path: string
  readonly status: number | "dropped"
  readonly atMillis: number
  /** Items in an import / BatchDelete body. */
  readonly items: number
  /** Items an import answered with `isFailed: true`. */
  readonly failedItems: number
  /** Time the simulator spent on the request, from its arrival to the answer (ms, fractional). */
  readonly durationMillis: number
}

/** One item an import call stored (created or updated in place). */
export interface SimImportedValue {
  readonly indicatorType: string
  /** As sent. */
  readonly indicatorValue: string
  /** The body without `expirationTime` (JSON): equal contents mean the same write again, a renewal aside. */
  readonly content: string
  /** The client was still connected when the answer was written (false: it had given up, e.g. timed out). */
  readonly answered: boolean
}

export interface SimStoredIndicator extends SimIndicatorInput {
  readonly id: string
  readonly createdBy: string
  readonly createdBySource: string
  readonly createdByDisplayName: string
  readonly creationTimeDateTimeUtc: string
  readonly lastUpdateTime: string
  readonly lastUpdatedBy: string
}

export interface ForeignIndicatorSeed {
  readonly indicatorValue: string
  readonly indicatorType: string
  readonly action?: string
  readonly title?: string
  readonly expirationTime?: string | null
  /** Defaults to another application's id. */
  readonly createdBy?: string
  /** Served as a comma-separated string when `rbacAsString` (Defender's documented shape). */
  readonly rbacGroupNames?: ReadonlyArray<string>
  readonly rbacAsString?: boolean
}

export interface DefenderSimulatorOptions {
  readonly tenantId?: string
  readonly clientId?: string
  readonly clientSecret?: string
  /** PEM with the certificate of a registered certificate credential (private key ignored). */
  readonly clientCertificatePem?: string
  /** The resource whose `/.default` scope tokens are issued for. */
  readonly resource?: string
  /** Seconds a token lives (Entra: 3599). */
  readonly tokenLifetimeSeconds?: number
  /** Serve the API over TLS with the test certificate too (default: plain http on loopback). */
  readonly apiTls?: boolean
  /** Tenant cap (default 15,000). */
  readonly cap?: number
  /** Enforce the documented per-endpoint limits (default true). */
  readonly rateLimits?: boolean
  /** Simulated seconds per real second for the rate-limit windows (60: a minute lasts one second). */
  readonly timeScale?: number
  /** BatchDelete with an unknown id deletes nothing (default true; the docs leave it open, §2.5). */
  readonly batchDeleteAtomic?: boolean
  /** Add `@odata.nextLink` to every list page that is followed by more (default: only when `$top` is absent). */
  readonly alwaysNextLink?: boolean
  /** More tenants the token endpoint serves: one multi-tenant app consented in each (DESIGN §7). */
  readonly otherTenants?: ReadonlyArray<string>
  /**
   * Accept bearer tokens issued by this other simulator's token endpoint for this simulator's tenant:
   * two tenants' Defender APIs behind one Entra, for tests with several targets.
   */
  readonly tokensFrom?: DefenderSimulator
}

export interface DefenderSimulator {
  /** Base URL of the API (tisync appends `/api/indicators...`). */
  readonly apiUrl: string
  /** `https://localhost:<port>`: pass as `AZURE_AUTHORITY_HOST`. */
  readonly authorityHost: string
  readonly tenantId: string
  readonly clientId: string
  readonly clientSecret: string
  readonly resource: string
  /** The CA that signed the simulator's certificates. */
  readonly caPem: string
  /** The app id recorded as `createdBy` of indicators this client creates. */
  readonly appId: string
  readonly journal: () => ReadonlyArray<SimJournalEntry>
  readonly clearJournal: () => void
  /** API requests received per endpoint, rejected ones included. */
  readonly callCounts: () => Readonly<Record<SimEndpoint, number>>
  readonly indicators: () => ReadonlyArray<SimStoredIndicator>
  /** Every item an import call stored, in order (for "no value imported more often than needed"). */
  readonly importedValues: () => ReadonlyArray<SimImportedValue>
  readonly seedForeign: (seeds: ReadonlyArray<ForeignIndicatorSeed>) => ReadonlyArray<string>
  /** Creates indicators as if this client had submitted them (fast set-up for big tenants). */
  readonly seedOwn: (bodies: ReadonlyArray<SimIndicatorInput>) => ReadonlyArray<string>
  readonly setFaults: (rules: ReadonlyArray<SimFaultRule>) => void
  /**
   * Requests to this endpoint wait, once arrived and counted, until `release` is called: a call kept in
   * flight for exactly as long as a test needs, whatever the machine's speed.
   */
  readonly hold: (endpoint: SimEndpoint) => { readonly release: () => void }
  /** Latency added to every API answer. */
  readonly setLatency: (ms: number) => void
  /** Import items with these values answer `isFailed: true` with this reason. */
  readonly failImportValues: (values: ReadonlyArray<string>, reason?: string) => void
  readonly setRateLimits: (enabled: boolean, timeScale?: number) => void
  readonly setCap: (cap: number) => void
  readonly expireTokens: () => void
  /** Number of 429 answers given because a rate limit was exceeded (forced throttles not included). */
  readonly rateLimitRejections: () => number
  readonly tokensIssued: () => number
  /** The client id a bearer token was issued to for `tenant`, if it is valid now. */
  readonly tokenClient: (token: string, tenant: string) => string | null
  /**
   * Import items applied (created or updated in place), per `<indicatorType>|<lower-case value>`: how many
   * times each value was imported, for tests asserting nothing is imported more often than needed.
   */
  readonly importsPerValue: () => ReadonlyMap<string, number>
  /** Empties the tenant, the journal, counters, faults and limits' windows (issued tokens stay valid). */
  readonly reset: () => void
}

export class DefenderSimulatorTag extends Context.Tag("@tisync/adapters/DefenderSimulator")<DefenderSimulatorTag, DefenderSimulator>() {}

const FOREIGN_APP_ID = "11111111-2222-3333-4444-555555555555"
export const DEFAULT_SIM_TENANT_ID = "72f988bf-0000-4000-8000-00000000cafe"
export const DEFAULT_SIM_CLIENT_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
export const DEFAULT_SIM_CLIENT_SECRET = "sim-secret-never-logged"
const CAP_MESSAGE = (cap: number) => `Tenant reached the maximum allowed number of active indicators (${cap}). Increases to this limit are not supported.`

const readBody = (req: http.IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const b64url = (buf: Buffer): string => buf.toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")
const fromB64url = (s: string): Buffer => Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64")

const listen = (server: http.Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address: AddressInfo | string | null = server.address()
      if (address === null || typeof address === "string") reject(new Error("the simulator has no TCP address"))
      else resolve(address.port)
    })
  })

/** Starts the simulator; both servers close when the scope closes. */
export const makeDefenderSimulator = (
  options: DefenderSimulatorOptions = {}
): Effect.Effect<DefenderSimulator, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => startDefenderSimulator(options)), (s) => Effect.promise(() => s.close()))
    .pipe(Effect.map((s) => s.simulator))

export const DefenderSimulatorLive = (options: DefenderSimulatorOptions = {}): Layer.Layer<DefenderSimulatorTag> =>
  Layer.scoped(DefenderSimulatorTag, makeDefenderSimulator(options))

/** Promise form for plain-JS callers (benchmarks): remember to `close()`. */
export const startDefenderSimulator = async (
  options: DefenderSimulatorOptions = {}
): Promise<{ readonly simulator: DefenderSimulator; readonly close: () => Promise<void> }> => {
  const tenantId = options.tenantId ?? DEFAULT_SIM_TENANT_ID
  const clientId = options.clientId ?? DEFAULT_SIM_CLIENT_ID
  const clientSecret = options.clientSecret ?? DEFAULT_SIM_CLIENT_SECRET
  const resource = options.resource ?? "https://api.securitycenter.microsoft.com"
  const tokenLifetime = options.tokenLifetimeSeconds ?? 3599
  const clientCert = options.clientCertificatePem === undefined ? null : new X509Certificate(options.clientCertificatePem)
  const batchDeleteAtomic = options.batchDeleteAtomic ?? true

  // ---- state --------------------------------------------------------------------------------------
  let cap = options.cap ?? 15_000
  let rateLimitsOn = options.rateLimits ?? true
  let timeScale = options.timeScale ?? 1
  let faults: ReadonlyArray<SimFaultRule> = []
  let latencyMs = 0
  let failValues = new Map<string, string>()
  let nextId = 1
  let seq = 0
  let rateRejections = 0
  let issued = 0
  const store = new Map<string, SimStoredIndicator>()
  const tokens = new Map<string, { expiresAt: number; clientId: string; tenant: string }>()
  const tenants = new Set([tenantId, ...(options.otherTenants ?? [])])
  const tokenClient = (token: string, tenant: string): string | null => {
    const t = tokens.get(token)
    return t !== undefined && t.expiresAt > Date.now() && t.tenant === tenant ? t.clientId : null
  }
  const journal: Array<SimJournalEntry> = []
  const imported: Array<SimImportedValue> = []
  const importedValues = new Map<string, number>()
  const gates = new Map<SimEndpoint, Promise<void>>()
  const counts: Record<SimEndpoint, number> = { import: 0, submit: 0, list: 0, delete: 0, batchDelete: 0 }
  const accepted: Record<SimEndpoint, Array<number>> = { import: [], submit: [], list: [], delete: [], batchDelete: [] }
  const sockets = new Set<import("node:net").Socket>()

  const nowIso = () => new Date().toISOString()
  const identity = (type: string, value: string, action: string) => `${type}|${value.toLowerCase()}|${action}`
  /** Expired indicators leave the tenant at their expiration second (§3.4). */
  let lastPurge = 0
  const purgeExpired = () => {
    const now = Date.now()
    if (now - lastPurge < 200) return // a sweep over 15,000 entries per request would dominate benchmarks
    lastPurge = now
    for (const [k, i] of store) if (i.expirationTime !== null && Date.parse(i.expirationTime) <= now) store.delete(k)
  }
  const keyById = new Map<string, string>()
  const findById = (id: string): [string, SimStoredIndicator] | undefined => {
    const key = keyById.get(id)
    const found = key === undefined ? undefined : store.get(key)
    return key === undefined || found === undefined || found.id !== id ? undefined : [key, found]
  }

  const upsert = (body: SimIndicatorInput, appId: string): SimStoredIndicator | "cap" => {
    const key = identity(body.indicatorType, body.indicatorValue, body.action)
    const existing = store.get(key)
    const now = nowIso()
    if (existing !== undefined) {
      // "application ... only works for new indicators; it doesn't update the value" (§2.1).
      const updated: SimStoredIndicator = { ...existing, ...body, application: existing.application, lastUpdateTime: now, lastUpdatedBy: appId }
      store.set(key, updated)
      return updated
    }
    if (store.size >= cap) return "cap"
    const created: SimStoredIndicator = {
      ...body,
      id: String(nextId++),
      createdBy: appId,
      createdBySource: "PublicApi",
      createdByDisplayName: appId === clientId ? "tisync" : "Other app",
      creationTimeDateTimeUtc: now,
      lastUpdateTime: now,
      lastUpdatedBy: appId
    }
    store.set(key, created)
    keyById.set(created.id, key)
    return created
  }

  const render = (i: SimStoredIndicator, rbacAsString = false): Record<string, unknown> => ({
    id: i.id,
    indicatorValue: i.indicatorValue,
    indicatorType: i.indicatorType,
    action: i.action,
    createdBy: i.createdBy,
    createdBySource: i.createdBySource,
    createdByDisplayName: i.createdByDisplayName,
    severity: i.severity ?? "Informational",
    category: 1, // an integer in real responses (§3)
    application: i.application,
    educateUrl: i.educateUrl,
    bypassDurationHours: null,
    title: i.title,
    description: i.description,
    recommendedActions: i.recommendedActions,
    creationTimeDateTimeUtc: i.creationTimeDateTimeUtc,
    expirationTime: i.expirationTime,
    lastUpdateTime: i.lastUpdateTime,
    lastUpdatedBy: i.lastUpdatedBy,
    rbacGroupNames: rbacAsString ? i.rbacGroupNames.join(",") : i.rbacGroupNames,
    rbacGroupIds: [],
    notificationId: null,
    notificationBody: null,
    version: null,
    mitreTechniques: [],
    historicalDetection: false,
    lookBackPeriod: null,
    generateAlert: i.generateAlert ?? false,
    additionalInfo: null,
    externalId: i.externalId,
    certificateInfo: null
  })
  const rbacStringIds = new Set<string>()

  // ---- helpers --------------------------------------------------------------------------------------
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? "" : JSON.stringify(body)
    res.writeHead(status, {
      ...(text.length > 0 ? { "content-type": "application/json; odata.metadata=minimal" } : {}),
      ...headers
    })
    res.end(text)
  }
  const errorBody = (code: string, message: string) => ({ error: { code, message, target: randomUUID() } })

  /** Sliding windows: no more than N accepted calls in any minute / hour of simulated time. */
  const rateCheck = (ep: SimEndpoint): number | null => {
    if (!rateLimitsOn) return null
    const now = Date.now()
    const minute = 60_000 / timeScale
    const hour = 3_600_000 / timeScale
    const times = accepted[ep]
    while (times.length > 0 && (times[0] ?? 0) <= now - hour) times.shift()
    const limits = DOCUMENTED_RATE_LIMITS[ep]
    const inMinute = times.filter((t) => t > now - minute)
    let waitMs: number | null = null
    if (inMinute.length >= limits.perMinute) waitMs = (inMinute[inMinute.length - limits.perMinute] ?? now) + minute - now
    if (limits.perHour !== null && times.length >= limits.perHour) {
      const w = (times[times.length - limits.perHour] ?? now) + hour - now
      waitMs = Math.max(waitMs ?? 0, w)
    }
    if (waitMs !== null) return Math.max(1, Math.ceil(waitMs / 1000))
    times.push(now)
    return null
  }

  const bearerApp = (req: http.IncomingMessage): string | null => {
    const h = req.headers["authorization"]
    if (typeof h !== "string" || !h.startsWith("Bearer ")) return null
    return (options.tokensFrom?.tokenClient ?? tokenClient)(h.slice(7), tenantId)
  }

  const route = (method: string, path: string): { ep: SimEndpoint; id?: string } | null => {
    const p = path.toLowerCase().replace(/\/+$/, "")
    if (method === "POST" && p === "/api/indicators/import") return { ep: "import" }
    if (method === "POST" && p === "/api/indicators/batchdelete") return { ep: "batchDelete" }
    if (method === "POST" && p === "/api/indicators") return { ep: "submit" }
    if (method === "GET" && p === "/api/indicators") return { ep: "list" }
    const m = /^\/api\/indicators\/([^/]+)$/.exec(path.replace(/\/+$/, ""))
    if (method === "DELETE" && m !== null) return { ep: "delete", id: decodeURIComponent(m[1] ?? "") }
    return null
  }

  // ---- API -------------------------------------------------------------------------------------------
  const handleApi = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sim")
    const method = req.method ?? "GET"
    const r = route(method, url.pathname)
    const rawBody = await readBody(req)
    const entry = { seq: ++seq, method, path: url.pathname, atMillis: Date.now() }
    const began = performance.now()
    if (r === null) {
      journal.push({ ...entry, endpoint: "unknown", call: 0, status: 404, items: 0, failedItems: 0, durationMillis: performance.now() - began })
      return send(res, 404, errorBody("NotFound", `No route for ${method} ${url.pathname}`))
    }
    const ep = r.ep
    const call = ++counts[ep]
    let items = 0
    let failedItems = 0
    const reply = (status: number, body?: unknown, headers?: Record<string, string>) => {
      send(res, status, body, headers)
      journal.push({ ...entry, endpoint: ep, call, status, items, failedItems, durationMillis: performance.now() - began })
    }
    if (latencyMs > 0) await new Promise((ok) => setTimeout(ok, latencyMs))
    const gate = gates.get(ep)
    if (gate !== undefined) await gate
    for (const rule of faults) {
      if (rule.endpoint !== ep || (rule.calls !== "all" && !rule.calls.includes(call))) continue
      const f = rule.fault
      switch (f.kind) {
        case "drop":
          journal.push({ ...entry, endpoint: ep, call, status: "dropped", items, failedItems, durationMillis: performance.now() - began })
          req.socket.destroy()
          return
        case "status":
          return reply(f.status, errorBody(f.status >= 500 ? "InternalServerError" : "BadRequest", "Injected fault"), f.retryAfterSeconds === undefined ? {} : { "retry-after": String(f.retryAfterSeconds) })
        case "throttle":
          return reply(429, errorBody("TooManyRequests", "Too many requests (injected)"), { "retry-after": String(f.retryAfterSeconds) })
        case "expireTokens":
          for (const t of tokens.values()) t.expiresAt = 0
          break
        case "delay":
          await new Promise((ok) => setTimeout(ok, f.ms))
          break
      }
    }
    const appId = bearerApp(req)
    if (appId === null) return reply(401, errorBody("Unauthorized", "Invalid or expired authorization header"))
    const wait = rateCheck(ep)
    if (wait !== null) {
      rateRejections++
      return reply(429, errorBody("TooManyRequests", "Response represents reaching quota limit either by number of requests or by CPU."), { "retry-after": String(wait) })
    }
    purgeExpired()
    let body: unknown = undefined
    if (method === "POST") {
      const ct = req.headers["content-type"] ?? ""
      if (!ct.toLowerCase().startsWith("application/json")) return reply(400, errorBody("InvalidRequestBody", "Content-Type must be application/json"))
      try {
        body = JSON.parse(rawBody)
      } catch {
        return reply(400, errorBody("InvalidRequestBody", "Request body is incorrect"))
      }
    }
    const rec = (u: unknown): Record<string, unknown> | null => (isRecord(u) ? u : null)

    switch (ep) {
      case "submit": {
        const v = validateIndicatorBody(body)
        if (isRejection(v)) return reply(400, errorBody(v.code, v.message))
        const stored = upsert(v, appId)
        if (stored === "cap") return reply(400, errorBody("BadRequest", CAP_MESSAGE(cap)))
        return reply(200, { "@odata.context": "https://api.security.microsoft.com/api/$metadata#Indicators/$entity", ...render(stored) })
      }
      case "import": {
        const list = rec(body)?.["Indicators"]
        if (list === undefined || list === null) return reply(400, errorBody("MissingRequiredParameter", "Parameter Indicators is missing."))
        if (!Array.isArray(list)) return reply(400, errorBody("InvalidRequestBody", "Request body is incorrect"))
        items = list.length
        if (list.length === 0) return reply(400, errorBody("InvalidRequestBody", "Indicators list is empty"))
        if (list.length > 500) return reply(400, errorBody("MaximumBatchSizeExceeded", `Maximum batch size exceeded. Received: ${list.length}, allowed: 500.`))
        const stored: Array<SimIndicatorInput> = []
        const value = list.map((item: unknown) => {
          const i = rec(item)
          const indicator = typeof i?.["indicatorValue"] === "string" ? i["indicatorValue"] : ""
          const v = validateIndicatorBody(item)
          if (isRejection(v)) return { id: null, indicator, isFailed: true, failureReason: `${v.code}: ${v.message}` }
          const injected = failValues.get(v.indicatorValue)
          if (injected !== undefined) return { id: null, indicator, isFailed: true, failureReason: injected }
          const upserted = upsert(v, appId)
          if (upserted === "cap") return { id: null, indicator, isFailed: true, failureReason: CAP_MESSAGE(cap) }
          stored.push(v)
          const valueKey = `${upserted.indicatorType}|${upserted.indicatorValue.toLowerCase()}`
          importedValues.set(valueKey, (importedValues.get(valueKey) ?? 0) + 1)
          return { id: upserted.id, indicator, isFailed: false, failureReason: null }
        })
        failedItems = value.filter((x) => x.isFailed).length
        // A client that timed out has closed its socket by now: the write happened, the answer is lost.
        const answered = !req.socket.destroyed
        for (const v of stored) {
          const { expirationTime: _expiration, ...content } = v
          imported.push({ indicatorType: v.indicatorType, indicatorValue: v.indicatorValue, content: JSON.stringify(content), answered })
        }
        return reply(200, { "@odata.context": "https://api.security.microsoft.com/api/$metadata#Collection(microsoft.windowsDefenderATP.api.ImportIndicatorResult)", value })
      }
      case "list": {
        const q = url.searchParams
        const topRaw = q.get("$top")
        const skipRaw = q.get("$skip")
        const top = topRaw === null ? null : Number(topRaw)
        const skip = skipRaw === null ? 0 : Number(skipRaw)
        if (top !== null && (!Number.isInteger(top) || top < 0 || top > 10_000)) {
          return reply(400, errorBody("ODataError", `Invalid OData URI query: $top must be between 0 and 10000, got ${topRaw}`))
        }
        if (!Number.isInteger(skip) || skip < 0) return reply(400, errorBody("ODataError", `Invalid OData URI query: $skip ${skipRaw}`))
        const filter = q.get("$filter")
        const pred = filter === null ? () => true : compileFilter(filter)
        if (pred === null) return reply(400, errorBody("ODataError", `Invalid OData URI query: unsupported $filter ${filter}`))
        // The store keeps creation (id) order; only the page is rendered.
        const all = filter === null ? [...store.values()] : [...store.values()].filter((i) => pred({ ...i }))
        const size = top ?? 10_000
        const page = all.slice(skip, skip + size).map((i) => render(i, rbacStringIds.has(i.id)))
        const more = skip + size < all.length
        const next = new URL(url.pathname, `${apiUrl}`)
        for (const [k, v] of q) if (k !== "$skip") next.searchParams.set(k, v)
        next.searchParams.set("$skip", String(skip + size))
        const withNext = more && (top === null || (options.alwaysNextLink ?? false))
        items = page.length
        return reply(200, {
          "@odata.context": "https://api.security.microsoft.com/api/$metadata#Indicators",
          value: page,
          ...(withNext ? { "@odata.nextLink": next.toString() } : {})
        })
      }
      case "delete": {
        const found = findById(r.id ?? "")
        if (found === undefined) return reply(404, errorBody("NotFound", `Indicator ${r.id ?? ""} was not found`))
        store.delete(found[0])
        return reply(204)
      }
      case "batchDelete": {
        const ids = rec(body)?.["IndicatorIds"]
        if (ids === undefined || ids === null) return reply(400, errorBody("MissingRequiredParameter", "Parameter IndicatorIds is missing."))
        if (!Array.isArray(ids) || !ids.every((x): x is string => typeof x === "string")) return reply(400, errorBody("InvalidRequestBody", "Request body is incorrect"))
        items = ids.length
        if (ids.length === 0 || ids.length > 500) return reply(400, errorBody("MaximumBatchSizeExceeded", `Indicator ids list is empty or exceeds 500. Received: ${ids.length}`))
        if (!ids.every((x) => /^[0-9]+$/.test(x))) return reply(400, errorBody("InvalidInput", "Invalid input IndicatorIds: an id is invalid."))
        const found = ids.map((id) => findById(id))
        const missing = ids.filter((_, k) => found[k] === undefined)
        if (missing.length > 0 && batchDeleteAtomic) return reply(404, errorBody("NotFound", `Indicators not found: ${missing.join(",")}`))
        for (const f of found) if (f !== undefined) store.delete(f[0])
        return missing.length > 0 ? reply(404, errorBody("NotFound", `Indicators not found: ${missing.join(",")}`)) : reply(204)
      }
    }
  }

  // ---- identity --------------------------------------------------------------------------------------
  const identityFail = (res: http.ServerResponse, status: number, error: string, code: number, description: string) =>
    send(res, status, {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${nowIso()}`,
      error_codes: [code],
      timestamp: nowIso(),
      trace_id: randomUUID(),
      correlation_id: randomUUID()
    })

  const verifyAssertion = (jwt: string, tokenEndpoint: string): string | null => {
    if (clientCert === null) return "no certificate is registered for this application"
    const [h = "", p = "", s = ""] = jwt.split(".")
    let header: Record<string, unknown>
    let payload: Record<string, unknown>
    try {
      const hv: unknown = JSON.parse(fromB64url(h).toString("utf8"))
      const pv: unknown = JSON.parse(fromB64url(p).toString("utf8"))
      if (!isRecord(hv) || !isRecord(pv)) return "the client assertion is not a JWT"
      header = hv
      payload = pv
    } catch {
      return "the client assertion is not a JWT"
    }
    const x5tS256 = b64url(createHash("sha256").update(clientCert.raw).digest())
    const x5t = b64url(createHash("sha1").update(clientCert.raw).digest())
    if (header["x5t#S256"] !== x5tS256 && header["x5t"] !== x5t) return "the certificate thumbprint does not match a registered key"
    const key = createPublicKey(clientCert.publicKey.export({ type: "spki", format: "pem" }))
    const data = Buffer.from(`${h}.${p}`)
    const sig = fromB64url(s)
    const ok = header["alg"] === "PS256"
      ? verify("sha256", data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
      : header["alg"] === "RS256"
        ? verify("sha256", data, key, sig)
        : false
    if (!ok) return "the client assertion signature is invalid"
    if (payload["aud"] !== tokenEndpoint) return `the assertion audience ${String(payload["aud"])} is not the token endpoint`
    if (payload["iss"] !== clientId || payload["sub"] !== clientId) return "the assertion issuer/subject is not the client id"
    if (typeof payload["exp"] !== "number" || payload["exp"] * 1000 < Date.now()) return "the assertion has expired"
    return null
  }

  const handleIdentity = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", authorityHost)
    const rawBody = await readBody(req)
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname)
    const ep: "openid" | "token" = m?.[2]?.startsWith("oauth2") === true ? "token" : "openid"
    const log = (status: number) =>
      journal.push({ seq: ++seq, endpoint: ep, call: 0, method: req.method ?? "", path: url.pathname, status, atMillis: Date.now(), items: 0, failedItems: 0, durationMillis: 0 })
    if (m === null) {
      log(404)
      return send(res, 404, { error: "not_found" })
    }
    const tenant = m[1] ?? ""
    if (!tenants.has(tenant)) {
      log(400)
      return identityFail(res, 400, "invalid_tenant", 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID.`)
    }
    const base = `${authorityHost}/${tenant}`
    if (ep === "openid") {
      log(200)
      return send(res, 200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: `${base}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${authorityHost}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "aud", "exp", "iat"],
        tenant_region_scope: "NA",
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: "graph.microsoft.com"
      })
    }
    const form = new URLSearchParams(rawBody)
    const fail = (status: number, error: string, code: number, text: string) => {
      log(status)
      identityFail(res, status, error, code, text)
    }
    if (form.get("grant_type") !== "client_credentials") return fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
    if (form.get("client_id") !== clientId) return fail(400, "unauthorized_client", 700016, `Application with identifier '${form.get("client_id") ?? ""}' was not found in the directory.`)
    const secret = form.get("client_secret")
    const assertion = form.get("client_assertion")
    if (secret !== null) {
      if (secret !== clientSecret) return fail(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
    } else if (assertion !== null) {
      const why = verifyAssertion(assertion, `${base}/oauth2/v2.0/token`)
      if (why !== null) return fail(401, "invalid_client", 700027, `Client assertion failed signature validation: ${why}.`)
    } else return fail(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    const scope = form.get("scope") ?? ""
    if (!scope.split(" ").includes(`${resource}/.default`)) {
      return fail(400, "invalid_scope", 500011, `The resource principal named ${scope} was not found in the tenant. Expected ${resource}/.default.`)
    }
    const token = `sim.${randomUUID()}.${randomUUID()}`
    tokens.set(token, { expiresAt: Date.now() + tokenLifetime * 1000, clientId, tenant })
    issued++
    log(200)
    return send(res, 200, { token_type: "Bearer", expires_in: tokenLifetime, ext_expires_in: tokenLifetime, access_token: token })
  }

  // ---- servers -----------------------------------------------------------------------------------------
  const onError = (res: http.ServerResponse) => (e: unknown) => {
    if (!res.headersSent) send(res, 500, { error: { code: "InternalServerError", message: String(e), target: randomUUID() } })
  }
  const tlsOpts = { cert: TEST_SERVER_CERT_PEM, key: TEST_SERVER_KEY_PEM }
  const apiServer: http.Server = options.apiTls === true
    ? https.createServer(tlsOpts, (req, res) => void handleApi(req, res).catch(onError(res)))
    : http.createServer((req, res) => void handleApi(req, res).catch(onError(res)))
  const idServer: http.Server = https.createServer(tlsOpts, (req, res) => void handleIdentity(req, res).catch(onError(res)))
  for (const s of [apiServer, idServer]) {
    s.on("connection", (sock) => {
      sockets.add(sock)
      sock.on("close", () => sockets.delete(sock))
    })
    s.on("secureConnection", (sock) => {
      sockets.add(sock)
      sock.on("close", () => sockets.delete(sock))
    })
  }
  const apiPort = await listen(apiServer)
  const idPort = await listen(idServer)
  const apiUrl = `${options.apiTls === true ? "https" : "http"}://127.0.0.1:${apiPort}`
  const authorityHost = `https://localhost:${idPort}`

  const reset = () => {
    store.clear()
    keyById.clear()
    rbacStringIds.clear()
    journal.length = 0
    imported.length = 0
    importedValues.clear()
    faults = []
    latencyMs = 0
    failValues = new Map()
    for (const e of ENDPOINTS) {
      counts[e] = 0
      accepted[e] = []
    }
    rateRejections = 0
  }

  const simulator: DefenderSimulator = {
    apiUrl,
    authorityHost,
    tenantId,
    clientId,
    clientSecret,
    resource,
    caPem: TEST_CA_PEM,
    appId: clientId,
    journal: () => [...journal],
    clearJournal: () => {
      journal.length = 0
    },
    callCounts: () => ({ ...counts }),
    importedValues: () => [...imported],
    indicators: () => {
      purgeExpired()
      return [...store.values()]
    },
    seedForeign: (seeds) =>
      seeds.map((s) => {
        const type = s.indicatorType
        const bad = checkIndicatorValue(type, s.indicatorValue)
        if (bad !== null) throw new Error(`seedForeign: ${bad.message}`)
        const stored = upsert({
          indicatorValue: s.indicatorValue,
          indicatorType: type,
          action: s.action ?? "Block",
          title: s.title ?? `Foreign ${type}`,
          description: "created by another application",
          severity: "Medium",
          expirationTime: s.expirationTime ?? null,
          generateAlert: false,
          recommendedActions: null,
          rbacGroupNames: s.rbacGroupNames ?? [],
          educateUrl: null,
          application: null,
          externalId: null
        }, s.createdBy ?? FOREIGN_APP_ID)
        if (stored === "cap") throw new Error("seedForeign: the tenant cap is reached")
        if (s.rbacAsString === true) rbacStringIds.add(stored.id)
        return stored.id
      }),
    seedOwn: (bodies) =>
      bodies.map((b) => {
        const stored = upsert(b, clientId)
        if (stored === "cap") throw new Error("seedOwn: the tenant cap is reached")
        return stored.id
      }),
    setFaults: (rules) => {
      faults = rules
    },
    hold: (endpoint) => {
      let open: () => void = () => undefined
      gates.set(endpoint, new Promise<void>((resolve) => (open = resolve)))
      return {
        release: () => {
          gates.delete(endpoint)
          open()
        }
      }
    },
    setLatency: (ms) => {
      latencyMs = ms
    },
    failImportValues: (values, reason = "InvalidInput: injected per-item failure") => {
      failValues = new Map(values.map((v) => [v, reason]))
    },
    setRateLimits: (enabled, scale) => {
      rateLimitsOn = enabled
      if (scale !== undefined) timeScale = scale
    },
    setCap: (c) => {
      cap = c
    },
    expireTokens: () => {
      for (const t of tokens.values()) t.expiresAt = 0
    },
    rateLimitRejections: () => rateRejections,
    tokensIssued: () => issued,
    importsPerValue: () => new Map(importedValues),
    tokenClient,
    reset
  }

  const close = async () => {
    for (const s of sockets) s.destroy()
    await Promise.all([apiServer, idServer].map((s) => new Promise<void>((ok) => s.close(() => ok()))))
  }
  return { simulator, close }
}
