import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import {
  BATCH_DELETE_LIMIT,
  type BatchDeleteResult,
  DefenderConfigError,
  DefenderErrorBody,
  DefenderForbidden,
  type DefenderIndicator,
  DefenderImportResponse,
  DefenderListResponse,
  type DefenderPayload,
  DefenderQuotaExceeded,
  DefenderServerError,
  DefenderThrottled,
  DefenderTransportError,
  DefenderUnauthorized,
  DefenderValidation,
  decodeDefenderIndicator,
  DEFENDER_INDICATOR_LIMIT,
  type DefenderCloud,
  IMPORT_BATCH_LIMIT,
  IndicatorSink,
  isQuotaExceededMessage,
  LIST_PAGE_LIMIT,
  type ListOptions,
  matchImportResults,
  type SinkCallCounts,
  type SinkEndpoint,
  type SinkError,
  TokenProvider
} from "@tisync/domain"
import { Chunk, Clock, Config, Duration, Effect, Either, Layer, Option, ParseResult, Redacted, Schedule, ScheduleDecision, ScheduleIntervals as Intervals, Schema, Stream } from "effect"
import { checkEndpointUrl, DEFENDER_CLOUDS, trimSlash } from "./DefenderCloudSettings.js"
import { limitersFor, type RateLimitSetting } from "./DefenderRateLimits.js"
import { MsalTokenProviderFromEnv } from "./MsalTokenProvider.js"

export interface DefenderRetrySettings {
  /** Retries after the first attempt (default 5). */
  readonly maxRetries?: number
  /** First backoff delay (default 500 ms), doubled each time, jittered. */
  readonly baseDelayMillis?: number
  /** Cap on one backoff delay (default 30 s). */
  readonly maxDelayMillis?: number
  /** A 429 asking to wait longer than this is not retried (default 120 s). */
  readonly maxRetryAfterSeconds?: number
}

