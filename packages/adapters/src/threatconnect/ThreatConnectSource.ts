import { HttpClient, HttpClientRequest, type HttpClientError, type HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, Clock, Data, DateTime, Duration, Effect, Either, Layer, Option, Redacted, Ref, Schedule, ScheduleDecision, ScheduleIntervals, Stream } from "effect"
import {
  buildTql,
  formatTqlDateTime,
  IndicatorSource,
  lastModifiedClause,
  SourceAuthError,
  SourceItem,
  SourceNextLinkRefused,
  SourcePermissionError,
  SourceProtocolError,
  SourceQueryError,
  SourceResponseTooLarge,
  SourceUnavailableError,
  type SourceConfigError,
  type SourceDeletion,
  type SourceError,
  type SourceIndicator,
  type SourceRecordRejected
} from "@tisync/domain"
import { hmacAuthorization, encodeQueryComponent } from "./HmacSignature.js"
import { deactivationOf, decodeDeletion, decodeErrorBody, decodeIndicator, decodePage } from "./IndicatorDecoder.js"
import { splitJsonArray, type SplitJsonArray } from "./JsonArraySplitter.js"
import { parseLosslessJson } from "./LosslessJson.js"
import { PageBodyBuffer } from "./PageBodyBuffer.js"
import {
  resolveThreatConnectConfig,
  threatConnectConfigFromEnv,
  type ResolvedThreatConnectConfig,
  type ThreatConnectConfig
} from "./ThreatConnectConfig.js"

/**
 * The ThreatConnect v3 adapter of `IndicatorSource` (issue 3; reference/threatconnect-api.md §1-§2, §7).
 *
 * - every request signed over the path and query exactly as sent (HMAC) or carrying `TC-Token`;
 * - `GET /v3/indicators?tql=..&fields=..&resultStart=0&resultLimit=..&sorting=lastModified asc`, then the
 *   absolute `next` links verbatim, one page in memory at a time; a `next` link to another origin is refused;
 * - 5xx, 429 (`Retry-After` honoured) and dropped connections retried with bounded, jittered exponential
 *   backoff; 400/401/403 mapped to typed errors; bodies bounded in size;
 * - bodies parsed keeping 16+-digit integers exact, records decoded one by one (a bad one is a rejection).
 */

/** A failure worth another attempt (5xx, 429, transport, timeout). Internal: surfaces as SourceUnavailableError. */
class Transient extends Data.TaggedError("Transient")<{
  readonly status: number | null
  readonly detail: string
  readonly retryAfter: Duration.Duration | null
}> {}

type AttemptError = Transient | SourceError


const RETRYABLE_STATUS = new Set([500, 502, 503, 504])
/**
 * Records are parsed and decoded this many at a time, as the consumer pulls, and leave as one chunk. Small on
 * purpose: V8 scavenges its young generation every ~16 MB allocated (~600 records here); records held longer
 * than two scavenges are copied to the old generation and only freed by a full GC. A whole page held at once
 * (10,000) or even 1,000 records put ~60 MB of dead records in the old generation per run (peak RSS ~310 MB);
 * with 100 they die young. (Large chunks also overflowed the stack in Effect's `Stream.runFold`.)
 */
export const SOURCE_CHUNK_SIZE = 100
const ERROR_BODY_LIMIT = 64 * 1024

const describeTransport = (error: HttpClientError.HttpClientError): string => {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ""
  return `${error.reason}${cause}`
}

/** What of a server's error message goes into an error: enough to act on, never a whole hostile body. */
const SERVER_MESSAGE_LIMIT = 300

/** A server may quote the credential it refused: it is masked before the text goes into any error. */
const maskSecrets = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((t, secret) => (secret.length >= 4 ? t.split(secret).join("***") : t), text)

const serverMessageOf = (status: number, text: string): string => {
  const parsed = Either.try(() => JSON.parse(text))
  if (Either.isRight(parsed)) {
    const body = decodeErrorBody(parsed.right)
    if (Either.isRight(body)) {
      const message = body.right.message
      return message.length > SERVER_MESSAGE_LIMIT ? `${message.slice(0, SERVER_MESSAGE_LIMIT)}...` : message
    }
  }
  const trimmed = text.trim().slice(0, 200)
  return trimmed === "" ? `HTTP ${status}` : trimmed
}

