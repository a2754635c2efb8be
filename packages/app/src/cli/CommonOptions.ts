import { Options } from "@effect/cli"

export const jsonOption = Options.boolean("json").pipe(Options.withDescription("print one JSON document on stdout (logs go to stderr)"))
export const configOption = Options.text("config").pipe(
  Options.withDescription("policy and targets file (YAML or JSON)"),
  Options.optional
)
export const targetOption = Options.text("target").pipe(
  Options.withDescription("only this target id (default: every configured target)"),
  Options.optional
)

const policyFlag = (key: string, description: string) =>
  Options.text(key).pipe(Options.withDescription(description), Options.optional)

/** Every policy key has a flag of the same name (DESIGN §7); values override the config file. */
export const policyOptions = {
  action: policyFlag("action", "Alert | Block | Audit | Warn | BlockAndRemediate | Allowed"),
  expirationDays: policyFlag("expirationDays", "days until expiry: N, or file=N,network=N"),
  owners: policyFlag("owners", "ThreatConnect owners, comma-separated"),
  indicatorTypes: policyFlag("indicatorTypes", "Address,MD5,SHA1,SHA256,Host,URL"),
  tags: policyFlag("tags", "any of these tags, comma-separated"),
  minThreatAssessScore: policyFlag("minThreatAssessScore", "0-1000, or null"),
  minThreatRating: policyFlag("minThreatRating", "0-5, or null"),
  minConfidence: policyFlag("minConfidence", "0-100, or null"),
  maxFalsePositives: policyFlag("maxFalsePositives", "maximum false positives, or null"),
  lastRunDays: policyFlag("lastRunDays", "lookback days for the first run"),
  onlyModifiedSinceLastRun: policyFlag("onlyModifiedSinceLastRun", "true | false"),
  tql: policyFlag("tql", "raw TQL replacing owners/types/tags/score/rating/confidence/false positives"),
  indicatorReserveCount: policyFlag("indicatorReserveCount", "slots of the 15,000 left free"),
  renewWithinDays: policyFlag("renewWithinDays", "renew indicators expiring within N days (0: never)"),
  evict: policyFlag("evict", "true | false: replace lower-ranked live indicators"),
  severity: policyFlag("severity", "Informational | Low | Medium | High, or null"),
  recommendedActions: policyFlag("recommendedActions", "text shown in Defender"),
  rbacGroupNames: policyFlag("rbacGroupNames", "device groups, comma-separated"),
  generateAlert: policyFlag("generateAlert", "true | false | null"),
  educateUrl: policyFlag("educateUrl", "URL shown to users on Warn"),
  application: policyFlag("application", "application name shown in Defender"),
  logLevel: policyFlag("logLevel", "Debug | Info | Warning | Error")
}