export interface DefenderSinkConfig {
  /** API base: `DEFENDER_API_URL` or the cloud's host. tisync appends `/api/indicators...`. */
  readonly apiUrl: string
  /** Client-side rate limits (default `documented`). */
  readonly rateLimits?: RateLimitSetting
  /** Identifies the application + tenant the limits are shared for (default: the API base). */
  readonly rateLimitKey?: string
  readonly retry?: DefenderRetrySettings
  /** One HTTP request's time limit (default 60 s). */
  readonly requestTimeoutMillis?: number
  /** Reported in DefenderQuotaExceeded (default 15,000). */
  readonly tenantLimit?: number
  /** Largest response body read (default 64 MiB; a full list page of 10,000 indicators is ~20 MB). */
  readonly maxResponseBytes?: number
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const decodeErrorBody = Schema.decodeUnknownOption(DefenderErrorBody)

/** What of Defender's own text goes into an error or an event: enough to act on, never a 100 KB body. */
const SERVER_TEXT_LIMIT = 1000
const bounded = (text: string): string => (text.length > SERVER_TEXT_LIMIT ? `${text.slice(0, SERVER_TEXT_LIMIT)}...` : text)

/** Turns a non-2xx answer into the port's error (reference/defender-api.md §2.6). */
const classify = (endpoint: SinkEndpoint, r: RawResponse, tenantLimit: number): SinkError => {
  const body = decodeErrorBody(parseJson(r.text))
  const fields = {
    endpoint,
    status: r.status,
    code: Option.match(body, { onNone: () => `HTTP${r.status}`, onSome: (b) => bounded(b.error.code) }),
    serverMessage: Option.match(body, { onNone: () => r.text.slice(0, 300), onSome: (b) => bounded(b.error.message) }),
    correlationId: Option.match(body, { onNone: () => null, onSome: (b) => (b.error.target === null ? null : bounded(b.error.target)) })
  }
  const retryAfter = Number(r.headers["retry-after"])
  if (r.status === 401) return new DefenderUnauthorized(fields)
  if (r.status === 403) return new DefenderForbidden(fields)
  if (r.status === 429) {
    return new DefenderThrottled({ ...fields, retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 60 })
  }
  if (r.status >= 500) return new DefenderServerError(fields)
  if (isQuotaExceededMessage(fields.serverMessage)) return new DefenderQuotaExceeded({ ...fields, limit: tenantLimit })
  return new DefenderValidation(fields)
}

const isRetryable = (maxRetryAfter: number) => (e: SinkError): boolean =>
  e._tag === "DefenderServerError" ||
  (e._tag === "DefenderTransportError" && e.kind !== "decode") ||
  (e._tag === "DefenderThrottled" && e.retryAfterSeconds <= maxRetryAfter)

const localValidation = (endpoint: SinkEndpoint, code: string, message: string) =>
  new DefenderValidation({ endpoint, status: 0, code, serverMessage: message, correlationId: null })

/**
 * The IndicatorSink on Defender's indicators API (DESIGN §4, reference/defender-api.md §2), over
 * @effect/platform's HttpClient. Every request goes through the endpoint's rate limiter, carries a fresh
 * bearer token (one forced refresh on 401), is counted, timed out, and retried with jittered exponential
 * backoff on 5xx / dropped connections and after `Retry-After` on 429.
 */
export const makeDefenderIndicatorSink = (
  config: DefenderSinkConfig
): Effect.Effect<IndicatorSink["Type"], DefenderConfigError, TokenProvider | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const base = yield* checkEndpointUrl("DEFENDER_API_URL", config.apiUrl)
    const apiBase = trimSlash(base.toString())
    const client = yield* HttpClient.HttpClient
    const tokens = yield* TokenProvider
    const limiters = limitersFor(config.rateLimitKey ?? apiBase, config.rateLimits ?? "documented")
    const tenantLimit = config.tenantLimit ?? DEFENDER_INDICATOR_LIMIT
    const timeout = config.requestTimeoutMillis ?? 60_000
    const retry = config.retry ?? {}
    const maxRetryAfter = retry.maxRetryAfterSeconds ?? 120
    const maxDelay = Duration.millis(retry.maxDelayMillis ?? 30_000)
    const counts: Record<SinkEndpoint, number> = { import: 0, submit: 0, list: 0, delete: 0, batchDelete: 0 }

