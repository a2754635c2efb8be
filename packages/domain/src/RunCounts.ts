import { Schema } from "effect"

/** `counts` of `sync --json` (DESIGN §6), also recorded in `RunCompleted`. */
export const RunCounts = Schema.Struct({
  selected: Schema.Int,
  submitted: Schema.Int,
  updated: Schema.Int,
  renewed: Schema.Int,
  unchanged: Schema.Int,
  revoked: Schema.Int,
  expired: Schema.Int,
  rejectedInvalid: Schema.Int,
  rejectedDuplicate: Schema.Int,
  deferredQuota: Schema.Int,
  failed: Schema.Int
})
export type RunCounts = typeof RunCounts.Type

export const emptyRunCounts: RunCounts = {
  selected: 0,
  submitted: 0,
  updated: 0,
  renewed: 0,
  unchanged: 0,
  revoked: 0,
  expired: 0,
  rejectedInvalid: 0,
  rejectedDuplicate: 0,
  deferredQuota: 0,
  failed: 0
}

/** `apiCalls` of `sync --json`: every HTTP request made, retries included. */
export const ApiCalls = Schema.Struct({
  import: Schema.Int,
  submit: Schema.Int,
  list: Schema.Int,
  delete: Schema.Int,
  batchDelete: Schema.Int,
  threatconnect: Schema.Int
})
export type ApiCalls = typeof ApiCalls.Type

export const emptyApiCalls: ApiCalls = { import: 0, submit: 0, list: 0, delete: 0, batchDelete: 0, threatconnect: 0 }

/** `quota` of `sync --json` and `status --json`. */
export const QuotaFigures = Schema.Struct({
  limit: Schema.Int,
  reserve: Schema.Int,
  foreign: Schema.Int,
  live: Schema.Int,
  capacity: Schema.Int
})
export type QuotaFigures = typeof QuotaFigures.Type