/** `Retry-After`: delta seconds or an HTTP date. */
const parseRetryAfter = (value: string | undefined, nowMillis: number): Duration.Duration | null => {
  if (value === undefined) return null
  if (/^\d+$/.test(value.trim())) return Duration.seconds(Number(value.trim()))
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Duration.millis(Math.max(0, at - nowMillis))
}

const buildUrl = (base: URL, path: string, params: ReadonlyArray<readonly [string, string]>): URL => {
  const query = params.map(([k, v]) => `${encodeQueryComponent(k)}=${encodeQueryComponent(v)}`).join("&")
  return new URL(`${base.origin}${base.pathname}${path}${query === "" ? "" : `?${query}`}`)
}

const RAW_ID = /"id"\s*:\s*"?(-?\d{1,20})/

/** One record's JSON text to a value; a record that is not JSON is reported, with its id when one is visible. */
const parseRecord = (text: string): Either.Either<unknown, string> =>
  Either.try({ try: () => JSON.parse(text), catch: () => "the record is not valid JSON" })

const decodeRecord = (text: string): Either.Either<SourceIndicator, SourceRecordRejected> =>
  Either.match(parseRecord(text), {
    onLeft: (reason) => Either.left({ rawId: RAW_ID.exec(text)?.[1] ?? null, reason }),
    onRight: decodeIndicator
  })

export type IndicatorSourceService = typeof IndicatorSource.Service

export const makeThreatConnectSource = (
  config: ThreatConnectConfig
): Effect.Effect<IndicatorSourceService, SourceConfigError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const cfg = yield* resolveThreatConnectConfig(config)
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const requests = yield* Ref.make(0)
    const fetchPage = makeFetchPage(cfg, makeGet(cfg, client, requests))
    // Pages are fetched one at a time as the consumer pulls. A page's body is read whole (bounded by
    // maxResponseBytes, into one buffer reused for every page of the listing), its envelope checked and its
    // records located (splitJsonArray) before anything of it is emitted, so a retried page never repeats
    // records; then its records are parsed and decoded SOURCE_CHUNK_SIZE at a time as the consumer pulls.
    // The largest things held are one page's bytes and one chunk of decoded records.
    // A `next` link back to a page already read would page forever (a hostile or broken server): refused.
    const records = <A>(first: URL, tql: string | null, decode: (record: string) => A): Stream.Stream<A, SourceError> =>
      Stream.suspend(() => {
        const buffer = new PageBodyBuffer()
        const visited = new Set<string>()
        return Stream.paginateEffect(first, (url) => {
          visited.add(url.href)
          return fetchPage(url, tql, buffer).pipe(
            Effect.flatMap((page) =>
              page.next !== null && visited.has(page.next.href)
                ? Effect.fail(new SourceProtocolError({ method: "GET", path: url.pathname, status: 200, detail: "the next link points back to a page already read (a paging loop)" }))
                : Effect.succeed([page, Option.fromNullable(page.next)] as const)
            )
          )
        }).pipe(Stream.flatMap((page) => decodeInChunks(page, buffer, decode)))
      })

    const listUrl = (tql: string, fields: ReadonlyArray<string>) =>
      buildUrl(cfg.base, "/v3/indicators", [
        ["tql", tql],
        ...fields.map((f) => ["fields", f] as const),
        ["resultStart", "0"],
        ["resultLimit", String(cfg.resultLimit)],
        ["sorting", "lastModified asc"]
      ])

    const indicators: IndicatorSourceService["indicators"] = ({ policy, since }) => {
      const query = buildTql(policy, since)
      if (query._tag === "MatchesNothing") return Stream.empty
      return records(listUrl(query.tql, cfg.fields), query.tql, (text) =>
        Either.match(decodeRecord(text), {
          onLeft: (rejection) => SourceItem.Rejected({ rejection }),
          onRight: (indicator) => SourceItem.Indicator({ indicator })
        })
      )
    }

    const deleted = (since: DateTime.Utc): Stream.Stream<SourceDeletion, SourceError> =>
      Stream.unwrap(
        Effect.gen(function* () {
          const listedAt = DateTime.unsafeMake(yield* Clock.currentTimeMillis)
          const url = buildUrl(cfg.base, "/v3/indicators/deleted", [
            ["deletedSince", formatTqlDateTime(since)],
            ["resultStart", "0"],
            ["resultLimit", String(cfg.resultLimit)]
          ])
          return records(url, null, (text) => Either.flatMap(parseRecord(text), (raw) => decodeDeletion(raw, listedAt))).pipe(
            Stream.mapEffect((decoded) =>
              Either.match(decoded, {
                onLeft: (reason) => Effect.as(Effect.logWarning(`ThreatConnect deleted item skipped: ${reason}`), Option.none()),
                onRight: (d) => Effect.succeed(Option.some(d))
              })
            ),
            Stream.filterMap((o) => o)
          )
        })
      )

    // The default listing only returns active records (reference §2a); asking for `indicatorActive = false`
    // explicitly is how deactivated ones are found (whether real TC honours it is UNCONFIRMED, §2a).
    const deactivated = (since: DateTime.Utc): Stream.Stream<SourceDeletion, SourceError> => {
      const tql = `indicatorActive = false AND ${lastModifiedClause(since)}`
      return records(listUrl(tql, []), tql, decodeRecord).pipe(
        Stream.mapEffect((decoded) =>
          Either.match(decoded, {
            onLeft: (r) => Effect.as(Effect.logWarning(`ThreatConnect deactivated record ${r.rawId} skipped: ${r.reason}`), Option.none()),
            onRight: (i) => Effect.succeed(Option.some(deactivationOf(i)))
          })
        ),
        Stream.filterMap((o) => o)
      )
    }

    return IndicatorSource.of({
      indicators,
      deletions: (since) => Stream.concat(deleted(since), deactivated(since)),
      requestCount: Ref.get(requests)
    })
  })

