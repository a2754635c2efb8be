import { describe, expect, layer } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Either, Logger, Redacted, Stream } from "effect"
import {
  makeDefenderIndicatorSink,
  makeMsalTokenProvider,
  TEST_CA_PEM,
  TEST_SERVER_CERT_PEM,
  TEST_SERVER_KEY_PEM
} from "@tisync/adapters"
import { buildDefenderPayload, type DefenderPayload, TokenProvider } from "@tisync/domain"
import {
  casesOf,
  CorpusFormatError,
  expandBody,
  expectedError,
  type HostileCase,
  optional,
  optionalInt,
  splitTilde,
  values
} from "./HostileCorpus.js"
import { rawServerLayer, type RawServer, RawServerTag } from "./RawHttpServer.js"

/**
 * Defender and Entra responses of the hostile corpus, served raw by a loopback server to the real
 * DefenderIndicatorSink (import, list, submit) and the real MsalTokenProvider (token endpoint, over TLS
 * with the test CA: MSAL refuses http authorities).
 */

const ACCESS_TOKEN = "hostile-corpus-access-token-5d1e"
const CLIENT_SECRET = "hostile-corpus-client-secret-Q8v~x2"
const TENANT = "hostile-tenant"
const MAX_TEXT = 4000

/** A fixed token: the sink is what is under test here (the token endpoint has its own cases). */
const staticTokens = TokenProvider.of({
  token: Effect.succeed({ token: Redacted.make(ACCESS_TOKEN), expiresAtMillis: Date.now() + 3_600_000 }),
  refresh: Effect.succeed({ token: Redacted.make(ACCESS_TOKEN), expiresAtMillis: Date.now() + 3_600_000 })
})

const payloadOf = (indicatorType: "IpAddress" | "DomainName", indicatorValue: string): DefenderPayload => {
  const built = buildDefenderPayload({
    indicatorType,
    indicatorValue,
    action: "Block",
    title: `ThreatConnect: ${indicatorValue}`,
    description: "hostile corpus",
    severity: "High",
    expirationTime: "2030-01-01T00:00:00Z"
  })
  if (Either.isLeft(built)) throw new Error(built.left.reason)
  return built.right
}
/** What every import and submit case sends; the corpus bodies answer about these two values. */
const PAYLOADS = [payloadOf("IpAddress", "8.8.8.8"), payloadOf("DomainName", "evil.example")]

const respond = (server: RawServer, c: HostileCase, onPath: (path: string) => boolean) => {
  const body = expandBody(c, { origin: server.origin })
  const status = optionalInt(c, "status") ?? 200
  const contentType = optional(c, "content-type") ?? "application/json"
  const headers: Record<string, string> = { "content-type": contentType }
  for (const h of values(c, "header")) {
    const [k, v] = splitTilde(h.replace(": ", " ~ "))
    headers[k.toLowerCase()] = v ?? ""
  }
  const chunked = optionalInt(c, "chunked")
  server.journal.length = 0
  const fallback = { status: 404, body: Buffer.from(`{"error":{"code":"NotFound","message":"not here"}}`) }
  return (path: string) => (onPath(path) ? { status, headers, body, ...(chunked === undefined ? {} : { chunkBytes: chunked }) } : fallback)
}

interface Failure {
  readonly _tag: string
  readonly message: string
}

const fieldOf = (error: object, field: string): unknown => Object.entries(error).find(([k]) => k === field)?.[1]

const checkFailure = (c: HostileCase, error: Failure | null, extraSecrets: ReadonlyArray<string> = []) => {
  const wanted = expectedError(c)
  if (error !== null) {
    const texts = [error.message, JSON.stringify(error)]
    for (const t of texts) {
      expect(t.length, `${c.name}: a message of ${t.length} characters`).toBeLessThanOrEqual(MAX_TEXT)
      for (const secret of [ACCESS_TOKEN, CLIENT_SECRET, ...extraSecrets, ...values(c, "not-in-error")]) expect(t).not.toContain(secret)
    }
  }
  if (wanted === undefined) {
    expect(error?.message ?? null, `${c.name}: no failure expected, got ${JSON.stringify(error)}`).toBeNull()
    return
  }
  expect(error, `${c.name}: expected ${wanted.tag}`).not.toBeNull()
  if (error === null) return
  expect(error._tag).toBe(wanted.tag)
  for (const [k, v] of Object.entries(wanted.fields)) expect(String(fieldOf(error, k)), `${c.name}: ${k}`).toBe(v)
  const all = `${error.message} ${JSON.stringify(error)}`.toLowerCase()
  for (const m of wanted.mentions) expect(all, `${c.name}: mentions ${m}`).toContain(m.toLowerCase())
}

