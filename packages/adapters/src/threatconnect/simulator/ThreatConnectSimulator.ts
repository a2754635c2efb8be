import { createHmac, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Layer } from "effect"
import {
  DEFAULT_EPOCH,
  generateIndicators,
  renderDeleted,
  renderIndicator,
  isSortKey,
  SimulatorStore,
  SUPPORTED_FIELDS,
  type SimIndicator,
  type Sorting
} from "./SimulatorData.js"
import { indicatorTqlLanguage, parseTql, parseTqlDate, TqlParseError, type TqlExpr } from "./TqlEvaluator.js"

/**
 * A loopback ThreatConnect v3 server speaking the wire format the adapter reads (DESIGN §5;
 * reference/threatconnect-api.md §1-§3): HMAC and TC-Token checked with the documented error messages,
 * TQL parsed and evaluated (a parse error is a 400 error envelope), `fields`, `resultStart`/`resultLimit`
 * (max 10,000) with absolute `next` links, `sorting`, only-active default, `/v3/indicators/deleted`.
 * Faults for tests: a status on the Nth call or the next N calls, a failing page, latency, a connection
 * dropped mid-body, a `next` link to another origin.
 */

export const TC_SIM_ACCESS_ID = "12345678901234567890"
export const TC_SIM_SECRET_KEY = "sim-secret/key+with=specials"
export const TC_SIM_API_TOKEN = "APIV2:430:sim:1234567890123:c2ltdWxhdG9yLXRva2Vu"

export interface ThreatConnectSimulatorOptions {
  /** Indicators generated at start (default 0). */
  readonly indicators?: number
  readonly seed?: number
  readonly epoch?: number
  readonly accessId?: string
  readonly secretKey?: string
  readonly apiTokens?: ReadonlyArray<string>
  /** Accepted clock difference for HMAC timestamps (default 300 s, reference §1b). */
  readonly maxSkewSeconds?: number
  /** The simulator's clock (ms): timestamps are checked and records stamped against it. Default Date.now. */
  readonly now?: () => number
  readonly port?: number
  /** Serve at most this many records per page whatever `resultLimit` asks (a server may), default none. */
  readonly pageSize?: number
}

export interface ThreatConnectSimCall {
  readonly method: string
  readonly path: string
  /** Raw query string as received (no leading `?`). */
  readonly query: string
  readonly status: number
  /** Which authentication the call used ("hmac", "token" or "none"). */
  readonly auth: "hmac" | "token" | "none"
}

interface StatusFault {
  readonly status: number
  readonly retryAfterSeconds: number | null
  readonly message: string
}

const MAX_RESULT_LIMIT = 10_000

export class ThreatConnectSimulator {
  readonly store: SimulatorStore
  private server: Server | null = null
  private baseUrl = ""
  private readonly journal: Array<ThreatConnectSimCall> = []
  private calls = 0
  // faults
  private readonly statusOnCall = new Map<number, StatusFault>()
  private failNext: { count: number; fault: StatusFault } | null = null
  private readonly pageFaults = new Map<number, { remaining: number; fault: StatusFault }>()
  private readonly dropOnCall = new Set<number>()
  private dropNext = 0
  private latencyMs = 0
  private nextLinkBase: string | null = null
  private pageSize: number | null

  private readonly accessId: string
  private readonly secretKey: string
  private readonly tokens: ReadonlySet<string>
  private readonly maxSkewSeconds: number
  readonly now: () => number

  constructor(private readonly options: ThreatConnectSimulatorOptions = {}) {
    this.now = options.now ?? Date.now
    this.pageSize = options.pageSize ?? null
    this.store = new SimulatorStore(this.now)
    this.accessId = options.accessId ?? TC_SIM_ACCESS_ID
    this.secretKey = options.secretKey ?? TC_SIM_SECRET_KEY
    this.tokens = new Set(options.apiTokens ?? [TC_SIM_API_TOKEN])
    this.maxSkewSeconds = options.maxSkewSeconds ?? 300
    if ((options.indicators ?? 0) > 0) this.seed(options.indicators ?? 0, options.seed ?? 42)
  }

