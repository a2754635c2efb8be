import { Duration, Effect, Layer, Option } from "effect"
import {
  DefenderIndicatorSinkLive,
  MsalTokenProviderLive,
  PgliteStoreLive,
  PostgresStoreLive,
  type DatabaseConfigError,
  type StoreServices,
  threatConnectConfigFromEnv,
  threatConnectSourceLayer
} from "@tisync/adapters"
import { DefenderConfigError, type EventStoreError, SourceConfigError, type StoreInUse } from "@tisync/domain"
import type { DefenderTargetSettings, StoreSettings } from "../config/Environment.js"
import { httpTuningFromEnv } from "../config/HttpTuning.js"
import { ObservedNodeHttpClient } from "../observability/ApiCallMetrics.js"
import { RunIdGeneratorLive } from "../sync/RunIdGenerator.js"

/** The event log and projections: PostgreSQL when TISYNC_DATABASE_URL is set, else embedded PGlite. */
export const storeLayerOf = (
  settings: StoreSettings
): Layer.Layer<StoreServices, EventStoreError | StoreInUse | DatabaseConfigError> =>
  settings.databaseUrl === null ? PgliteStoreLive(settings.dataDir) : PostgresStoreLive(settings.databaseUrl)

/**
 * ThreatConnect from TC_API_URL, TC_ACCESS_ID/TC_SECRET_KEY or TC_API_TOKEN (DESIGN §7), on Node's HTTP
 * client observed for the API call metrics.
 */
export const sourceLayerFromEnv = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* threatConnectConfigFromEnv
    const tuning = yield* Effect.mapError(httpTuningFromEnv, (e) => new SourceConfigError(e))
    return threatConnectSourceLayer({
      ...config,
      ...Option.match(tuning.requestTimeoutMillis, { onNone: () => ({}), onSome: (ms) => ({ requestTimeout: Duration.millis(ms) }) }),
      ...Option.match(tuning.retryBaseDelayMillis, { onNone: () => ({}), onSome: (ms) => ({ retry: { ...config.retry, baseDelay: Duration.millis(ms) } }) })
    }).pipe(Layer.provide(ObservedNodeHttpClient))
  })
)

/**
 * One Defender tenant: MSAL client credentials and the indicators API. Rate limits are per application
 * and tenant (reference/defender-api.md §0), so the limiter key names both.
 */
export const sinkLayerOf = (settings: DefenderTargetSettings) =>
  Layer.unwrapEffect(
    Effect.map(Effect.mapError(httpTuningFromEnv, (e) => new DefenderConfigError(e)), (tuning) =>
      DefenderIndicatorSinkLive({
        apiUrl: settings.apiUrl,
        rateLimitKey: `${settings.apiUrl}|${settings.token.tenantId}|${settings.token.clientId}`,
        ...Option.match(tuning.requestTimeoutMillis, { onNone: () => ({}), onSome: (ms) => ({ requestTimeoutMillis: ms }) }),
        ...Option.match(tuning.retryBaseDelayMillis, { onNone: () => ({}), onSome: (ms) => ({ retry: { baseDelayMillis: ms } }) })
      })
    )
  ).pipe(Layer.provide(MsalTokenProviderLive(settings.token)), Layer.provide(ObservedNodeHttpClient))

/** Run ids: UUIDv7, strictly increasing within the process (runs are listed newest first by id). */
export const idLayer = RunIdGeneratorLive