const sinkFor = (server: RawServer, c: HostileCase) => {
  const maxResponseBytes = optionalInt(c, "max-response-bytes")
  return makeDefenderIndicatorSink({
    apiUrl: server.origin,
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
    rateLimits: "off",
    retry: { maxRetries: 1, baseDelayMillis: 1, maxDelayMillis: 5, maxRetryAfterSeconds: 1 },
    requestTimeoutMillis: 10_000
  }).pipe(Effect.provideService(TokenProvider, staticTokens), Effect.provide(NodeHttpClient.layer))
}

const leftOf = <A, E>(e: Either.Either<A, E>): E | null => (Either.isLeft(e) ? e.left : null)

const runImport = (server: RawServer, c: HostileCase) =>
  Effect.gen(function* () {
    const answer = respond(server, c, (p) => p === "/api/indicators/import")
    server.handler = (r) => answer(r.url)
    const sink = yield* sinkFor(server, c)
    const result = yield* Effect.either(sink.importBatch(PAYLOADS))
    checkFailure(c, leftOf(result))
    if (Either.isRight(result)) {
      // nothing lost: one outcome per payload sent, whatever the response held
      expect(result.right.map((o) => o.indicatorValue)).toEqual(PAYLOADS.map((p) => p.indicatorValue))
      for (const line of values(c, "outcome")) {
        const [head, mention] = splitTilde(line)
        const [value, tag, id] = head.split(/\s+/)
        const outcome = result.right.find((o) => o.indicatorValue === value)
        expect(outcome?._tag, `${c.name}: ${value}`).toBe(tag)
        if (outcome?._tag === "Imported" && id !== undefined) expect(outcome.id).toBe(id)
        if (outcome?._tag === "Failed") {
          expect(outcome.reason.length, `${c.name}: failure reason of ${outcome.reason.length} characters`).toBeLessThanOrEqual(MAX_TEXT)
          if (mention !== undefined) expect(outcome.reason.toLowerCase()).toContain(mention.toLowerCase())
        }
      }
    } else {
      expect(values(c, "outcome"), `${c.name}: outcomes expected but the import failed`).toEqual([])
    }
    return server.journal.length
  })

const runList = (server: RawServer, c: HostileCase) =>
  Effect.gen(function* () {
    const answer = respond(server, c, (p) => p.startsWith("/api/indicators?"))
    server.handler = (r) => answer(r.url)
    const sink = yield* sinkFor(server, c)
    const warnings: Array<string> = []
    const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => { warnings.push(String(message)) }))
    const result = yield* Stream.runCollect(sink.list()).pipe(Effect.either, Effect.provide(logger))
    checkFailure(c, leftOf(result))
    const items = optionalInt(c, "items")
    if (items !== undefined) expect(Either.isRight(result) ? result.right.length : -1, `${c.name}: items listed`).toBe(items)
    for (const line of values(c, "outcome")) {
      const [id, value] = line.split(/\s+/)
      expect(Either.isRight(result) && [...result.right].some((i) => i.id === id && i.indicatorValue === value), `${c.name}: lists ${line}`).toBe(true)
    }
    // an item that cannot be used is never dropped silently: each one is logged, with its id and the reason
    const skipped = optionalInt(c, "skipped") ?? 0
    const logged = warnings.filter((w) => /skipped/i.test(w))
    expect(logged, `${c.name}: warnings ${JSON.stringify(warnings)}`).toHaveLength(skipped)
    for (const w of logged) expect(w).toMatch(/indicator (\S+|\(no id\)) skipped: .*(id|indicatorValue)/s)
    return server.journal.length
  })