    const retrySchedule = Schedule.exponential(Duration.millis(retry.baseDelayMillis ?? 500), 2).pipe(
      Schedule.jittered,
      Schedule.zipWith(Schedule.identity<SinkError>(), (delay, error) => ({ delay, error })),
      Schedule.modifyDelay(({ error }, delay) =>
        error._tag === "DefenderThrottled" ? Duration.seconds(error.retryAfterSeconds) : Duration.min(delay, maxDelay)
      ),
      Schedule.intersect(Schedule.recurs(retry.maxRetries ?? 5)),
      Schedule.whileInput(isRetryable(maxRetryAfter)),
      // Each wait is logged (operators see 429 storms and 5xx at once; the run's annotations say which run).
      Schedule.onDecision(([{ error }, retries], decision) =>
        ScheduleDecision.isContinue(decision)
          ? Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.logWarning(
                `Defender ${"endpoint" in error ? error.endpoint : "call"}: ${"status" in error ? `HTTP ${error.status} ` : ""}${error._tag}; retry ${retries + 1} in ${Duration.format(Duration.millis(Math.max(0, Intervals.start(decision.intervals) - now)))}`
              )
            )
          : Effect.void
      )
    )

    /**
     * The body as text, refused past `maxResponseBytes` (declared or as it arrives) instead of buffered:
     * a broken or hostile endpoint could otherwise fill the memory. Not retried (kind "decode").
     */
    const maxResponseBytes = config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    const readBounded = (endpoint: SinkEndpoint, what: string, res: HttpClientResponse.HttpClientResponse) => {
      const tooLarge = () => new DefenderTransportError({ endpoint, kind: "decode", detail: `${what}: the response exceeds ${maxResponseBytes} bytes` })
      const declared = Number(res.headers["content-length"])
      if (Number.isFinite(declared) && declared > maxResponseBytes) return Effect.fail(tooLarge())
      return Stream.runFoldEffect(res.stream, { chunks: new Array<Uint8Array>(), size: 0 }, (acc, chunk) => {
        acc.size += chunk.length
        if (acc.size > maxResponseBytes) return Effect.fail(tooLarge())
        acc.chunks.push(chunk)
        return Effect.succeed(acc)
      }).pipe(Effect.map((acc) => Buffer.concat(acc.chunks, acc.size).toString("utf8")))
    }

    /** One HTTP request: rate-limited, counted, timed out; the body read as text. */
    const once = (endpoint: SinkEndpoint, request: HttpClientRequest.HttpClientRequest): Effect.Effect<RawResponse, DefenderTransportError> =>
      limiters[endpoint](
        Effect.suspend(() => {
          counts[endpoint]++
          const what = `${request.method} ${new URL(request.url).pathname}`
          return client.execute(request).pipe(
            Effect.flatMap((res) => Effect.map(readBounded(endpoint, what, res), (text): RawResponse => ({ status: res.status, headers: res.headers, text }))),
            Effect.mapError((e) => e._tag === "DefenderTransportError" ? e : new DefenderTransportError({ endpoint, kind: "connection", detail: `${what}: ${e.message}` })),
            Effect.timeoutFail({
              duration: timeout,
              onTimeout: () => new DefenderTransportError({ endpoint, kind: "timeout", detail: `${request.method} ${new URL(request.url).pathname} took longer than ${timeout} ms` })
            })
          )
        })
      )

    /** A request with the bearer token; on 401 the token is refreshed once and the request sent again. */
    const authorized = (endpoint: SinkEndpoint, build: () => HttpClientRequest.HttpClientRequest, ok: ReadonlyArray<number>) => {
      const send = (token: Redacted.Redacted<string>) =>
        once(endpoint, build().pipe(HttpClientRequest.bearerToken(Redacted.value(token)), HttpClientRequest.acceptJson))
      const attempt: Effect.Effect<RawResponse, SinkError> = Effect.gen(function* () {
        const firstToken = (yield* tokens.token).token
        const first = yield* send(firstToken)
        const lastToken = first.status === 401 ? (yield* tokens.refresh).token : firstToken
        const r = first.status === 401 ? yield* send(lastToken) : first
        if (ok.includes(r.status) || (r.status >= 200 && r.status < 300)) return r
        // An error body may quote the bearer token it refused: masked before it goes into any error.
        const masked = [firstToken, lastToken].map(Redacted.value).reduce((text, t) => (t.length >= 4 ? text.split(t).join("***") : text), r.text)
        return yield* Effect.fail(classify(endpoint, { ...r, text: masked }, tenantLimit))
      })
      return Effect.retry(attempt, retrySchedule)
    }

    const url = (path: string, query?: Record<string, string>) => {
      const u = new URL(`${apiBase}${path}`)
      for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, v)
      // OData wants `$top`, not `%24top`; URLSearchParams encodes `$`.
      return u.toString().replace(/%24/g, "$")
    }

    const decodeBody = <A, I>(endpoint: SinkEndpoint, schema: Schema.Schema<A, I>, r: RawResponse): Effect.Effect<A, DefenderTransportError> =>
      Either.match(Schema.decodeUnknownEither(schema)(parseJson(r.text)), {
        onLeft: (e) => Effect.fail(new DefenderTransportError({ endpoint, kind: "decode", detail: e.message.slice(0, 500) })),
        onRight: Effect.succeed
      })

    const importBatch = (payloads: ReadonlyArray<DefenderPayload>) => {
      if (payloads.length === 0) return Effect.succeed([])
      if (payloads.length > IMPORT_BATCH_LIMIT) {
        return Effect.fail(localValidation("import", "MaximumBatchSizeExceeded", `Maximum batch size exceeded. Received: ${payloads.length}, allowed: ${IMPORT_BATCH_LIMIT}.`))
      }
      return authorized("import", () => HttpClientRequest.post(url("/api/indicators/import")).pipe(HttpClientRequest.bodyUnsafeJson({ Indicators: payloads })), []).pipe(
        Effect.flatMap((r) => decodeBody("import", DefenderImportResponse, r)),
        Effect.map((body) =>
          matchImportResults(payloads, body.value.map((item) => ({ ...item, failureReason: item.failureReason === null ? null : bounded(item.failureReason) })))
        )
      )
    }

    const submit = (payload: DefenderPayload) =>
      authorized("submit", () => HttpClientRequest.post(url("/api/indicators")).pipe(HttpClientRequest.bodyUnsafeJson(payload)), []).pipe(
        Effect.flatMap((r) =>
          Either.match(decodeDefenderIndicator(parseJson(r.text)), {
            onLeft: (e) => Effect.fail<SinkError>(new DefenderTransportError({ endpoint: "submit", kind: "decode", detail: e.message.slice(0, 500) })),
            onRight: (i) => Effect.succeed(i)
          })
        )
      )

    type Cursor = { readonly _tag: "Skip"; readonly skip: number } | { readonly _tag: "Link"; readonly url: string; readonly skip: number }

    const list = (options?: ListOptions): Stream.Stream<DefenderIndicator, SinkError> => {
      const top = Math.max(1, Math.min(LIST_PAGE_LIMIT, options?.pageSize ?? LIST_PAGE_LIMIT))
      const filter = options?.filter
      const seen = new Set<string>()
      const pageUrl = (c: Cursor) =>
        c._tag === "Link"
          ? c.url
          : url("/api/indicators", { ...(filter === undefined ? {} : { $filter: filter }), $top: String(top), $skip: String(c.skip) })
      const fetchPage = (c: Cursor) =>
        authorized("list", () => HttpClientRequest.get(pageUrl(c)), []).pipe(
          Effect.flatMap((r) => decodeBody("list", DefenderListResponse, r)),
          Effect.flatMap((body) =>
            Effect.gen(function* () {
              const items: Array<DefenderIndicator> = []
              for (const raw of body.value) {
                const d = decodeDefenderIndicator(raw)
                if (Either.isLeft(d)) {
                  // Named (its id when it has a usable one) and why, so an operator can find it in Defender.
                  const id = typeof raw === "object" && raw !== null && "id" in raw && (typeof raw.id === "string" || typeof raw.id === "number") ? bounded(String(raw.id)) : "(no id)"
                  yield* Effect.logWarning(`Defender list: indicator ${id} skipped: ${bounded(ParseResult.TreeFormatter.formatErrorSync(d.left))}`)
                  continue
                }
                // Offset paging over a changing set can repeat an item: keep the first.
                if (seen.has(d.right.id)) continue
                seen.add(d.right.id)
                items.push(d.right)
              }
              const skip = c.skip + body.value.length
              const link = body["@odata.nextLink"]
              let next: Option.Option<Cursor> = Option.none()
              // nextLink is followed only on the API's own origin (never hand the token to another host)
              // and only when it moves on (a repeating nextLink is a known MDE bug, §2.3).
              if (link !== null && body.value.length > 0 && link !== pageUrl(c) && sameOrigin(link, apiBase)) next = Option.some({ _tag: "Link", url: link, skip })
              else if (body.value.length >= top) next = Option.some({ _tag: "Skip", skip })
              return [Chunk.fromIterable(items), next] as const
            })
          )
        )
      return Stream.paginateChunkEffect<Cursor, DefenderIndicator, SinkError, never>({ _tag: "Skip", skip: 0 }, fetchPage)
    }

    const deleteOne = (id: string) =>
      authorized("delete", () => HttpClientRequest.del(url(`/api/indicators/${encodeURIComponent(id)}`)), [404]).pipe(
        Effect.map((r) => (r.status === 404 ? ("AlreadyGone" as const) : ("Deleted" as const)))
      )

    /** A 404 names no id (§2.5): split the batch until each missing id stands alone. */
    const deleteSplit = (ids: ReadonlyArray<string>): Effect.Effect<BatchDeleteResult, SinkError> =>
      authorized("batchDelete", () => HttpClientRequest.post(url("/api/indicators/BatchDelete")).pipe(HttpClientRequest.bodyUnsafeJson({ IndicatorIds: ids })), [404]).pipe(
        Effect.flatMap((r): Effect.Effect<BatchDeleteResult, SinkError> => {
          if (r.status !== 404) return Effect.succeed({ deleted: ids, alreadyGone: [] })
          if (ids.length === 1) return Effect.succeed({ deleted: [], alreadyGone: ids })
          const half = Math.ceil(ids.length / 2)
          return Effect.zipWith(deleteSplit(ids.slice(0, half)), deleteSplit(ids.slice(half)), (a, b) => ({
            deleted: [...a.deleted, ...b.deleted],
            alreadyGone: [...a.alreadyGone, ...b.alreadyGone]
          }))
        })
      )

    const batchDelete = (ids: ReadonlyArray<string>) => {
      const unique = [...new Set(ids)]
      if (unique.length === 0) return Effect.succeed<BatchDeleteResult>({ deleted: [], alreadyGone: [] })
      if (unique.length > BATCH_DELETE_LIMIT) {
        return Effect.fail(localValidation("batchDelete", "MaximumBatchSizeExceeded", `Received: ${unique.length}, allowed: ${BATCH_DELETE_LIMIT}.`))
      }
      return deleteSplit(unique)
    }

    return IndicatorSink.of({
      importBatch,
      submit,
      list,
      deleteOne,
      batchDelete,
      callCounts: Effect.sync((): SinkCallCounts => ({ ...counts }))
    })
  })

