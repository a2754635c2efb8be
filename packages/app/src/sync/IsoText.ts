import { DateTime } from "effect"

/** ISO 8601 as DESIGN §6 prints it: `2026-01-01T00:00:00Z`, milliseconds only when there are some. */
export const isoText = (t: DateTime.Utc): string => DateTime.formatIso(t).replace(/\.000Z$/, "Z")

/** The same for an ISO string read from a projection row. */
export const isoTextOf = (iso: string | null): string | null => (iso === null ? null : iso.replace(/\.000Z$/, "Z"))
