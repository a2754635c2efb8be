import { Data } from "effect"

/** A request the use cases refuse before touching any API (bad target id, bad submit input): exit 2. */
export class SyncInputError extends Data.TaggedError("SyncInputError")<{
  /** The option or field at fault (`targetId`, `type`, `value`, `expires`...). */
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.field}: ${this.reason}`
  }
}

/** `runs show RUN_ID` for a run the log does not know. */
export class RunNotFound extends Data.TaggedError("RunNotFound")<{ readonly runId: string }> {
  override get message(): string {
    return `no run ${this.runId}`
  }
}

/**
 * Errors that mean the credentials are refused: retrying the next batch cannot help, so the run stops at
 * once (DESIGN §6: "an API refused the credentials" is exit 1).
 */
const FATAL_TAGS: ReadonlySet<string> = new Set([
  "DefenderUnauthorized",
  "DefenderForbidden",
  "TokenAcquisitionError",
  "SourceAuthError",
  "SourcePermissionError",
  "SourceConfigError",
  "DefenderConfigError"
])

export const isCredentialError = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" && FATAL_TAGS.has(error._tag)

/**
 * The text recorded in `RunFailed` and printed: the error's own message (every port error builds one
 * that names the call and never carries a secret), else its tag.
 */
export const faultMessage = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const message = "message" in error && typeof error.message === "string" ? error.message : ""
    if (message.length > 0) return message
    if ("_tag" in error && typeof error._tag === "string") return error._tag
  }
  return typeof error === "string" && error.length > 0 ? error : "unknown failure"
}