/** One GET with auth, retries, size bound and status mapping; `onOk` reads the body of a 200. */
const makeGet = (cfg: ResolvedThreatConnectConfig, client: HttpClient.HttpClient, requests: Ref.Ref<number>) => {
  const authHeaders = (pathAndQuery: string, method: string, timestamp: number): Record<string, string> =>
    cfg.auth._tag === "Hmac"
      ? {
          authorization: hmacAuthorization(cfg.auth.accessId, Redacted.value(cfg.auth.secretKey), pathAndQuery, method, timestamp),
          timestamp: String(timestamp)
        }
      : { authorization: `TC-Token ${Redacted.value(cfg.auth.token)}`, timestamp: String(timestamp) }

  const secrets = cfg.auth._tag === "Hmac" ? [Redacted.value(cfg.auth.secretKey)] : [Redacted.value(cfg.auth.token)]

  const interpret = <A>(
    method: string,
    path: string,
    tql: string | null,
    response: HttpClientResponse.HttpClientResponse,
    nowMillis: number,
    onOk: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, AttemptError>
  ): Effect.Effect<A, AttemptError> =>
    Effect.gen(function* () {
      const status = response.status
      if (status === 200) return yield* onOk(response)
      const serverMessage = serverMessageOf(status, maskSecrets(yield* readText(response, method, path, ERROR_BODY_LIMIT), secrets))
      if (status === 400 && tql !== null) return yield* new SourceQueryError({ method, path, tql, serverMessage })
      if (status === 401) return yield* new SourceAuthError({ method, path, serverMessage })
      if (status === 403) return yield* new SourcePermissionError({ method, path, serverMessage })
      if (status === 429) {
        const retryAfter = parseRetryAfter(response.headers["retry-after"], nowMillis)
        return yield* new Transient({ status, detail: serverMessage, retryAfter })
      }
      if (RETRYABLE_STATUS.has(status)) return yield* new Transient({ status, detail: serverMessage, retryAfter: null })
      return yield* new SourceProtocolError({ method, path, status, detail: serverMessage })
    })

  const maxRetryAfter = Duration.decode(cfg.retry.maxRetryAfter)
  const maxDelay = Duration.decode(cfg.retry.maxDelay)
  // Exponential backoff with jitter, each delay bounded, at most maxRetries retries; a Retry-After longer
  // than the backoff wins (up to maxRetryAfter). Only Transient failures are retried.
  const schedule = Schedule.exponential(cfg.retry.baseDelay).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((d) => Duration.min(d, maxDelay)),
    Schedule.intersect(Schedule.recurs(cfg.retry.maxRetries)),
    Schedule.zipRight(Schedule.identity<AttemptError>()),
    Schedule.whileInput((e: AttemptError) => e._tag === "Transient"),
    Schedule.modifyDelay((e, d) =>
      e._tag === "Transient" && e.retryAfter !== null ? Duration.max(d, Duration.min(e.retryAfter, maxRetryAfter)) : d
    ),
    // Each wait is logged (the run's annotations say which run).
    Schedule.onDecision((e, decision) =>
      ScheduleDecision.isContinue(decision) && e._tag === "Transient"
        ? Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.logWarning(
              `ThreatConnect: ${e.status === null ? "" : `HTTP ${e.status} `}${e.detail.slice(0, 200)}; retrying in ${Duration.format(Duration.millis(Math.max(0, ScheduleIntervals.start(decision.intervals) - now)))}`
            )
          )
        : Effect.void
    )
  )

  return <A>(
    url: URL,
    tql: string | null,
    onOk: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, AttemptError>
  ): Effect.Effect<A, SourceError> =>
    Effect.suspend(() => {
      const method = "GET"
      const path = url.pathname
      let attempts = 0
      const attempt = Effect.gen(function* () {
        attempts += 1
        yield* Ref.update(requests, (n) => n + 1)
        const nowMillis = yield* Clock.currentTimeMillis
        const request = HttpClientRequest.get(url.href).pipe(
          HttpClientRequest.setHeaders(authHeaders(url.pathname + url.search, method, Math.floor(nowMillis / 1000))),
          HttpClientRequest.acceptJson
        )
        const response = yield* client.execute(request).pipe(
          Effect.catchAll((e) => Effect.fail(new Transient({ status: null, detail: describeTransport(e), retryAfter: null })))
        )
        return yield* interpret(method, path, tql, response, nowMillis, onOk)
      }).pipe(
        Effect.timeoutFail({
          duration: cfg.requestTimeout,
          onTimeout: () => new Transient({ status: null, detail: `no complete answer within ${Duration.format(cfg.requestTimeout)}`, retryAfter: null })
        })
      )
      return attempt.pipe(
        Effect.retry(schedule),
        Effect.catchTag("Transient", (e) =>
          Effect.fail(new SourceUnavailableError({ method, path, status: e.status, attempts, detail: e.detail }))
        )
      )
    })
}

