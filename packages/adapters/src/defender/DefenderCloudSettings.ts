import { Either } from "effect"
import { DefenderConfigError, type DefenderCloud } from "@tisync/domain"

/**
 * Per-cloud hosts (reference/defender-api.md §1.3): the Entra authority, the API base and the token
 * resource. Sovereign-cloud audiences are not documented; `<api base>/.default` is what public
 * exporters use (§1.3 "Scope and audience in sovereign clouds").
 */
export interface DefenderCloudEndpoints {
  readonly authorityHost: string
  readonly apiUrl: string
  readonly resource: string
}

export const DEFENDER_CLOUDS: Readonly<Record<DefenderCloud, DefenderCloudEndpoints>> = {
  commercial: {
    authorityHost: "https://login.microsoftonline.com",
    apiUrl: "https://api.securitycenter.microsoft.com",
    resource: "https://api.securitycenter.microsoft.com"
  },
  gcc: {
    authorityHost: "https://login.microsoftonline.com",
    apiUrl: "https://api-gcc.securitycenter.microsoft.us",
    resource: "https://api-gcc.securitycenter.microsoft.us"
  },
  "gcc-high": {
    authorityHost: "https://login.microsoftonline.us",
    apiUrl: "https://api-gov.securitycenter.microsoft.us",
    resource: "https://api-gov.securitycenter.microsoft.us"
  },
  dod: {
    authorityHost: "https://login.microsoftonline.us",
    apiUrl: "https://api-gov.securitycenter.microsoft.us",
    resource: "https://api-gov.securitycenter.microsoft.us"
  }
}

/** Hosts Microsoft's own discovery knows: anything else goes into MSAL's `knownAuthorities`. */
export const MICROSOFT_AUTHORITY_HOSTS: ReadonlyArray<string> = [
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login-us.microsoftonline.com",
  "login.windows.net",
  "login.partner.microsoftonline.cn",
  "login.microsoftonline.de"
]

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

export const isLoopbackHost = (hostname: string): boolean => LOOPBACK.test(hostname)

/**
 * An endpoint base URL tisync may call: https anywhere, plain http only on loopback (DESIGN §7);
 * returned without a trailing slash, path kept.
 */
export const checkEndpointUrl = (key: string, raw: string): Either.Either<URL, DefenderConfigError> => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return Either.left(new DefenderConfigError({ key, reason: `${raw} is not a URL` }))
  }
  if (url.username !== "" || url.password !== "") {
    return Either.left(new DefenderConfigError({ key, reason: "the URL must not embed credentials" }))
  }
  if (url.protocol === "https:") return Either.right(url)
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return Either.right(url)
  return Either.left(new DefenderConfigError({
    key,
    reason: `${url.origin}: plain http is refused except on loopback addresses; use https`
  }))
}

export const trimSlash = (s: string): string => s.replace(/\/+$/, "")
