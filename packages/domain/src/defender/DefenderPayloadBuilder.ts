import { Either } from "effect"
import type { DefenderPayload } from "../DefenderPayload.js"
import type { DefenderAction, DefenderSeverity, PolicyAction } from "../IndicatorAction.js"
import { type DefenderIndicatorType, isFileIndicatorType } from "../IndicatorType.js"
import { normalizeIndicatorValue, normalizeUrl, type ValueRejectionCode } from "./IndicatorValueRules.js"

/**
 * Field bounds. Defender documents no lengths (reference/defender-api.md §3.3, §7): these are tisync's
 * choices, small enough for every public exporter's numbers and large enough for DESIGN §3's formats.
 * Title and description are display text and are cut (with "…"); identifiers and the other
 * free-text fields are rejected when too long, because a cut id would no longer correlate.
 */
export const PAYLOAD_LIMITS = {
  title: 250,
  description: 1000,
  recommendedActions: 2000,
  application: 200,
  externalId: 200,
  rbacGroupName: 256,
  rbacGroupNames: 100,
  educateUrl: 800
} as const

/** What the planner wants Defender to hold for one key, before validation. */
export interface DesiredIndicator {
  readonly indicatorType: DefenderIndicatorType
  /** Raw or already normalized; the builder normalizes again (normalization is idempotent). */
  readonly indicatorValue: string
  /** A policy action: `Alert` is sent as `Audit` + `generateAlert: true`. */
  readonly action: PolicyAction | DefenderAction
  readonly title: string
  readonly description: string
  readonly severity: DefenderSeverity
  /** ISO 8601 UTC, e.g. `2026-01-01T00:00:00Z`. */
  readonly expirationTime?: string | null | undefined
  readonly generateAlert?: boolean | null | undefined
  readonly recommendedActions?: string | null | undefined
  readonly rbacGroupNames?: ReadonlyArray<string> | null | undefined
  /** Only meaningful for `Url` indicators with `Block` or `Warn` (§2.1); dropped elsewhere. */
  readonly educateUrl?: string | null | undefined
  readonly application?: string | null | undefined
  readonly externalId?: string | null | undefined
}

export const PAYLOAD_REJECTION_CODES = [
  "ActionNotSupportedForType",
  "LegacyAction",
  "FieldTooLong",
  "FieldEmpty",
  "InvalidExpirationTime",
  "InvalidEducateUrl",
  "ValueNotNormalized"
] as const
export type PayloadRejectionCode = (typeof PAYLOAD_REJECTION_CODES)[number] | ValueRejectionCode

export interface PayloadRejection {
  readonly code: PayloadRejectionCode
  readonly reason: string
  /** The DefenderPayload field at fault. */
  readonly field: keyof DefenderPayload
}

/** Legacy action names Defender retired in January 2022 (§3.1): never on the wire. */
export const LEGACY_DEFENDER_ACTIONS: ReadonlyArray<string> = ["Alert", "AlertAndBlock"]

/** `Alert` (tisync's policy name) is Defender's `Audit` with an alert; every other action is itself. */
export const defenderActionOf = (action: PolicyAction | DefenderAction): DefenderAction =>
  action === "Alert" ? "Audit" : action

const ISO_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,7})?Z$/

