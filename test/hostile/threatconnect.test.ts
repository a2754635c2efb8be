import { expect, layer } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { DateTime, Effect, Either, Redacted, Schema, Stream } from "effect"
import { makeThreatConnectSource } from "@tisync/adapters"
import {
  IndicatorRejected,
  localRejectedEvent,
  mapSourceIndicator,
  PAYLOAD_LIMITS,
  plan,
  Policy,
  type SourceError,
  type SourceIndicator,
  type SourceRecordRejected,
  TargetId
} from "@tisync/domain"
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
 * ThreatConnect pages of the hostile corpus, served raw by a loopback server to the real
 * ThreatConnectSource (HTTP client, size bound, JsonArraySplitter, lossless ids, IndicatorDecoder); the
 * records it lets through go on through the domain's mapping and planner (run.test.ts takes the whole corpus
 * through sync runs on the embedded store).
 */

const TC_TOKEN = "hostile-corpus-tc-token-7f3a9c"
const EMPTY_PAGE = Buffer.from(`{"status":"Success","data":[]}`)
const TARGET = TargetId.make("default")
const NOW = DateTime.unsafeMake(Date.UTC(2026, 0, 15, 12, 0, 0))
/** Nothing the adapter says about one case may be longer than this: no 100 KB string echoed back. */
const MAX_TEXT = 4000

const policy = Schema.decodeUnknownSync(Policy)({
  owners: ["ACME Corp"],
  indicatorTypes: ["Address", "MD5", "SHA1", "SHA256", "Host", "URL"],
  action: "Block"
})

interface Outcome {
  readonly accepted: ReadonlyArray<SourceIndicator>
  readonly rejected: ReadonlyArray<SourceRecordRejected>
  readonly error: SourceError | null
  readonly requests: number
}

const serve = (server: RawServer, c: HostileCase) => {
  const body = expandBody(c, { origin: server.origin })
  const status = optionalInt(c, "status") ?? 200
  const contentType = optional(c, "content-type") ?? "application/json"
  const chunked = optional(c, "chunked")
  const extra: Record<string, string> = {}
  for (const h of values(c, "header")) {
    const [k, v] = splitTilde(h.replace(": ", " ~ "))
    extra[k.toLowerCase()] = v ?? ""
  }
  const every = optional(c, "serve")
  if (every !== undefined && every !== "every-request") throw new CorpusFormatError(`${c.name}: "# serve:" can only be every-request`)
  let served = 0
  server.journal.length = 0
  server.handler = () => {
    served++
    // a server that keeps answering the same page stops after a while, so a followed loop shows as a count
    if (served > 1 && (every === undefined || served > 20)) return { status: 200, body: EMPTY_PAGE }
    return {
      status,
      headers: { "content-type": contentType, ...extra },
      body,
      ...(chunked === undefined ? {} : { chunkBytes: Number(chunked) })
    }
  }
}

const run = (server: RawServer, c: HostileCase) =>
  Effect.gen(function* () {
    serve(server, c)
    const maxResponseBytes = optionalInt(c, "max-response-bytes")
    const source = yield* makeThreatConnectSource({
      apiUrl: `${server.origin}/api`,
      auth: { _tag: "Token", token: Redacted.make(TC_TOKEN) },
      retry: { maxRetries: 1, baseDelay: "1 millis", maxDelay: "5 millis", maxRetryAfter: "5 millis" },
      requestTimeout: "10 seconds",
      ...(maxResponseBytes === undefined ? {} : { maxResponseBytes })
    }).pipe(Effect.provide(NodeHttpClient.layer))
    const accepted: Array<SourceIndicator> = []
    const rejected: Array<SourceRecordRejected> = []
    const result = yield* Stream.runForEach(source.indicators({ policy, since: null }), (item) =>
      Effect.sync(() => {
        if (item._tag === "Indicator") accepted.push(item.indicator)
        else rejected.push(item.rejection)
      })
    ).pipe(Effect.either)
    const outcome: Outcome = {
      accepted,
      rejected,
      error: Either.isLeft(result) ? result.left : null,
      requests: server.journal.length
    }
    return outcome
  })

