import { describe, expect, layer } from "@effect/vitest"
import {
  DefenderSimulatorLive,
  DefenderSimulatorTag,
  makeMsalTokenProvider,
  type MsalTokenProviderConfig,
  msalTokenProviderConfigFromEnv,
  TEST_CLIENT_CERTIFICATE_PEM,
  TEST_SERVER_CERT_PEM,
  TEST_SERVER_KEY_PEM
} from "@tisync/adapters"
import { ConfigProvider, Effect, Either, Redacted } from "effect"

const sim = DefenderSimulatorTag

const secretConfig = (s: typeof sim.Service, overrides: Partial<MsalTokenProviderConfig> = {}): MsalTokenProviderConfig => ({
  tenantId: s.tenantId,
  clientId: s.clientId,
  credential: { _tag: "ClientSecret", secret: Redacted.make(s.clientSecret) },
  authorityHost: s.authorityHost,
  extraCaPem: s.caPem,
  ...overrides
})

describe("MSAL TokenProvider against the simulator's TLS identity endpoint", () => {
  layer(DefenderSimulatorLive({ rateLimits: false, clientCertificatePem: TEST_CLIENT_CERTIFICATE_PEM }), { excludeTestServices: true })((it) => {
    it.effect("a non-Microsoft https authority is trusted as a known authority; the test CA is trusted in-process", () =>
      Effect.gen(function* () {
        const s = yield* sim
        s.clearJournal()
        const provider = yield* makeMsalTokenProvider(secretConfig(s))
        const first = yield* provider.token
        const second = yield* provider.token
        expect(Redacted.value(first.token)).toBe(Redacted.value(second.token)) // cached
        expect(first.expiresAtMillis).toBeGreaterThan(Date.now() + 3_000_000)
        expect(s.journal().map((j) => j.endpoint)).toEqual(["openid", "token"])
        const refreshed = yield* provider.refresh
        expect(Redacted.value(refreshed.token)).not.toBe(Redacted.value(first.token))
        expect(String(first.token)).not.toContain("sim.") // Redacted never prints the token
      }))

    it.effect("TLS verification is never disabled: without the test CA the authority is refused", () =>
      Effect.gen(function* () {
        const s = yield* sim
        const { extraCaPem: _omit, ...withoutCa } = secretConfig(s)
        const provider = yield* makeMsalTokenProvider(withoutCa)
        const result = yield* Effect.either(provider.token)
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) expect(result.left.hint).toMatch(/AZURE_AUTHORITY_HOST|TLS|NODE_EXTRA_CA_CERTS/)
      }))

    it.effect("certificate credential: PEM with key and certificate, SHA-256 thumbprint, signed assertion", () =>
      Effect.gen(function* () {
        const s = yield* sim
        const provider = yield* makeMsalTokenProvider(secretConfig(s, { credential: { _tag: "ClientCertificate", pem: Redacted.make(TEST_CLIENT_CERTIFICATE_PEM) } }))
        const token = yield* provider.token
        expect(Redacted.value(token.token)).toMatch(/^sim\./)
      }))

    it.effect("an unregistered certificate is refused with a hint about the app registration", () =>
      Effect.gen(function* () {
        const s = yield* sim
        const other = `${TEST_SERVER_KEY_PEM}\n${TEST_SERVER_CERT_PEM}`
        const provider = yield* makeMsalTokenProvider(secretConfig(s, { credential: { _tag: "ClientCertificate", pem: Redacted.make(other) } }))
        const result = yield* Effect.either(provider.token)
        expect(Either.isLeft(result) && result.left.hint).toMatch(/certificate/)
      }))

    it.effect("a wrong secret: the error says what to check and never contains the secret", () =>
      Effect.gen(function* () {
        const s = yield* sim
        const wrong = "Wr0ng-S3cret-Value-~xyz"
        const provider = yield* makeMsalTokenProvider(secretConfig(s, { credential: { _tag: "ClientSecret", secret: Redacted.make(wrong) } }))
        const result = yield* Effect.either(provider.token)
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) {
          expect(result.left.message).toMatch(/AZURE_CLIENT_SECRET/)
          expect(JSON.stringify(result.left)).not.toContain(wrong)
          expect(result.left.message).not.toContain(wrong)
        }
      }))

    it.effect("a wrong tenant points at AZURE_TENANT_ID", () =>
      Effect.gen(function* () {
        const s = yield* sim
        const provider = yield* makeMsalTokenProvider(secretConfig(s, { tenantId: "00000000-0000-0000-0000-000000000000" }))
        const result = yield* Effect.either(provider.token)
        expect(Either.isLeft(result) && result.left.hint).toMatch(/AZURE_TENANT_ID/)
      }))

    it.effect("the scope is the cloud's Defender resource, not Microsoft Graph: a wrong resource explains consent", () =>
      Effect.gen(function* () {
        const s = yield* sim
        const provider = yield* makeMsalTokenProvider(secretConfig(s, { resource: "https://graph.microsoft.com" }))
        const result = yield* Effect.either(provider.token)
        expect(Either.isLeft(result) && result.left.hint).toMatch(/Ti\.ReadWrite\.All on WindowsDefenderATP/)
      }))
  })

  layer(DefenderSimulatorLive({ rateLimits: false, tokenLifetimeSeconds: 2 }), { excludeTestServices: true })("short-lived tokens", (it) => {
    it.effect("a token within the renewal margin is renewed before it expires", () =>
      Effect.gen(function* () {
        const s = yield* sim
        const provider = yield* makeMsalTokenProvider(secretConfig(s, { renewalMarginSeconds: 1 }))
        const a = yield* provider.token
        const b = yield* provider.token
        expect(Redacted.value(b.token)).toBe(Redacted.value(a.token))
        yield* Effect.sleep("2100 millis") // MSAL keeps expiresOn in whole seconds
        const c = yield* provider.token
        expect(Redacted.value(c.token)).not.toBe(Redacted.value(a.token))
      }))
  })
})

describe("MSAL TokenProvider configuration (DESIGN §7)", () => {
  const env = (vars: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars))))

  layer(DefenderSimulatorLive({ rateLimits: false }))((it) => {
    it.effect("a missing credential names the variable", () =>
      Effect.gen(function* () {
        const result = yield* Effect.either(msalTokenProviderConfigFromEnv.pipe(env({ AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c" })))
        expect(Either.isLeft(result) && result.left.key).toBe("AZURE_CLIENT_SECRET")
      }))

    it.effect("plain http authorities are refused", () =>
      Effect.gen(function* () {
        const result = yield* Effect.either(makeMsalTokenProvider({
          tenantId: "t",
          clientId: "c",
          credential: { _tag: "ClientSecret", secret: Redacted.make("s") },
          authorityHost: "http://127.0.0.1:1"
        }))
        expect(Either.isLeft(result) && result.left.key).toBe("AZURE_AUTHORITY_HOST")
      }))

    it.effect("DEFENDER_CLOUD and the secret are read from the environment", () =>
      Effect.gen(function* () {
        const config = yield* msalTokenProviderConfigFromEnv.pipe(env({ AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "s3", DEFENDER_CLOUD: "gcc-high" }))
        expect(config.cloud).toBe("gcc-high")
        expect(config.credential._tag).toBe("ClientSecret")
        expect(JSON.stringify(config)).not.toContain("s3")
      }))
  })
})
