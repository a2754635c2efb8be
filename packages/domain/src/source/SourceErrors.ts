import { Data } from "effect"

/**
 * Errors of the IndicatorSource port (DESIGN §4, issue 3 "Errors"). Each names the request it comes from
 * (method and path, never the query string's credentials: ThreatConnect puts none there, and no header is
 * ever copied) so an operator can tell which call failed; none carries a secret.
 */

/** The source cannot be used as configured (missing credential, plain http to a non-loopback host...). */
export class SourceConfigError extends Data.TaggedError("SourceConfigError")<{
  /** The environment variable or config key at fault, when there is one. */
  readonly key: string | null
  readonly reason: string
}> {
  override get message(): string {
    return this.key === null ? `ThreatConnect configuration: ${this.reason}` : `ThreatConnect configuration ${this.key}: ${this.reason}`
  }
}

/** HTTP 401: ThreatConnect refused the credentials (reference/threatconnect-api.md §1b, §6.3, §6.11). */
export class SourceAuthError extends Data.TaggedError("SourceAuthError")<{
  readonly method: string
  readonly path: string
  /** ThreatConnect's own message, e.g. "Signature Data Did Not Match Expected Result". */
  readonly serverMessage: string
}> {
  override get message(): string {
    return `ThreatConnect refused the credentials (401) for ${this.method} ${this.path}: ${this.serverMessage}. ` +
      "Usual causes: a wrong access id, secret key or API token (or an expired token); the local clock more than " +
      "5 minutes off the ThreatConnect server's; a URL-encoding mismatch between the signed and the sent query."
  }
}

/** HTTP 403: the owner does not exist or the API user may not read it. */
export class SourcePermissionError extends Data.TaggedError("SourcePermissionError")<{
  readonly method: string
  readonly path: string
  readonly serverMessage: string
}> {
  override get message(): string {
    return `ThreatConnect denied access (403) for ${this.method} ${this.path}: ${this.serverMessage}. ` +
      "Check that every owner in the policy exists and that the API user has access to it."
  }
}

/** HTTP 400 on a query carrying TQL: ThreatConnect could not run the query. Quotes the query. */
export class SourceQueryError extends Data.TaggedError("SourceQueryError")<{
  readonly method: string
  readonly path: string
  readonly tql: string
  readonly serverMessage: string
}> {
  override get message(): string {
    return `ThreatConnect rejected the TQL query (400) for ${this.method} ${this.path}: ${this.serverMessage}. Query: ${this.tql}`
  }
}

/**
 * ThreatConnect stayed unavailable: 5xx, 429 or a dropped connection after every retry of the bounded
 * retry policy. `status` is null for a transport failure (connection refused or reset).
 */
export class SourceUnavailableError extends Data.TaggedError("SourceUnavailableError")<{
  readonly method: string
  readonly path: string
  readonly status: number | null
  readonly attempts: number
  readonly detail: string
}> {
  override get message(): string {
    const what = this.status === null ? "a transport failure" : `HTTP ${this.status}`
    return `ThreatConnect unavailable for ${this.method} ${this.path} after ${this.attempts} attempt(s): ${what}: ${this.detail}`
  }
}

/** Anything else the API answered that the adapter cannot use (other status, not JSON, bad envelope). */
export class SourceProtocolError extends Data.TaggedError("SourceProtocolError")<{
  readonly method: string
  readonly path: string
  readonly status: number
  readonly detail: string
}> {
  override get message(): string {
    return `Unexpected ThreatConnect response for ${this.method} ${this.path} (HTTP ${this.status}): ${this.detail}`
  }
}

/** A response body above the adapter's size bound: refused rather than buffered. */
export class SourceResponseTooLarge extends Data.TaggedError("SourceResponseTooLarge")<{
  readonly method: string
  readonly path: string
  readonly limitBytes: number
}> {
  override get message(): string {
    return `ThreatConnect response for ${this.method} ${this.path} exceeds ${this.limitBytes} bytes; lower resultLimit`
  }
}

/** A `next` link pointing away from the configured API base: never followed (credentials would leak). */
export class SourceNextLinkRefused extends Data.TaggedError("SourceNextLinkRefused")<{
  /** Scheme, host and port of the refused link (its path and query are left out). */
  readonly linkOrigin: string
  readonly expectedOrigin: string
}> {
  override get message(): string {
    return `Refusing to follow a ThreatConnect next link to ${this.linkOrigin}: only ${this.expectedOrigin} is trusted`
  }
}

export type SourceError =
  | SourceConfigError
  | SourceAuthError
  | SourcePermissionError
  | SourceQueryError
  | SourceUnavailableError
  | SourceProtocolError
  | SourceResponseTooLarge
  | SourceNextLinkRefused