  /** Replace the data with `count` generated indicators (deterministic per seed). */
  seed(count: number, seed = 42, epoch: number = this.options.epoch ?? DEFAULT_EPOCH): ReadonlyArray<SimIndicator> {
    const records = generateIndicators({ count, seed, epoch })
    this.store.reset(records)
    return records
  }

  /** `http://127.0.0.1:<port>/api`: the value for TC_API_URL. */
  get apiUrl(): string {
    return `${this.baseUrl}/api`
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res))
    server.keepAliveTimeout = 5_000
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(this.options.port ?? 0, "127.0.0.1", () => resolve())
    })
    const address: AddressInfo | string | null = server.address()
    if (address === null || typeof address === "string") throw new Error("the simulator is not listening on TCP")
    this.baseUrl = `http://127.0.0.1:${address.port}`
    return this.apiUrl
  }

  async close(): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  // ------------------------------------------------------------------------------------ journal/faults

  /** Every request so far: method, path, raw query, status. */
  callJournal(): ReadonlyArray<ThreatConnectSimCall> {
    return [...this.journal]
  }
  get requestCount(): number {
    return this.calls
  }
  clearJournal(): void {
    this.journal.length = 0
  }

  /** Answer the Nth request (1-based, counting from the start) with `status`. */
  failOnCall(n: number, status = 503, retryAfterSeconds: number | null = null): void {
    this.statusOnCall.set(n, { status, retryAfterSeconds, message: `Simulated failure ${status}` })
  }
  /** Answer the next `count` requests with `status` (429 with `Retry-After` when given). */
  failNextRequests(count: number, status = 503, retryAfterSeconds: number | null = null, message = `Simulated failure ${status}`): void {
    this.failNext = { count, fault: { status, retryAfterSeconds, message } }
  }
  /** Answer requests for page `page` (0-based: resultStart / resultLimit) of /v3/indicators `times` times with `status`. */
  failPage(page: number, status = 500, times = 1): void {
    this.pageFaults.set(page, { remaining: times, fault: { status, retryAfterSeconds: null, message: `Simulated failure ${status}` } })
  }
  /** Drop the connection half-way through the body of the Nth request. */
  dropConnectionOnCall(n: number): void {
    this.dropOnCall.add(n)
  }
  /** Drop the connection half-way through the body of the next `count` requests. */
  dropNextRequests(count: number): void {
    this.dropNext = count
  }
  setLatency(ms: number): void {
    this.latencyMs = ms
  }
  /** Serve at most `size` records per page whatever `resultLimit` asks (null: as asked). */
  setPageSize(size: number | null): void {
    this.pageSize = size
  }
  /** Write `next` links against another base (e.g. `http://evil.example:8080/api`). */
  setNextLinkBase(base: string | null): void {
    this.nextLinkBase = base
  }
  clearFaults(): void {
    this.statusOnCall.clear()
    this.failNext = null
    this.pageFaults.clear()
    this.dropOnCall.clear()
    this.dropNext = 0
    this.latencyMs = 0
    this.nextLinkBase = null
  }

  // ------------------------------------------------------------------------------------------- serving

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const call = ++this.calls
    const rawUrl = req.url ?? "/"
    const q = rawUrl.indexOf("?")
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q)
    const query = q < 0 ? "" : rawUrl.slice(q + 1)
    const method = req.method ?? "GET"
    const auth: ThreatConnectSimCall["auth"] = (req.headers.authorization ?? "").startsWith("TC-Token ") ? "token" : req.headers.authorization ? "hmac" : "none"
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      this.journal.push({ method, path, query, status, auth })
      const drop = this.dropOnCall.delete(call) || (status === 200 && this.dropNext > 0 && this.dropNext-- > 0)
      const bytes = Buffer.from(body, "utf8")
      res.writeHead(status, { "content-type": "application/json", "content-length": String(bytes.length), ...headers })
      if (drop) {
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy())
      } else {
        res.end(bytes)
      }
    }
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      send(status, JSON.stringify({ status: "Error", message }), headers)
    const respond = () => {
      try {
        this.route(method, path, rawUrl, req, call, send, error)
      } catch (e) {
        error(500, e instanceof Error ? `Internal error: ${e.message}` : "Internal error")
      }
    }
    if (this.latencyMs > 0) setTimeout(respond, this.latencyMs)
    else respond()
  }

  private route(
    method: string,
    path: string,
    rawUrl: string,
    req: IncomingMessage,
    call: number,
    send: (status: number, body: string, headers?: Record<string, string>) => void,
    error: (status: number, message: string, headers?: Record<string, string>) => void
  ): void {
    const faultHeaders = (f: StatusFault): Record<string, string> =>
      f.retryAfterSeconds === null ? {} : { "retry-after": String(f.retryAfterSeconds) }
    const onCall = this.statusOnCall.get(call)
    if (onCall !== undefined) {
      this.statusOnCall.delete(call)
      return error(onCall.status, onCall.message, faultHeaders(onCall))
    }
    if (this.failNext !== null && this.failNext.count > 0) {
      this.failNext.count--
      const f = this.failNext.fault
      return error(f.status, f.message, faultHeaders(f))
    }
    const denied = this.authenticate(rawUrl, method, req)
    if (denied !== null) return error(401, denied)
    if (method !== "GET") return error(405, `Method ${method} not supported by the simulator`)
    const params = new URL(rawUrl, "http://simulator").searchParams
    if (path === "/api/v3/indicators") return this.listIndicators(params, send, error)
    if (path === "/api/v3/indicators/deleted") return this.listDeleted(params, send, error)
    return error(404, `Resource not found: ${path}`)
  }

  /** null when authorised, else the documented 401 message (reference §1b, DOC common_errors). */
  private authenticate(rawUrl: string, method: string, req: IncomingMessage): string | null {
    const header = req.headers.authorization
    if (header === undefined) return "Unauthorized"
    if (header.startsWith("TC-Token ")) return this.tokens.has(header.slice("TC-Token ".length)) ? null : "Unauthorized"
    const m = /^TC ([^:]+):(.+)$/.exec(header)
    if (m === null) return "Unauthorized"
    const timestampHeader = req.headers.timestamp
    const timestamp = typeof timestampHeader === "string" && /^\d+$/.test(timestampHeader) ? Number(timestampHeader) : NaN
    if (Number.isNaN(timestamp) || Math.abs(this.now() / 1000 - timestamp) > this.maxSkewSeconds) {
      return "Timestamp Out of Acceptable Time Range"
    }
    if (m[1] !== this.accessId) return "Access Denied"
    const expected = createHmac("sha256", this.secretKey).update(`${rawUrl}:${method}:${timestampHeader}`, "utf8").digest()
    const given = Buffer.from(m[2] ?? "", "base64")
    return given.length === expected.length && timingSafeEqual(given, expected) ? null : "Signature Data Did Not Match Expected Result"
  }

  private paging(params: URLSearchParams): { start: number; limit: number } | string {
    const start = Number(params.get("resultStart") ?? "0")
    const limit = Number(params.get("resultLimit") ?? "100")
    if (!Number.isInteger(start) || start < 0) return "Invalid resultStart"
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULT_LIMIT) return `resultLimit must be between 1 and ${MAX_RESULT_LIMIT}`
    return { start, limit: Math.min(limit, this.pageSize ?? limit) }
  }

  /** The absolute link to another page: the same query with resultStart replaced. */
  private pageLink(path: string, params: URLSearchParams, start: number): string {
    const next = new URLSearchParams(params)
    next.set("resultStart", String(start))
    return `${this.nextLinkBase ?? this.apiUrl}${path}?${next.toString()}`
  }

  private listIndicators(
    params: URLSearchParams,
    send: (status: number, body: string) => void,
    error: (status: number, message: string) => void
  ): void {
    const paging = this.paging(params)
    if (typeof paging === "string") return error(400, paging)
    const fields = new Set(params.getAll("fields"))
    for (const f of fields) if (!SUPPORTED_FIELDS.has(f)) return error(400, `Invalid field: ${f}`)
    const sorting: Array<Sorting> = []
    const sortText = params.get("sorting")
    if (sortText !== null) {
      const words = sortText.trim().split(/\s+/)
      for (let i = 0; i < words.length; i += 2) {
        const key = words[i] ?? ""
        const dir = (words[i + 1] ?? "asc").toLowerCase()
        if (!isSortKey(key) || (dir !== "asc" && dir !== "desc")) return error(400, `Invalid sorting: ${sortText}`)
        sorting.push({ key, desc: dir === "desc" })
      }
    }
    const tql = params.get("tql")
    let expr: TqlExpr | null = null
    if (tql !== null && tql.trim() !== "") {
      try {
        expr = parseTql(tql, indicatorTqlLanguage)
      } catch (e) {
        if (e instanceof TqlParseError) return error(400, `Invalid TQL query: ${e.message}`)
        throw e
      }
    }
    const page = Math.floor(paging.start / paging.limit)
    const pageFault = this.pageFaults.get(page)
    if (pageFault !== undefined && pageFault.remaining > 0) {
      pageFault.remaining--
      return error(pageFault.fault.status, pageFault.fault.message)
    }
    const matching = this.store.query(tql ?? "", expr, sorting)
    const slice = matching.slice(paging.start, paging.start + paging.limit)
    const webBase = this.baseUrl
    const items = slice.map((r) => renderIndicator(r, fields, webBase))
    const parts = [`"data":[${items.join(",")}]`]
    if (paging.start + paging.limit < matching.length) parts.unshift(`"next":${JSON.stringify(this.pageLink("/v3/indicators", params, paging.start + paging.limit))}`)
    if (paging.start > 0) parts.push(`"prev":${JSON.stringify(this.pageLink("/v3/indicators", params, Math.max(0, paging.start - paging.limit)))}`)
    if (params.get("count") === "true" && paging.start === 0) parts.push(`"count":${matching.length}`)
    parts.push(`"status":"Success"`)
    send(200, `{${parts.join(",")}}`)
  }

  private listDeleted(
    params: URLSearchParams,
    send: (status: number, body: string) => void,
    error: (status: number, message: string) => void
  ): void {
    const paging = this.paging(params)
    if (typeof paging === "string") return error(400, paging)
    let since = Number.NEGATIVE_INFINITY
    const deletedSince = params.get("deletedSince")
    if (deletedSince !== null) {
      try {
        since = parseTqlDate(deletedSince)
      } catch {
        return error(400, `Invalid deletedSince: ${deletedSince}`)
      }
    }
    const owner = params.get("owner")
    const type = params.get("type")
    const matching = this.store
      .deleted()
      .filter((d) => d.deletedAt >= since && (owner === null || d.ownerName === owner) && (type === null || d.type === type))
    const slice = matching.slice(paging.start, paging.start + paging.limit)
    const parts = [`"data":[${slice.map(renderDeleted).join(",")}]`]
    if (paging.start + paging.limit < matching.length) parts.unshift(`"next":${JSON.stringify(this.pageLink("/v3/indicators/deleted", params, paging.start + paging.limit))}`)
    parts.push(`"status":"Success"`)
    send(200, `{${parts.join(",")}}`)
  }
}

/** The running simulator, for tests that seed data and switch faults. */
export class ThreatConnectSimulatorService extends Context.Tag("@tisync/adapters/ThreatConnectSimulator")<
  ThreatConnectSimulatorService,
  ThreatConnectSimulator
>() {}

/** Starts a simulator on 127.0.0.1 (random port) and closes it with the scope. */
export const makeThreatConnectSimulator = (options: ThreatConnectSimulatorOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const sim = new ThreatConnectSimulator(options)
      await sim.listen()
      return sim
    }),
    (sim) => Effect.promise(() => sim.close())
  )

export const threatConnectSimulatorLayer = (options: ThreatConnectSimulatorOptions = {}): Layer.Layer<ThreatConnectSimulatorService> =>
  Layer.scoped(ThreatConnectSimulatorService, makeThreatConnectSimulator(options))

/** Plain-Promise start for scripts (benchmarks, the demo): `const sim = await startThreatConnectSimulator({ indicators: 1000 })`. */
export const startThreatConnectSimulator = async (options: ThreatConnectSimulatorOptions = {}): Promise<ThreatConnectSimulator> => {
  const sim = new ThreatConnectSimulator(options)
  await sim.listen()
  return sim
}
