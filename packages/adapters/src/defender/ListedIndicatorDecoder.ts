import { type DefenderIndicator, decodeDefenderIndicator } from "@tisync/domain"
import { Either } from "effect"

/**
 * Decodes one indicator of Defender's list. A list of 15,000 went through the `DefenderIndicator`
 * schema in ~0.6 s of CPU; the usual shape (strings or nulls, a string or numeric id, a boolean
 * `generateAlert`, a list of group names) is read here directly, to the very value the schema yields.
 * Anything else (a comma-separated `rbacGroupNames`, `"True"`, a malformed item) goes through the
 * schema, which stays the definition of what is accepted and how.
 */
export const decodeListedIndicator = (raw: unknown): ReturnType<typeof decodeDefenderIndicator> => {
  const fast = readUsualShape(raw)
  return fast === null ? decodeDefenderIndicator(raw) : Either.right(fast)
}

const NOT_USUAL = Symbol("not usual")

const field = (o: object, key: string): unknown => {
  const v: unknown = Reflect.get(o, key)
  return v
}

/** `OptionalText`: absent or null -> null, a string as is. */
const text = (o: object, key: string): string | null | typeof NOT_USUAL => {
  const v = field(o, key)
  return v === undefined || v === null ? null : typeof v === "string" ? v : NOT_USUAL
}

const readUsualShape = (raw: unknown): DefenderIndicator | null => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null
  const rawId = field(raw, "id")
  const id = typeof rawId === "string" ? rawId : typeof rawId === "number" ? String(rawId) : null
  const indicatorValue = field(raw, "indicatorValue")
  const indicatorType = field(raw, "indicatorType")
  if (id === null || typeof indicatorValue !== "string" || typeof indicatorType !== "string") return null
  const generateAlert = field(raw, "generateAlert")
  if (!(generateAlert === undefined || generateAlert === null || typeof generateAlert === "boolean")) return null
  const groups = field(raw, "rbacGroupNames")
  const rbacGroupNames: Array<string> = []
  if (Array.isArray(groups)) {
    for (const g of groups) {
      if (typeof g !== "string") return null
      rbacGroupNames.push(g)
    }
  } else if (groups !== undefined) {
    return null
  }
  const category = field(raw, "category")
  if (!(category === undefined || category === null || typeof category === "number" || typeof category === "string")) return null
  const action = text(raw, "action")
  const severity = text(raw, "severity")
  const title = text(raw, "title")
  const description = text(raw, "description")
  const recommendedActions = text(raw, "recommendedActions")
  const application = text(raw, "application")
  const createdBy = text(raw, "createdBy")
  const createdBySource = text(raw, "createdBySource")
  const createdByDisplayName = text(raw, "createdByDisplayName")
  const creationTimeDateTimeUtc = text(raw, "creationTimeDateTimeUtc")
  const expirationTime = text(raw, "expirationTime")
  const lastUpdateTime = text(raw, "lastUpdateTime")
  const lastUpdatedBy = text(raw, "lastUpdatedBy")
  const externalId = text(raw, "externalId")
  const externalID = text(raw, "externalID")
  if (
    action === NOT_USUAL || severity === NOT_USUAL || title === NOT_USUAL || description === NOT_USUAL ||
    recommendedActions === NOT_USUAL || application === NOT_USUAL || createdBy === NOT_USUAL ||
    createdBySource === NOT_USUAL || createdByDisplayName === NOT_USUAL || creationTimeDateTimeUtc === NOT_USUAL ||
    expirationTime === NOT_USUAL || lastUpdateTime === NOT_USUAL || lastUpdatedBy === NOT_USUAL ||
    externalId === NOT_USUAL || externalID === NOT_USUAL
  ) {
    return null
  }
  return {
    id,
    indicatorValue,
    indicatorType,
    action,
    severity,
    title,
    description,
    recommendedActions,
    application,
    createdBy,
    createdBySource,
    createdByDisplayName,
    creationTimeDateTimeUtc,
    expirationTime,
    lastUpdateTime,
    lastUpdatedBy,
    externalId,
    externalID,
    generateAlert: generateAlert ?? null,
    rbacGroupNames,
    category: category ?? null
  }
}
