import { EventStoreError } from "@tisync/domain"
import { scrubCredentials } from "./DatabaseUrl.js"

/** SQLSTATE and detail of a driver error (pg and PGlite both expose `code` and `detail`). */
export const sqlState = (e: unknown): { readonly code: string | null; readonly detail: string | null } => {
  if (typeof e !== "object" || e === null) return { code: null, detail: null }
  const code = "code" in e && typeof e.code === "string" ? e.code : null
  const detail = "detail" in e && typeof e.detail === "string" ? e.detail : null
  return { code, detail }
}

export const toStoreError =
  (operation: string) =>
  (e: unknown): EventStoreError =>
    new EventStoreError({ operation, reason: scrubCredentials(e instanceof Error ? e.message : String(e)) })