const lostConnection = (e: HttpClientError.ResponseError) =>
  new Transient({ status: null, detail: `connection lost while reading the body: ${describeTransport(e)}`, retryAfter: null })

const tooLarge = (response: HttpClientResponse.HttpClientResponse, method: string, path: string, limit: number) => {
  const declared = Number(response.headers["content-length"])
  return Number.isFinite(declared) && declared > limit ? new SourceResponseTooLarge({ method, path, limitBytes: limit }) : null
}

/** A body's bytes, bounded, copied into `buffer` as they arrive (each chunk dies young). */
const readInto = (
  response: HttpClientResponse.HttpClientResponse,
  method: string,
  path: string,
  limit: number,
  buffer: PageBodyBuffer
): Effect.Effect<number, Transient | SourceResponseTooLarge> => {
  const declared = tooLarge(response, method, path, limit)
  if (declared !== null) return Effect.fail(declared)
  const length = Number(response.headers["content-length"])
  const generation = buffer.begin(Number.isSafeInteger(length) && length > 0 ? length : null, limit)
  return Stream.runForEach(response.stream, (chunk) =>
    buffer.append(chunk, limit) ? Effect.void : Effect.fail(new SourceResponseTooLarge({ method, path, limitBytes: limit }))
  ).pipe(
    Effect.as(generation),
    Effect.catchTag("ResponseError", (e) => Effect.fail(lostConnection(e)))
  )
}

/** A (small) body as text, bounded. */
const readText = (
  response: HttpClientResponse.HttpClientResponse,
  method: string,
  path: string,
  limit: number
): Effect.Effect<string, Transient | SourceResponseTooLarge> =>
  Effect.suspend(() => {
    const buffer = new PageBodyBuffer()
    return Effect.map(readInto(response, method, path, limit, buffer), () => buffer.body().toString("utf8"))
  })

interface PageBody {
  readonly records: SplitJsonArray
  /** The generation of the reused buffer the records point into. */
  readonly generation: number
}

