import { createHmac } from "node:crypto"

/**
 * ThreatConnect HMAC authentication (reference/threatconnect-api.md §1b, §1c):
 * string to sign = `<path + query exactly as sent, including /api>:<METHOD>:<unix seconds>`,
 * signature = Base64(HMAC-SHA256(secret key, string to sign)), sent as `Authorization: TC <accessId>:<signature>`
 * with a `Timestamp` header. The path and query are signed as they go on the wire: never re-encoded.
 */
export const stringToSign = (pathAndQuery: string, method: string, timestampSeconds: number): string =>
  `${pathAndQuery}:${method}:${timestampSeconds}`

export const hmacSignature = (secretKey: string, pathAndQuery: string, method: string, timestampSeconds: number): string =>
  createHmac("sha256", secretKey).update(stringToSign(pathAndQuery, method, timestampSeconds), "utf8").digest("base64")

export const hmacAuthorization = (
  accessId: string,
  secretKey: string,
  pathAndQuery: string,
  method: string,
  timestampSeconds: number
): string => `TC ${accessId}:${hmacSignature(secretKey, pathAndQuery, method, timestampSeconds)}`

/**
 * Percent-encoding for a query component, strict RFC 3986: everything but unreserved characters is
 * escaped (also `'()!*`, which `encodeURIComponent` leaves and WHATWG URL parsing would escape `'` of), so the
 * URL we sign is byte for byte the URL Node sends.
 */
export const encodeQueryComponent = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
