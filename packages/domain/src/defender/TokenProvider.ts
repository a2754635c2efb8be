import { Context } from "effect"
import type { Effect, Redacted } from "effect"
import type { TokenAcquisitionError } from "./DefenderErrors.js"

/** A bearer token for the Defender API; the token itself is `Redacted` so it never reaches a log. */
export interface AccessToken {
  readonly token: Redacted.Redacted<string>
  /** Epoch milliseconds after which the token is no longer valid. */
  readonly expiresAtMillis: number
}

/**
 * Client-credentials tokens for the Defender API (DESIGN §4 `TokenProvider`).
 *
 * - `token`: a valid token, from the cache while it has more than the renewal margin left;
 * - `refresh`: a new token, bypassing the cache (after a 401 from the API: the token may have been revoked).
 */
export class TokenProvider extends Context.Tag("@tisync/domain/TokenProvider")<TokenProvider, {
  readonly token: Effect.Effect<AccessToken, TokenAcquisitionError>
  readonly refresh: Effect.Effect<AccessToken, TokenAcquisitionError>
}>() {}
