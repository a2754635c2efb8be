import { AuthError, ConfidentialClientApplication, LogLevel, type Configuration } from "@azure/msal-node"
import {
  DefenderConfigError,
  type DefenderCloud,
  TokenAcquisitionError,
  TokenProvider,
  type AccessToken
} from "@tisync/domain"
import { Config, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { createPrivateKey, X509Certificate } from "node:crypto"
import { readFileSync } from "node:fs"
import { checkEndpointUrl, DEFENDER_CLOUDS, MICROSOFT_AUTHORITY_HOSTS, trimSlash } from "./DefenderCloudSettings.js"
import { makeTlsNetworkClient } from "./TlsNetworkClient.js"

export type MsalCredential =
  | { readonly _tag: "ClientSecret"; readonly secret: Redacted.Redacted<string> }
  /** PEM holding the private key and the certificate (AZURE_CLIENT_CERTIFICATE_PATH's content). */
  | { readonly _tag: "ClientCertificate"; readonly pem: Redacted.Redacted<string> }

export interface MsalTokenProviderConfig {
  readonly tenantId: string
  readonly clientId: string
  readonly credential: MsalCredential
  /** Picks the authority host and the token resource (default commercial). */
  readonly cloud?: DefenderCloud
  /** Overrides the cloud's authority host (AZURE_AUTHORITY_HOST); a non-Microsoft host becomes a known authority. */
  readonly authorityHost?: string
  /** Overrides the token resource (scope `<resource>/.default`); default: the cloud's Defender resource. */
  readonly resource?: string
  /** An extra CA (PEM) trusted for the authority, e.g. the simulator's test CA. Never disables verification. */
  readonly extraCaPem?: string
  /** Renew a cached token this long before it expires (default 300 s, MSAL's own offset). */
  readonly renewalMarginSeconds?: number
  /** Give up on one token request after this long (default 30 s). */
  readonly timeoutMillis?: number
}

/** Where to look when Entra refuses: by AADSTS code / MSAL error code (reference/defender-api.md §1.1, §6.9). */
const hintFor = (code: string, text: string, credential: MsalCredential["_tag"]): string => {
  const consent =
    "Grant the application permission Ti.ReadWrite.All on WindowsDefenderATP (API permissions > APIs my organization " +
    "uses > WindowsDefenderATP > Application permissions; it is not a Microsoft Graph permission) and give admin consent in this tenant."
  if (/AADSTS90002|AADSTS900023|invalid_tenant/i.test(text + code)) return "Check AZURE_TENANT_ID: the tenant was not found."
  if (/AADSTS7000222/.test(text)) return "The client secret has expired: create a new one and update AZURE_CLIENT_SECRET."
  if (/AADSTS7000215/.test(text)) {
    return "Check AZURE_CLIENT_SECRET: use the secret's value (not its id) and check it has not expired."
  }
  if (/AADSTS700027|AADSTS700023|AADSTS50012/.test(text)) {
    return "The certificate was refused: check that this certificate (AZURE_CLIENT_CERTIFICATE_PATH) is uploaded to the app registration and has not expired."
  }
  if (/AADSTS700016|AADSTS7000112|unauthorized_client/i.test(text + code)) {
    return "Check AZURE_CLIENT_ID and AZURE_TENANT_ID: the application is not in this tenant (a multi-tenant app needs admin consent in every tenant). " + consent
  }
  if (/AADSTS500011|AADSTS65001|AADSTS501051|invalid_scope|invalid_resource/i.test(text + code)) return consent
  if (/endpoints_resolution_error/i.test(text + code)) {
    return "The authority's OpenID metadata could not be read: check AZURE_TENANT_ID (an unknown tenant has none), then " +
      "AZURE_AUTHORITY_HOST / DEFENDER_CLOUD and the network path to it (proxy, TLS trust: NODE_EXTRA_CA_CERTS for a private CA)."
  }
  if (/untrusted_authority|network|ECONNREFUSED|ENOTFOUND|certificate|self.signed|timed out/i.test(text + code)) {
    return "Check AZURE_AUTHORITY_HOST / DEFENDER_CLOUD and the network path to it (proxy, TLS trust: NODE_EXTRA_CA_CERTS for a private CA)."
  }
  return credential === "ClientSecret"
    ? `Check AZURE_TENANT_ID, AZURE_CLIENT_ID, that AZURE_CLIENT_SECRET has not expired, and: ${consent}`
    : `Check AZURE_TENANT_ID, AZURE_CLIENT_ID, the certificate in AZURE_CLIENT_CERTIFICATE_PATH, and: ${consent}`
}

/** Splits a PEM bundle into MSAL's certificate credential: PKCS#8 key, SHA-256 thumbprint, x5c chain. */
export const certificateCredentialOf = (
  pem: string
): Either.Either<{ readonly privateKey: string; readonly thumbprintSha256: string; readonly x5c: string }, string> => {
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  const first = certs[0]
  if (first === undefined) return Either.left("no certificate (-----BEGIN CERTIFICATE-----) in the PEM")
  try {
    const cert = new X509Certificate(first)
    const privateKey = createPrivateKey(pem).export({ type: "pkcs8", format: "pem" }).toString()
    if (!cert.checkPrivateKey(createPrivateKey(pem))) return Either.left("the private key does not belong to the certificate")
    return Either.right({ privateKey, thumbprintSha256: cert.fingerprint256.replace(/:/g, "").toLowerCase(), x5c: certs.join("\n") })
  } catch (e) {
    return Either.left(`cannot read the PEM: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * What MSAL hands back, checked like any other byte from outside: the token endpoint may answer
 * `access_token: 12345`, no access_token at all, or an `expires_in` that makes `expiresOn` an invalid date.
 */
const TokenResult = Schema.Struct({
  accessToken: Schema.String.pipe(Schema.minLength(1)),
  expiresOn: Schema.NullOr(Schema.ValidDateFromSelf)
})
const decodeTokenResult = Schema.decodeUnknownEither(TokenResult)

/** An identity provider's message, cut: a hostile one may be 100 KB long. */
const MAX_DETAIL = 500
const boundedText = (text: string): string => (text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}...` : text)

/** Removes anything that looks like the secret from a message before it leaves this module. */
const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join("***") : t), text)

/**
 * A TokenProvider on @azure/msal-node's ConfidentialClientApplication (client credentials, secret or
 * certificate). Tokens are cached by MSAL and here, renewed `renewalMarginSeconds` before expiry;
 * `refresh` skips both caches (a 401 from the API).
 */
export const makeMsalTokenProvider = (
  config: MsalTokenProviderConfig
): Effect.Effect<TokenProvider["Type"], DefenderConfigError> =>
  Effect.gen(function* () {
    const cloud = DEFENDER_CLOUDS[config.cloud ?? "commercial"]
    const hostUrl = yield* checkEndpointUrl("AZURE_AUTHORITY_HOST", config.authorityHost ?? cloud.authorityHost)
    if (hostUrl.protocol !== "https:") {
      // MSAL refuses http authorities (authority_uri_insecure, §1.4); say it before MSAL does.
      return yield* new DefenderConfigError({ key: "AZURE_AUTHORITY_HOST", reason: "the authority must use https (serve a loopback IdP over TLS)" })
    }
    if (!/^[0-9a-zA-Z.-]+$/.test(config.tenantId) || ["common", "organizations", "consumers"].includes(config.tenantId)) {
      return yield* new DefenderConfigError({ key: "AZURE_TENANT_ID", reason: "must be the tenant's id (GUID) or domain, not common/organizations" })
    }
    if (config.clientId.trim().length === 0) return yield* new DefenderConfigError({ key: "AZURE_CLIENT_ID", reason: "is empty" })
    const resource = trimSlash(config.resource ?? cloud.resource)
    const scopes = [`${resource}/.default`]
    const authority = `${trimSlash(hostUrl.origin)}/${config.tenantId}`
    const known = MICROSOFT_AUTHORITY_HOSTS.includes(hostUrl.hostname.toLowerCase())
    const secrets: Array<string> = []

    let credentialAuth: Pick<NonNullable<Configuration["auth"]>, "clientSecret" | "clientCertificate">
    if (config.credential._tag === "ClientSecret") {
      const secret = Redacted.value(config.credential.secret)
      if (secret.length === 0) return yield* new DefenderConfigError({ key: "AZURE_CLIENT_SECRET", reason: "is empty" })
      secrets.push(secret)
      credentialAuth = { clientSecret: secret }
    } else {
      const parsed = certificateCredentialOf(Redacted.value(config.credential.pem))
      if (Either.isLeft(parsed)) return yield* new DefenderConfigError({ key: "AZURE_CLIENT_CERTIFICATE_PATH", reason: parsed.left })
      credentialAuth = { clientCertificate: parsed.right }
    }

    const app = new ConfidentialClientApplication({
      auth: {
        clientId: config.clientId,
        authority,
        ...credentialAuth,
        // A non-Microsoft host (sovereign proxy, the simulator) is trusted as given, as host:port, so MSAL
        // fetches <host>/<tenant>/v2.0/.well-known/openid-configuration instead of Microsoft's discovery.
        ...(known ? {} : { knownAuthorities: [hostUrl.host] })
      },
      system: {
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
        ...(config.extraCaPem === undefined ? {} : { networkClient: makeTlsNetworkClient(config.extraCaPem, config.timeoutMillis) })
      }
    })

    const marginMillis = (config.renewalMarginSeconds ?? 300) * 1000
    const timeoutMillis = config.timeoutMillis ?? 30_000
    const toError = (e: unknown): TokenAcquisitionError => {
      // MSAL copies the response's `error` into errorCode whatever its JSON type: keep only a string.
      const raw: unknown = e instanceof AuthError ? e.errorCode : e instanceof Error ? e.name : "unknown"
      const code = typeof raw === "string" && raw !== "" ? raw : "unknown"
      const text = boundedText(scrub(e instanceof AuthError ? `${e.errorMessage} ${e.subError}`.trim() : e instanceof Error ? e.message : String(e), secrets))
      return new TokenAcquisitionError({
        errorCode: code,
        detail: `${text} (authority ${authority}, scope ${scopes[0] ?? ""})`,
        hint: hintFor(code, text, config.credential._tag)
      })
    }
    const acquire = (skipCache: boolean): Effect.Effect<AccessToken, TokenAcquisitionError> =>
      Effect.tryPromise({
        try: () => app.acquireTokenByClientCredential({ scopes, skipCache }),
        catch: toError
      }).pipe(
        Effect.timeoutFail({
          duration: timeoutMillis,
          onTimeout: () => new TokenAcquisitionError({
            errorCode: "timeout",
            detail: `no answer from ${authority} within ${timeoutMillis} ms`,
            hint: hintFor("timeout", "timed out", config.credential._tag)
          })
        }),
        Effect.flatMap((result) =>
          Either.match(decodeTokenResult(result), {
            onLeft: () =>
              Effect.fail(new TokenAcquisitionError({
                errorCode: "no_token",
                detail: `the token response held no usable access token and expiry (authority ${authority})`,
                hint: hintFor("", "", config.credential._tag)
              })),
            onRight: (r) =>
              Effect.succeed<AccessToken>({
                token: Redacted.make(r.accessToken),
                expiresAtMillis: r.expiresOn?.getTime() ?? Date.now() + 3_000_000
              })
          })
        )
      )

    // One token request at a time; callers waiting behind it get the fresh token from the cache.
    const lock = yield* Effect.makeSemaphore(1)
    let cached: AccessToken | null = null
    const fresh = (t: AccessToken | null): t is AccessToken => t !== null && t.expiresAtMillis - marginMillis > Date.now()
    const token = lock.withPermits(1)(
      Effect.suspend(() =>
        fresh(cached)
          ? Effect.succeed(cached)
          : acquire(false).pipe(
            Effect.flatMap((t) => (fresh(t) ? Effect.succeed(t) : acquire(true))),
            Effect.tap((t) => Effect.sync(() => { cached = t }))
          )
      )
    )
    const refresh = lock.withPermits(1)(
      acquire(true).pipe(Effect.tap((t) => Effect.sync(() => { cached = t })))
    )
    return TokenProvider.of({ token, refresh })
  })

export const MsalTokenProviderLive = (config: MsalTokenProviderConfig): Layer.Layer<TokenProvider, DefenderConfigError> =>
  Layer.effect(TokenProvider, makeMsalTokenProvider(config))

/** The DESIGN §7 variables: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET | AZURE_CLIENT_CERTIFICATE_PATH, AZURE_AUTHORITY_HOST, DEFENDER_CLOUD. */
export const msalTokenProviderConfigFromEnv: Effect.Effect<MsalTokenProviderConfig, DefenderConfigError> = Effect.gen(function* () {
  const read = <A>(key: string, c: Config.Config<A>) =>
    c.pipe(Effect.mapError(() => new DefenderConfigError({ key, reason: key === "DEFENDER_CLOUD" ? "must be commercial, gcc, gcc-high or dod" : "is missing or empty" })))
  const tenantId = yield* read("AZURE_TENANT_ID", Config.nonEmptyString("AZURE_TENANT_ID"))
  const clientId = yield* read("AZURE_CLIENT_ID", Config.nonEmptyString("AZURE_CLIENT_ID"))
  const secret = yield* read("AZURE_CLIENT_SECRET", Config.option(Config.redacted("AZURE_CLIENT_SECRET")))
  const certPath = yield* read("AZURE_CLIENT_CERTIFICATE_PATH", Config.option(Config.nonEmptyString("AZURE_CLIENT_CERTIFICATE_PATH")))
  const cloud = yield* read("DEFENDER_CLOUD", Config.literal("commercial", "gcc", "gcc-high", "dod")("DEFENDER_CLOUD").pipe(Config.withDefault("commercial" as const)))
  const authorityHost = yield* read("AZURE_AUTHORITY_HOST", Config.option(Config.nonEmptyString("AZURE_AUTHORITY_HOST")))
  let credential: MsalCredential
  if (Option.isSome(secret) && Redacted.value(secret.value).length > 0) credential = { _tag: "ClientSecret", secret: secret.value }
  else if (Option.isSome(certPath)) {
    const path = certPath.value
    const pem = yield* Effect.try({
      try: () => readFileSync(path, "utf8"),
      catch: (e) => new DefenderConfigError({ key: "AZURE_CLIENT_CERTIFICATE_PATH", reason: `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}` })
    })
    credential = { _tag: "ClientCertificate", pem: Redacted.make(pem) }
  } else {
    return yield* new DefenderConfigError({ key: "AZURE_CLIENT_SECRET", reason: "missing: set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH" })
  }
  return {
    tenantId,
    clientId,
    credential,
    cloud,
    ...(Option.isSome(authorityHost) ? { authorityHost: authorityHost.value } : {})
  }
})

export const MsalTokenProviderFromEnv: Layer.Layer<TokenProvider, DefenderConfigError> = Layer.effect(
  TokenProvider,
  Effect.flatMap(msalTokenProviderConfigFromEnv, makeMsalTokenProvider)
)