const checkTexts = (c: HostileCase, outcome: Outcome) => {
  const texts = outcome.rejected.map((r) => r.reason)
  if (outcome.error !== null) texts.push(outcome.error.message, JSON.stringify(outcome.error))
  for (const t of texts) {
    expect(t.length, `${c.name}: a message of ${t.length} characters`).toBeLessThanOrEqual(MAX_TEXT)
    expect(t).not.toContain(TC_TOKEN)
    for (const banned of values(c, "not-in-error")) expect(t).not.toContain(banned)
  }
}

const checkError = (c: HostileCase, outcome: Outcome) => {
  const wanted = expectedError(c)
  if (wanted === undefined) {
    expect(outcome.error?.message ?? null, `${c.name}: no failure expected`).toBeNull()
    return
  }
  expect(outcome.error, `${c.name}: expected ${wanted.tag}`).not.toBeNull()
  if (outcome.error === null) return
  const error = outcome.error
  expect(error._tag).toBe(wanted.tag)
  for (const [k, v] of Object.entries(wanted.fields)) expect(String(Object.entries(error).find(([f]) => f === k)?.[1]), `${c.name}: ${k}`).toBe(v)
  for (const m of wanted.mentions) expect(error.message.toLowerCase()).toContain(m.toLowerCase())
}

const checkRecords = (c: HostileCase, outcome: Outcome) => {
  const count = optionalInt(c, "records")
  // nothing lost: every element of `data` comes out as a record or as a rejection
  if (count !== undefined) expect(outcome.accepted.length + outcome.rejected.length, `${c.name}: records in = accepted + rejected`).toBe(count)
  const accepted = optionalInt(c, "accepted")
  if (accepted !== undefined) expect(outcome.accepted.map((r) => r.id)).toHaveLength(accepted)
  const rejected = optionalInt(c, "rejected")
  if (rejected !== undefined) expect(outcome.rejected, `${c.name}: rejections`).toHaveLength(rejected)
  for (const line of values(c, "accept")) {
    const [id, ...fields] = line.split(/\s+/)
    const record = outcome.accepted.find((r) => r.id === id)
    expect(record, `${c.name}: record ${id} accepted with its id exact`).toBeDefined()
    for (const f of fields) {
      const eq = f.indexOf("=")
      const field = f.slice(0, eq)
      const wanted = f.slice(eq + 1)
      const actual: unknown = record === undefined ? undefined : Object.entries(record).find(([k]) => k === field)?.[1]
      expect(String(actual), `${c.name}: ${id}.${field}`).toBe(wanted)
    }
  }
  for (const line of values(c, "reject")) {
    const [rawId, mention] = splitTilde(line)
    const id = rawId === "-" ? null : rawId
    const match = outcome.rejected.find((r) => r.rawId === id && (mention === undefined || r.reason.toLowerCase().includes(mention.toLowerCase())))
    expect(match, `${c.name}: a rejection of ${rawId} mentioning "${mention ?? ""}" among ${JSON.stringify(outcome.rejected)}`).toBeDefined()
  }
}

/** Whatever a record holds (100 KB tags, descriptions, attributes), the payload sent to Defender stays bounded. */
const checkPayloadBounds = (c: HostileCase, outcome: Outcome) => {
  for (const record of outcome.accepted) {
    for (const key of mapSourceIndicator(TARGET, record, policy, NOW).keys) {
      if (key.outcome._tag === "Rejected") {
        expect(key.outcome.reason.length, `${c.name}: reason for ${record.id}`).toBeLessThanOrEqual(MAX_TEXT)
        continue
      }
      const payload = key.outcome.payload
      expect(Array.from(payload.title).length, `${c.name}: title of ${record.id}`).toBeLessThanOrEqual(PAYLOAD_LIMITS.title)
      expect(Array.from(payload.description).length, `${c.name}: description of ${record.id}`).toBeLessThanOrEqual(PAYLOAD_LIMITS.description)
    }
  }
}