const sameOrigin = (link: string, apiBase: string): boolean => {
  try {
    return new URL(link).origin === new URL(apiBase).origin
  } catch {
    return false
  }
}

export const DefenderIndicatorSinkLive = (
  config: DefenderSinkConfig
): Layer.Layer<IndicatorSink, DefenderConfigError, TokenProvider | HttpClient.HttpClient> =>
  Layer.effect(IndicatorSink, makeDefenderIndicatorSink(config))

/** `DEFENDER_API_URL`, else the host of `DEFENDER_CLOUD` (DESIGN §7). */
export const defenderApiUrlFromEnv: Effect.Effect<string, DefenderConfigError> = Effect.gen(function* () {
  const cloud = yield* Config.literal("commercial", "gcc", "gcc-high", "dod")("DEFENDER_CLOUD").pipe(
    Config.withDefault<DefenderCloud>("commercial"),
    Effect.mapError(() => new DefenderConfigError({ key: "DEFENDER_CLOUD", reason: "must be commercial, gcc, gcc-high or dod" }))
  )
  const override = yield* Config.option(Config.nonEmptyString("DEFENDER_API_URL")).pipe(
    Effect.mapError(() => new DefenderConfigError({ key: "DEFENDER_API_URL", reason: "is invalid" }))
  )
  return Option.getOrElse(override, () => DEFENDER_CLOUDS[cloud].apiUrl)
})

/**
 * Both Defender ports from the environment (DESIGN §7) with the documented rate limits, on Node's
 * HTTP client: what the app's composition root uses for the default target.
 */
export const DefenderFromEnv: Layer.Layer<IndicatorSink | TokenProvider, DefenderConfigError> = Layer.effect(
  IndicatorSink,
  Effect.flatMap(defenderApiUrlFromEnv, (apiUrl) => makeDefenderIndicatorSink({ apiUrl }))
).pipe(Layer.provideMerge(MsalTokenProviderFromEnv), Layer.provide(NodeHttpClient.layer))
