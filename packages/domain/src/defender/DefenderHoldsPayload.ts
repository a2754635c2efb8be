import { Either } from "effect"
import type { DefenderPayload } from "../DefenderPayload.js"
import { type DefenderIndicator, externalIdOf } from "./DefenderIndicator.js"
import { normalizeIndicatorValue } from "./IndicatorValueRules.js"

const sameInstant = (a: string | null | undefined, b: string | null | undefined): boolean => {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null)
  const ta = Date.parse(a)
  const tb = Date.parse(b)
  return Number.isFinite(ta) && ta === tb
}

const sameGroups = (sent: ReadonlyArray<string> | undefined, listed: ReadonlyArray<string>): boolean => {
  const a = [...(sent ?? [])].sort()
  const b = [...listed].sort()
  return a.length === b.length && a.every((g, k) => g === b[k])
}

/**
 * Does Defender's listed indicator already carry exactly this payload (every field tisync sends, the
 * expiration to the instant)? Then importing the payload again would change nothing: a run that finds
 * an unconfirmed mapping already applied (a crash between Defender's answer and `IndicatorSubmitted`)
 * records it as submitted without a call. Fields the list does not show (`educateUrl`) cannot be proven
 * equal, so a payload setting one is never taken as held.
 */
export const defenderHoldsPayload = (listed: DefenderIndicator, payload: DefenderPayload): boolean => {
  if (listed.indicatorType !== payload.indicatorType) return false
  const value = normalizeIndicatorValue(payload.indicatorType, listed.indicatorValue)
  if (Either.isLeft(value) || value.right !== payload.indicatorValue) return false
  return (
    listed.action === payload.action &&
    listed.title === payload.title &&
    listed.description === payload.description &&
    listed.severity === payload.severity &&
    sameInstant(listed.expirationTime, payload.expirationTime) &&
    (listed.generateAlert ?? false) === (payload.generateAlert ?? false) &&
    listed.recommendedActions === (payload.recommendedActions ?? null) &&
    sameGroups(payload.rbacGroupNames, listed.rbacGroupNames) &&
    externalIdOf(listed) === (payload.externalId ?? null) &&
    (payload.application === undefined || listed.application === payload.application) &&
    payload.educateUrl === undefined
  )
}
