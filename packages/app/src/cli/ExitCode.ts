/**
 * DESIGN §6: 0 completed; 1 the run failed, writes failed after retries, or an API refused the
 * credentials; 2 bad usage or configuration found before any API call; 3 another run holds the target.
 */
export type ExitCode = 0 | 1 | 2 | 3

/** @effect/cli's usage errors: it prints them itself. */
const CLI_USAGE_ERRORS = new Set([
  "MissingValue",
  "InvalidValue",
  "CommandMismatch",
  "UnclusteredFlag",
  "MultipleValuesDetected",
  "MissingSubcommand",
  "InvalidArgument",
  "CorrectedFlag",
  "NoBuiltInMatch",
  "HelpRequested"
])
const USAGE_ERRORS = new Set([
  "ConfigError",
  "DatabaseConfigError",
  "DefenderConfigError",
  "SourceConfigError",
  "SyncInputError",
  "RunNotFound",
  ...CLI_USAGE_ERRORS
])
const HELD_ERRORS = new Set(["TargetLocked", "StoreInUse"])

const tagOf = (error: unknown): string | null =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : null

export const isCliUsageError = (error: unknown): boolean => {
  const tag = tagOf(error)
  return tag !== null && CLI_USAGE_ERRORS.has(tag)
}

export const exitCodeOf = (error: unknown): ExitCode => {
  const tag = tagOf(error)
  if (tag !== null && USAGE_ERRORS.has(tag)) return 2
  if (tag !== null && HELD_ERRORS.has(tag)) return 3
  return 1
}

/** The message to print for an error: ours never carry secrets; anything else is reduced to its tag. */
export const messageOf = (error: unknown): string => {
  if (error instanceof Error && error.message !== "") return error.message
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    return error.message
  }
  return tagOf(error) ?? "unexpected error"
}

/** A command that finished but must exit non-zero (a failed run, a replay mismatch). */
export class ExitWith {
  readonly _tag = "ExitWith"
  constructor(readonly code: ExitCode) {}
}