/** A page body, bounded, with the records of its `data` array located (not parsed yet). */
const readPage = (
  response: HttpClientResponse.HttpClientResponse,
  method: string,
  path: string,
  limit: number,
  buffer: PageBodyBuffer
): Effect.Effect<PageBody, AttemptError> =>
  Effect.flatMap(readInto(response, method, path, limit, buffer), (generation) =>
    Effect.try({
      try: () => ({ records: splitJsonArray(buffer.body(), "data"), generation }),
      catch: () => new SourceProtocolError({ method, path, status: 200, detail: "the body is not a JSON object with a data array" })
    })
  )

/** A page's records, parsed and decoded SOURCE_CHUNK_SIZE at a time as they are pulled. */
const decodeInChunks = <A>(page: PageBody, buffer: PageBodyBuffer, decode: (record: string) => A): Stream.Stream<A> =>
  Stream.unfoldChunk(0, (from) => {
    if (from >= page.records.length) return Option.none()
    // a defect, not a failure: the pages of one listing are read one after the other
    if (!buffer.isCurrent(page.generation)) throw new Error("a ThreatConnect page was decoded after its buffer was reused")
    const to = Math.min(from + SOURCE_CHUNK_SIZE, page.records.length)
    const out: Array<A> = []
    for (let i = from; i < to; i++) out.push(decode(page.records.element(i)))
    return Option.some([Chunk.unsafeFromArray(out), to] as const)
  })

interface Page extends PageBody {
  readonly next: URL | null
}

/** One page: body read, records located, envelope checked, `next` resolved and confined to the configured origin. */
const makeFetchPage =
  (cfg: ResolvedThreatConnectConfig, get: ReturnType<typeof makeGet>) =>
  (url: URL, tql: string | null, buffer: PageBodyBuffer): Effect.Effect<Page, SourceError> =>
    Effect.gen(function* () {
      const body = yield* get(url, tql, (response) => readPage(response, "GET", url.pathname, cfg.maxResponseBytes, buffer))
      const envelope = body.records.envelope
      const protocolError = (detail: string) => new SourceProtocolError({ method: "GET", path: url.pathname, status: 200, detail })
      const page = Either.flatMap(
        Either.try({ try: () => parseLosslessJson(envelope), catch: () => "not JSON" }),
        (body) => Either.mapLeft(decodePage(body), () => "not a success envelope with a data array")
      )
      if (Either.isLeft(page)) return yield* protocolError(page.left)
      // The splitter empties the first `data` array; anything left is a second `data` key, whose records
      // would otherwise vanish without a trace.
      if (page.right.data.length > 0) return yield* protocolError("the page holds more than one data array")
      const nextLink = page.right.next
      if (nextLink === undefined || nextLink === null || nextLink === "") return { ...body, next: null }
      const next = yield* Effect.try({
        try: () => new URL(nextLink, cfg.base),
        catch: () => protocolError("the next link is not a URL")
      })
      if (next.origin !== cfg.base.origin) {
        return yield* new SourceNextLinkRefused({ linkOrigin: next.origin, expectedOrigin: cfg.base.origin })
      }
      return { ...body, next }
    }).pipe(Effect.withSpan("threatconnect.page", { attributes: { "url.path": url.pathname } }))

/** The adapter as a Layer over any HttpClient. */
export const threatConnectSourceLayer = (config: ThreatConnectConfig): Layer.Layer<IndicatorSource, SourceConfigError, HttpClient.HttpClient> =>
  Layer.effect(IndicatorSource, makeThreatConnectSource(config))

/** The adapter on Node's http client (tests, `demo`, benchmarks: built with the simulator's URL). */
export const threatConnectSourceNodeLayer = (config: ThreatConnectConfig): Layer.Layer<IndicatorSource, SourceConfigError> =>
  threatConnectSourceLayer(config).pipe(Layer.provide(NodeHttpClient.layer))

/** The adapter configured from `TC_API_URL`, `TC_ACCESS_ID`/`TC_SECRET_KEY` or `TC_API_TOKEN`. */
export const threatConnectSourceFromEnvLayer: Layer.Layer<IndicatorSource, SourceConfigError> = Layer.effect(
  IndicatorSource,
  Effect.flatMap(threatConnectConfigFromEnv, makeThreatConnectSource)
).pipe(Layer.provide(NodeHttpClient.layer))
