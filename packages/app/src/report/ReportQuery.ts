import { Effect } from "effect"
import { type Policy, ProjectionStore } from "@tisync/domain"
import { statusOf } from "../sync/StatusQuery.js"
import type { ReportInput, TargetReportInput } from "./ReportData.js"

/** The indicator states the report shows; revoked, expired and merely selected rows are left in the store. */
const SHOWN_STATUSES = ["live", "rejected", "duplicate", "deferred"]

/**
 * Reads what `tisync report` shows from the projections (brought up to date by `statusOf`): per target
 * its status, its newest `runLimit` runs and its indicator rows.
 */
export const reportInputOf = (
  targetIds: ReadonlyArray<string>,
  options: { readonly runLimit: number; readonly generatedAt: string; readonly policyOf?: (targetId: string) => Policy | undefined }
) =>
  Effect.gen(function* () {
    const projections = yield* ProjectionStore
    const status = yield* statusOf(targetIds, options.policyOf)
    const targets = yield* Effect.forEach(status.targets, (target) =>
      Effect.gen(function* () {
        const runs = yield* projections.runs({ targetId: target.targetId, limit: options.runLimit })
        const rows = yield* projections.indicators({ targetId: target.targetId, statuses: SHOWN_STATUSES })
        const input: TargetReportInput = { status: target, runs, rows }
        return input
      })
    )
    const input: ReportInput = { generatedAt: options.generatedAt, targets }
    return input
  })
