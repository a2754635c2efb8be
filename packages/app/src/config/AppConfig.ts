import { Array as Arr, Either, ParseResult, Schema } from "effect"
import { Policy, policyFields, TargetSettings } from "@tisync/domain"
import { ConfigError } from "./ConfigError.js"

/** A target's entry: its identity and credentials, plus any policy key to override (DESIGN §7). */
const policyOverrides = Schema.partial(Schema.encodedBoundSchema(Schema.Struct(policyFields).pipe(Schema.omit("logLevel"))))
export const TargetEntry = Schema.extend(TargetSettings, policyOverrides)

/** The whole config file: the policy keys at the top, and optionally `targets`. */
export const AppConfigFile = Schema.Struct({
  ...policyFields,
  targets: Schema.optionalWith(Schema.Array(Schema.encodedSchema(TargetEntry)), { default: () => [] })
})
export type AppConfigFile = typeof AppConfigFile.Type

const pathOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0 ? "(config)" : path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[")

const MAX_REASON = 300

/** Decodes with unknown keys refused; the error names the first offending key. */
export const decodeStrict = <A, I>(schema: Schema.Schema<A, I>, input: unknown): Either.Either<A, ConfigError> =>
  Schema.decodeUnknownEither(schema, { onExcessProperty: "error", errors: "all" })(input).pipe(
    Either.mapLeft((e) => {
      const issues = ParseResult.ArrayFormatter.formatErrorSync(e)
      const first = Arr.head(issues)
      if (first._tag === "None") return new ConfigError({ key: "(config)", reason: "is invalid" })
      const issue = first.value
      const reason = issue._tag === "Unexpected" ? "unknown key" : issue.message
      // The message quotes the value given; a 100 KB value is cut (its head says enough).
      return new ConfigError({ key: pathOf(issue.path), reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}...` : reason })
    })
  )

export const decodeAppConfig = (input: unknown): Either.Either<AppConfigFile, ConfigError> =>
  decodeStrict(AppConfigFile, input)

/** A resolved target: identity, credential references, and its effective policy. */
export interface ResolvedTarget {
  readonly settings: TargetSettings
  readonly policy: Policy
}

/** Applies a target's overrides on the file's policy and validates the result. */
export const resolveTargets = (config: AppConfigFile, defaultTenantId: string | undefined): Either.Either<ReadonlyArray<ResolvedTarget>, ConfigError> => {
  const { targets, ...base } = config
  const basePolicy: Policy = base
  const entries = targets.length > 0 ? targets : [{ id: "default", ...(defaultTenantId === undefined ? {} : { tenantId: defaultTenantId }) }]
  const resolved: Array<ResolvedTarget> = []
  const seen = new Set<string>()
  for (const [index, entry] of entries.entries()) {
    const decoded = decodeStrict(TargetEntry, entry)
    if (Either.isLeft(decoded)) {
      return Either.left(new ConfigError({ key: `targets[${index}].${decoded.left.key}`, reason: decoded.left.reason }))
    }
    const { id, tenantId, cloud, apiUrl, clientId, clientSecretEnv, clientCertificatePathEnv, ...overrides } = decoded.right
    if (seen.has(id)) return Either.left(new ConfigError({ key: `targets[${index}].id`, reason: `duplicate target id ${id}` }))
    seen.add(id)
    const settings: TargetSettings = {
      id,
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(cloud === undefined ? {} : { cloud }),
      ...(apiUrl === undefined ? {} : { apiUrl }),
      ...(clientId === undefined ? {} : { clientId }),
      ...(clientSecretEnv === undefined ? {} : { clientSecretEnv }),
      ...(clientCertificatePathEnv === undefined ? {} : { clientCertificatePathEnv })
    }
    const policy = decodeStrict(Policy, { ...Schema.encodeSync(Policy)(basePolicy), ...overrides })
    if (Either.isLeft(policy)) {
      return Either.left(new ConfigError({ key: `targets[${index}].${policy.left.key}`, reason: policy.left.reason }))
    }
    resolved.push({ settings, policy: policy.right })
  }
  return Either.right(resolved)
}
