import { Data, Either, Redacted } from "effect"

export class DatabaseConfigError extends Data.TaggedError("DatabaseConfigError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

/** `postgres://user:***@host:port/db`: what may be printed of a database URL. */
export const redactDatabaseUrl = (raw: string): string => {
  try {
    const url = new URL(raw)
    if (url.password !== "") url.password = "***"
    return url.toString()
  } catch {
    return "(unparseable database URL)"
  }
}

/** Removes anything that looks like URL credentials from driver error text before it is shown. */
export const scrubCredentials = (text: string): string =>
  text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, "$1:***@")

/** Checks `TISYNC_DATABASE_URL` before any connection: a postgres URL naming a host and a database. */
export const parseDatabaseUrl = (
  url: Redacted.Redacted<string>
): Either.Either<Redacted.Redacted<string>, DatabaseConfigError> => {
  const raw = Redacted.value(url)
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    return Either.left(new DatabaseConfigError({ reason: "TISYNC_DATABASE_URL is not a valid URL" }))
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    return Either.left(
      new DatabaseConfigError({
        reason: `TISYNC_DATABASE_URL must start with postgres:// or postgresql:// (got ${redactDatabaseUrl(raw)})`
      })
    )
  }
  if (parsed.hostname === "" && !parsed.searchParams.has("host")) {
    return Either.left(new DatabaseConfigError({ reason: `TISYNC_DATABASE_URL names no host (${redactDatabaseUrl(raw)})` }))
  }
  return Either.right(url)
}
