import type { RunCounts } from "../RunCounts.js"
import type { Plan, RetryItem } from "./Plan.js"

const retried = (items: ReadonlyArray<RetryItem>, intent: RetryItem["intent"]): number =>
  items.filter((r) => r.intent === intent).length

/**
 * The planned `counts` of DESIGN §6 (what `plan --json` prints). A retry counts as what it finishes
 * (create -> submitted, update -> updated, renew -> renewed); every revoke counts in `revoked`, the
 * revoke half of an action change included; `failed` is 0 before anything is tried.
 */
export const planCounts = (plan: Plan): RunCounts => ({
  selected: plan.selected.length,
  submitted: plan.create.length + retried(plan.retry, "create"),
  updated: plan.update.length + retried(plan.retry, "update"),
  renewed: plan.renew.length + retried(plan.retry, "renew"),
  unchanged: plan.unchanged.length,
  revoked: plan.revoke.length,
  expired: plan.expire.length,
  rejectedInvalid: plan.reject.length,
  rejectedDuplicate: plan.duplicate.length,
  deferredQuota: plan.defer.length,
  failed: 0
})