const cut = (text: string, max: number): string => {
  const chars = Array.from(text)
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`
}

const length = (text: string): number => Array.from(text).length

type Built = Either.Either<DefenderPayload, PayloadRejection>
const fail = (code: PayloadRejectionCode, field: keyof DefenderPayload, reason: string): Built =>
  Either.left({ code, field, reason })

/** Trimmed text or nothing: empty optional strings are left out instead of sent as "". */
const present = (s: string | null | undefined): string | undefined => {
  if (s === null || s === undefined) return undefined
  const t = s.trim()
  return t.length === 0 ? undefined : t
}

/**
 * The Defender body for a desired indicator (DESIGN §3 "Mapping"), or the first reason it cannot be
 * sent. Pure and deterministic: the same input always yields the same body (the planner hashes it).
 *
 * - the value goes through `normalizeIndicatorValue`;
 * - `Alert` becomes `Audit`; `Audit` always carries `generateAlert: true` (Defender refuses it otherwise);
 * - `BlockAndRemediate` is for file hashes only (network indicators "won't import", §3.2);
 * - title and description are trimmed and cut to `PAYLOAD_LIMITS`; other fields over their bound are rejected;
 * - `educateUrl` is kept only for `Url` + `Block`/`Warn` and must itself be a valid http(s) URL.
 */
export const buildDefenderPayload = (input: DesiredIndicator): Built => {
  if (LEGACY_DEFENDER_ACTIONS.includes(input.action) && input.action !== "Alert") {
    return fail("LegacyAction", "action", `${input.action} is a legacy Defender action and is never sent`)
  }
  const value = normalizeIndicatorValue(input.indicatorType, input.indicatorValue)
  if (Either.isLeft(value)) return fail(value.left.code, "indicatorValue", value.left.reason)

  const action = defenderActionOf(input.action)
  if (action === "BlockAndRemediate" && !isFileIndicatorType(input.indicatorType)) {
    return fail(
      "ActionNotSupportedForType",
      "action",
      `BlockAndRemediate applies to file hashes only, not ${input.indicatorType} (use Block)`
    )
  }

  const title = present(input.title)
  if (title === undefined) return fail("FieldEmpty", "title", "title is required")
  const description = present(input.description)
  if (description === undefined) return fail("FieldEmpty", "description", "description is required")

  const generateAlert = action === "Audit" ? true : (input.generateAlert ?? undefined)

  let expirationTime: string | undefined
  if (input.expirationTime !== null && input.expirationTime !== undefined) {
    if (!ISO_UTC.test(input.expirationTime)) {
      return fail("InvalidExpirationTime", "expirationTime", `${input.expirationTime} is not an ISO 8601 UTC time (…Z)`)
    }
    expirationTime = input.expirationTime
  }

  const bounded = (field: "recommendedActions" | "application" | "externalId", text: string | null | undefined) => {
    const t = present(text)
    if (t !== undefined && length(t) > PAYLOAD_LIMITS[field]) {
      return Either.left<PayloadRejection>({
        code: "FieldTooLong",
        field,
        reason: `${field} is ${length(t)} characters; at most ${PAYLOAD_LIMITS[field]}`
      })
    }
    return Either.right(t)
  }
  const recommendedActions = bounded("recommendedActions", input.recommendedActions)
  if (Either.isLeft(recommendedActions)) return Either.left(recommendedActions.left)
  const application = bounded("application", input.application)
  if (Either.isLeft(application)) return Either.left(application.left)
  const externalId = bounded("externalId", input.externalId)
  if (Either.isLeft(externalId)) return Either.left(externalId.left)

  let rbacGroupNames: Array<string> | undefined
  if (input.rbacGroupNames !== null && input.rbacGroupNames !== undefined && input.rbacGroupNames.length > 0) {
    const names = input.rbacGroupNames.map((n) => n.trim())
    if (names.length > PAYLOAD_LIMITS.rbacGroupNames) {
      return fail("FieldTooLong", "rbacGroupNames", `${names.length} RBAC groups; at most ${PAYLOAD_LIMITS.rbacGroupNames}`)
    }
    for (const n of names) {
      if (n.length === 0) return fail("FieldEmpty", "rbacGroupNames", "an RBAC group name is empty")
      if (length(n) > PAYLOAD_LIMITS.rbacGroupName || n.includes(",")) {
        return fail("FieldTooLong", "rbacGroupNames", `RBAC group name ${n} is too long or contains ','`)
      }
    }
    rbacGroupNames = names
  }

  let educateUrl: string | undefined
  const rawEducate = present(input.educateUrl)
  if (rawEducate !== undefined && input.indicatorType === "Url" && (action === "Block" || action === "Warn")) {
    const u = normalizeUrl(rawEducate)
    if (Either.isLeft(u)) return fail("InvalidEducateUrl", "educateUrl", `educateUrl: ${u.left.reason}`)
    educateUrl = u.right
  }

  const payload: DefenderPayload = {
    indicatorValue: value.right,
    indicatorType: input.indicatorType,
    action,
    title: cut(title, PAYLOAD_LIMITS.title),
    description: cut(description, PAYLOAD_LIMITS.description),
    severity: input.severity,
    ...(expirationTime !== undefined ? { expirationTime } : {}),
    ...(generateAlert !== undefined ? { generateAlert } : {}),
    ...(recommendedActions.right !== undefined ? { recommendedActions: recommendedActions.right } : {}),
    ...(rbacGroupNames !== undefined ? { rbacGroupNames } : {}),
    ...(educateUrl !== undefined ? { educateUrl } : {}),
    ...(application.right !== undefined ? { application: application.right } : {}),
    ...(externalId.right !== undefined ? { externalId: externalId.right } : {})
  }
  return Either.right(payload)
}

/**
 * Re-checks a payload that is already built (e.g. one read back from an `IndicatorMapped` event, or
 * an ad hoc `tisync submit`): the same rules, and it must come back unchanged.
 */
export const validateDefenderPayload = (payload: DefenderPayload): Built =>
  Either.flatMap(buildDefenderPayload(payload), (rebuilt) =>
    rebuilt.indicatorValue !== payload.indicatorValue
      ? fail("ValueNotNormalized", "indicatorValue", `value is not normalized: expected ${rebuilt.indicatorValue}`)
      : Either.right(rebuilt)
  )