const runSubmit = (server: RawServer, c: HostileCase) =>
  Effect.gen(function* () {
    const answer = respond(server, c, (p) => p === "/api/indicators")
    server.handler = (r) => answer(r.url)
    const sink = yield* sinkFor(server, c)
    const first = PAYLOADS[0]
    if (first === undefined) throw new Error("no payload")
    const result = yield* Effect.either(sink.submit(first))
    checkFailure(c, leftOf(result))
    for (const line of values(c, "outcome")) {
      const [tag, id] = line.split(/\s+/)
      if (tag !== "Submitted") throw new CorpusFormatError(`${c.name}: a submit outcome is "Submitted <id>"`)
      expect(Either.isRight(result) ? result.right.id : null, `${c.name}: submitted id`).toBe(id)
    }
    return server.journal.length
  })

const openIdMetadata = (origin: string) => {
  const base = `${origin}/${TENANT}`
  return JSON.stringify({
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code"],
    scopes_supported: ["openid"],
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    tenant_region_scope: "NA",
    cloud_instance_name: "microsoftonline.com"
  })
}

const runToken = (server: RawServer, c: HostileCase) =>
  Effect.gen(function* () {
    const answer = respond(server, c, (p) => p.split("?")[0] === `/${TENANT}/oauth2/v2.0/token`)
    server.handler = (r) =>
      r.url.endsWith("/v2.0/.well-known/openid-configuration")
        ? { status: 200, body: Buffer.from(openIdMetadata(server.origin)) }
        : answer(r.url)
    const provider = yield* makeMsalTokenProvider({
      tenantId: TENANT,
      clientId: "00000000-0000-0000-0000-0000000000c1",
      credential: { _tag: "ClientSecret", secret: Redacted.make(CLIENT_SECRET) },
      authorityHost: server.origin,
      extraCaPem: TEST_CA_PEM,
      timeoutMillis: 10_000
    })
    const result = yield* Effect.either(provider.token)
    checkFailure(c, leftOf(result))
    for (const line of values(c, "outcome")) {
      if (!line.startsWith("token ")) throw new CorpusFormatError(`${c.name}: a token outcome is "token <value>"`)
      expect(Either.isRight(result) ? Redacted.value(result.right.token) : null).toBe(line.slice(6))
    }
    return server.journal.length
  })

const checkRequests = (c: HostileCase, made: number) => {
  const requests = optionalInt(c, "requests")
  if (requests !== undefined) expect(made, `${c.name}: requests made`).toBe(requests)
}

const sinkCases = [...casesOf("defender-import"), ...casesOf("defender-list"), ...casesOf("defender-submit")]
const tokenCases = casesOf("defender-token")

layer(rawServerLayer(), { excludeTestServices: true })("hostile Defender responses through the real DefenderIndicatorSink", (it) => {
  it.effect("the corpus holds import, list and submit cases", () =>
    Effect.sync(() => {
      expect(casesOf("defender-import").length).toBeGreaterThanOrEqual(5)
      expect(casesOf("defender-list").length).toBeGreaterThanOrEqual(4)
      expect(casesOf("defender-submit").length).toBeGreaterThanOrEqual(2)
    }))
  for (const c of sinkCases) {
    it.effect(`${c.name}: ${c.what}`, () =>
      Effect.gen(function* () {
        const server = yield* RawServerTag
        const run = c.kind === "defender-import" ? runImport : c.kind === "defender-list" ? runList : runSubmit
        checkRequests(c, yield* run(server, c))
      }))
  }
})

describe("hostile Entra token responses through the real MsalTokenProvider", () => {
  layer(rawServerLayer({ cert: TEST_SERVER_CERT_PEM, key: TEST_SERVER_KEY_PEM }), { excludeTestServices: true })((it) => {
    it.effect("the corpus holds token cases", () => Effect.sync(() => expect(tokenCases.length).toBeGreaterThanOrEqual(4)))
    for (const c of tokenCases) {
      it.effect(`${c.name}: ${c.what}`, () =>
        Effect.gen(function* () {
          const server = yield* RawServerTag
          checkRequests(c, yield* runToken(server, c))
        }))
    }
  })
})
