import { Data } from "effect"

/** The five Defender endpoints tisync calls; `apiCalls` of `sync --json` counts them by these names. */
export type SinkEndpoint = "import" | "submit" | "list" | "delete" | "batchDelete"
export const SINK_ENDPOINTS: ReadonlyArray<SinkEndpoint> = ["import", "submit", "list", "delete", "batchDelete"]

/**
 * Errors of the IndicatorSink and TokenProvider ports (reference/defender-api.md §2.6). Each keeps
 * Defender's correlation id (`error.target`) when the API sent one, so a support ticket can quote it.
 * None ever carries a secret or an access token: only Defender's own message and what to check.
 */
interface ApiErrorFields {
  readonly endpoint: SinkEndpoint
  readonly status: number
  /** Defender's `error.code`, e.g. `InvalidRequestBody`. */
  readonly code: string
  /** Defender's free-text `error.message`. */
  readonly serverMessage: string
  /** Defender's `error.target`, the correlation request id. */
  readonly correlationId: string | null
}

const correlation = (id: string | null): string => (id === null ? "" : ` (correlation id ${id})`)

/** 401 (after one forced token refresh): the token is invalid or expired. */
export class DefenderUnauthorized extends Data.TaggedError("DefenderUnauthorized")<ApiErrorFields> {
  override get message(): string {
    return `Defender refused the access token (401) on ${this.endpoint}: ${this.serverMessage}${correlation(this.correlationId)}. ` +
      "Check that the token was issued for the Defender API resource of the right cloud (scope <Defender resource>/.default, " +
      "not Microsoft Graph) and by the tenant the API belongs to."
  }
}

/** 403: a valid token without the permission (or a disabled tenant feature). */
export class DefenderForbidden extends Data.TaggedError("DefenderForbidden")<ApiErrorFields> {
  override get message(): string {
    return `Defender denied ${this.endpoint} (403 ${this.code}): ${this.serverMessage}${correlation(this.correlationId)}. ` +
      "Grant the application permission Ti.ReadWrite.All on the WindowsDefenderATP API (APIs my organization uses, " +
      "not Microsoft Graph) and give admin consent; check that the 'Custom network indicators' feature is enabled."
  }
}

/** 400 (or 404 on an unknown route): Defender rejected the request; `code` says why (InvalidIpAddress...). */
export class DefenderValidation extends Data.TaggedError("DefenderValidation")<ApiErrorFields> {
  override get message(): string {
    return `Defender rejected ${this.endpoint} (${this.status} ${this.code}): ${this.serverMessage}${correlation(this.correlationId)}`
  }
}

/** The tenant holds its 15,000 indicators: nothing more can be created (reference §0, §7). */
export class DefenderQuotaExceeded extends Data.TaggedError("DefenderQuotaExceeded")<ApiErrorFields & {
  readonly limit: number
}> {
  override get message(): string {
    return `Defender's indicator cap (${this.limit} per tenant) is reached on ${this.endpoint}: ${this.serverMessage}` +
      `${correlation(this.correlationId)}. Delete or let expire indicators, or raise indicatorReserveCount.`
  }
}

/** 429 still answered after the retries allowed: Defender asks to wait `retryAfterSeconds`. */
export class DefenderThrottled extends Data.TaggedError("DefenderThrottled")<ApiErrorFields & {
  readonly retryAfterSeconds: number
}> {
  override get message(): string {
    return `Defender throttled ${this.endpoint} (429): retry after ${this.retryAfterSeconds}s${correlation(this.correlationId)}`
  }
}

/** 5xx still answered after the retries allowed. */
export class DefenderServerError extends Data.TaggedError("DefenderServerError")<ApiErrorFields> {
  override get message(): string {
    return `Defender failed on ${this.endpoint} (${this.status} ${this.code}): ${this.serverMessage}${correlation(this.correlationId)}`
  }
}

/** The request never got an HTTP answer (connection refused or dropped, TLS failure) or timed out. */
export class DefenderTransportError extends Data.TaggedError("DefenderTransportError")<{
  readonly endpoint: SinkEndpoint
  readonly kind: "timeout" | "connection" | "decode"
  readonly detail: string
}> {
  override get message(): string {
    return this.kind === "timeout"
      ? `Defender ${this.endpoint} timed out: ${this.detail}`
      : this.kind === "decode"
        ? `Defender ${this.endpoint} answered something tisync cannot read: ${this.detail}`
        : `Defender ${this.endpoint} could not be reached: ${this.detail}`
  }
}

/** An access token could not be obtained (Entra refused, or the identity endpoint is unreachable). */
export class TokenAcquisitionError extends Data.TaggedError("TokenAcquisitionError")<{
  /** MSAL's / Entra's error code (e.g. `invalid_client`, `AADSTS7000215`), or a local one. */
  readonly errorCode: string
  /** What went wrong, free of secrets. */
  readonly detail: string
  /** What the operator should check. */
  readonly hint: string
}> {
  override get message(): string {
    return `Could not get a Defender access token (${this.errorCode}): ${this.detail}. ${this.hint}`
  }
}

/** The Defender or Entra settings cannot be used (missing credential, plain http to a remote host...): exit 2. */
export class DefenderConfigError extends Data.TaggedError("DefenderConfigError")<{
  /** The environment variable or config key at fault. */
  readonly key: string
  readonly reason: string
}> {
  override get message(): string {
    return `Defender configuration ${this.key}: ${this.reason}`
  }
}

/**
 * Defender documents no error shape for the 15,000 cap (reference/defender-api.md §2.6, §7): a 400 or
 * an import item whose message speaks of the maximum / limit of indicators is read as the cap.
 */
export const isQuotaExceededMessage = (text: string): boolean =>
  /(maximum|limit|quota|cap)\b[^.]*\bindicators?\b|\bindicators?\b[^.]*\b(maximum|limit|quota|cap)\b|15,?000/i.test(text)

export type DefenderApiError =
  | DefenderUnauthorized
  | DefenderForbidden
  | DefenderValidation
  | DefenderQuotaExceeded
  | DefenderThrottled
  | DefenderServerError
  | DefenderTransportError

/** Everything an IndicatorSink call can fail with. */
export type SinkError = DefenderApiError | TokenAcquisitionError
