import * as fs from "node:fs"
import { Effect, Redacted } from "effect"
import {
  checkEndpointUrl,
  DEFENDER_CLOUDS,
  type MsalCredential,
  type MsalTokenProviderConfig
} from "@tisync/adapters"
import type { DefenderCloud, TargetSettings } from "@tisync/domain"
import { ConfigError } from "./ConfigError.js"

/** Environment variables (DESIGN §7) are read through this function so tests can pass their own. */
export type Env = Readonly<Record<string, string | undefined>>

const nonEmpty = (env: Env, key: string): string | undefined => {
  const v = env[key]
  return v === undefined || v.trim() === "" ? undefined : v
}

export interface StoreSettings {
  readonly databaseUrl: Redacted.Redacted<string> | null
  readonly dataDir: string
}

export const storeSettingsOf = (env: Env): StoreSettings => {
  const url = nonEmpty(env, "TISYNC_DATABASE_URL")
  return {
    databaseUrl: url === undefined ? null : Redacted.make(url),
    dataDir: nonEmpty(env, "TISYNC_DATA_DIR") ?? "./.tisync"
  }
}

const CLOUDS: ReadonlyArray<DefenderCloud> = ["commercial", "gcc", "gcc-high", "dod"]

const cloudOf = (env: Env, target: TargetSettings): Effect.Effect<DefenderCloud, ConfigError> => {
  if (target.cloud !== undefined) return Effect.succeed(target.cloud)
  const raw = nonEmpty(env, "DEFENDER_CLOUD") ?? "commercial"
  const cloud = CLOUDS.find((c) => c === raw)
  return cloud === undefined
    ? Effect.fail(new ConfigError({ key: "DEFENDER_CLOUD", reason: "must be commercial, gcc, gcc-high or dod" }))
    : Effect.succeed(cloud)
}

export interface DefenderTargetSettings {
  readonly apiUrl: string
  readonly token: MsalTokenProviderConfig
}

/**
 * A target's Defender endpoint and credential: its own (`clientSecretEnv` / `clientCertificatePathEnv`
 * name the variables) or the shared AZURE_* ones. A missing credential is exit 2 naming the variable.
 */
export const defenderSettingsOf = (
  env: Env,
  target: TargetSettings
): Effect.Effect<DefenderTargetSettings, ConfigError> =>
  Effect.gen(function* () {
    const cloud = yield* cloudOf(env, target)
    const tenantId = target.tenantId ?? nonEmpty(env, "AZURE_TENANT_ID")
    if (tenantId === undefined) return yield* new ConfigError({ key: "AZURE_TENANT_ID", reason: "is not set" })
    const clientId = target.clientId ?? nonEmpty(env, "AZURE_CLIENT_ID")
    if (clientId === undefined) return yield* new ConfigError({ key: "AZURE_CLIENT_ID", reason: "is not set" })
    const secretVar = target.clientSecretEnv ?? (target.clientCertificatePathEnv === undefined ? "AZURE_CLIENT_SECRET" : undefined)
    const certVar = target.clientCertificatePathEnv ?? (target.clientSecretEnv === undefined ? "AZURE_CLIENT_CERTIFICATE_PATH" : undefined)
    const secret = secretVar === undefined ? undefined : nonEmpty(env, secretVar)
    const certPath = certVar === undefined ? undefined : nonEmpty(env, certVar)
    let credential: MsalCredential
    if (secret !== undefined) {
      credential = { _tag: "ClientSecret", secret: Redacted.make(secret) }
    } else if (certPath !== undefined && certVar !== undefined) {
      const pem = yield* Effect.try({
        try: () => fs.readFileSync(certPath, "utf8"),
        catch: () => new ConfigError({ key: certVar, reason: `cannot read the certificate file it names` })
      })
      credential = { _tag: "ClientCertificate", pem: Redacted.make(pem) }
    } else {
      const names = [secretVar, certVar].filter((x) => x !== undefined).join(" or ")
      return yield* new ConfigError({ key: secretVar ?? certVar ?? "AZURE_CLIENT_SECRET", reason: `is not set (set ${names})` })
    }
    const authorityHost = nonEmpty(env, "AZURE_AUTHORITY_HOST")
    if (authorityHost !== undefined) yield* checked("AZURE_AUTHORITY_HOST", authorityHost)
    const apiUrl = target.apiUrl ?? nonEmpty(env, "DEFENDER_API_URL") ?? DEFENDER_CLOUDS[cloud].apiUrl
    yield* checked(target.apiUrl === undefined ? "DEFENDER_API_URL" : `targets.${target.id}.apiUrl`, apiUrl)
    return {
      apiUrl,
      token: { tenantId, clientId, credential, cloud, ...(authorityHost === undefined ? {} : { authorityHost }) }
    }
  })

/** https everywhere; plain http only to loopback addresses (DESIGN §7). */
const checked = (key: string, url: string) =>
  Effect.mapError(checkEndpointUrl(key, url), (e) => new ConfigError({ key, reason: e.reason }))