/** `# map: <record id> <DefenderType> Rejected <Code>` or `... Mapped <normalized value>`. */
const checkDomain = (c: HostileCase, outcome: Outcome) => {
  const lines = values(c, "map")
  if (lines.length === 0) return
  const planned = plan({ targetId: TARGET, mode: "full", candidates: outcome.accepted, deletions: [], current: [], foreign: [], policy, now: NOW })
  for (const line of lines) {
    const [id = "", type = "", verdict = "", ...rest] = line.split(/\s+/)
    const expected = rest.join(" ")
    const record = outcome.accepted.find((r) => r.id === id)
    expect(record, `${c.name}: record ${id} reaches the domain`).toBeDefined()
    if (record === undefined) continue
    const key = mapSourceIndicator(TARGET, record, policy, NOW).keys.find((k) => k.key.indicatorType === type)
    expect(key, `${c.name}: record ${id} yields a ${type} key`).toBeDefined()
    if (key === undefined) continue
    if (verdict === "Rejected") {
      expect(key.outcome._tag === "Rejected" ? key.outcome.reasonCode : `Mapped ${key.key.value}`, `${c.name}: ${id} ${type}`).toBe(expected)
      // ... and the planner turns it into IndicatorRejected with the reason, for this record
      const item = planned.reject.find((r) => r.key.indicatorType === type && r.source?.indicatorId === id)
      expect(item?.reasonCode, `${c.name}: plan rejects ${id} ${type}`).toBe(expected)
      if (item === undefined) continue
      const event = localRejectedEvent(item, null, NOW)
      expect(Schema.is(IndicatorRejected)(event)).toBe(true)
      expect(event.reason.length).toBeGreaterThan(10)
      expect(event.reason.length).toBeLessThanOrEqual(MAX_TEXT)
    } else if (verdict === "Mapped") {
      expect(key.outcome._tag === "Mapped" ? key.outcome.payload.indicatorValue : `Rejected ${key.outcome.reasonCode}: ${key.outcome.reason}`, `${c.name}: ${id} ${type}`).toBe(expected)
      const item = planned.create.find((s) => s.key.indicatorType === type && s.key.value === expected)
      expect(item?.payload.externalId, `${c.name}: plan submits ${id} ${type}`).toBe(`threatconnect:${id}`)
    } else if (verdict === "Deselected") {
      // the record is read and mapped, but the policy does not select it: nothing is sent or rejected for it
      expect(planned.create.some((s) => s.key.indicatorType === type && s.source?.indicatorId === id), `${c.name}: ${id} not sent`).toBe(false)
    } else {
      throw new CorpusFormatError(`${c.name}: "# map:" verdict must be Rejected, Mapped or Deselected`)
    }
  }
}

const cases = casesOf("tc-page")

layer(rawServerLayer(), { excludeTestServices: true })("hostile ThreatConnect pages through the real ThreatConnectSource", (it) => {
  it.effect("the corpus holds ThreatConnect cases", () => Effect.sync(() => expect(cases.length).toBeGreaterThanOrEqual(30)))

  for (const c of cases) {
    it.effect(`${c.name}: ${c.what}`, () =>
      Effect.gen(function* () {
        const raw = yield* RawServerTag
        const outcome = yield* run(raw, c)
        checkError(c, outcome)
        checkTexts(c, outcome)
        checkRecords(c, outcome)
        checkDomain(c, outcome)
        checkPayloadBounds(c, outcome)
        const requests = optionalInt(c, "requests")
        if (requests !== undefined) expect(outcome.requests, `${c.name}: requests made`).toBe(requests)
      }))
  }
})
