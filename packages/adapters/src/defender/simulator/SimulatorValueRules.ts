/**
 * What the Defender simulator accepts, written from reference/defender-api.md §2-§3 and independent of
 * the domain's `normalizeIndicatorValue` (so the property test "every body tisync builds is accepted"
 * checks tisync against the documented rules, not against itself). Deliberately looser than tisync:
 * Defender documents fewer rules than tisync enforces.
 */
export const SIM_INDICATOR_TYPES = ["FileSha1", "FileMd5", "CertificateThumbprint", "FileSha256", "IpAddress", "DomainName", "Url"]
export const SIM_ACTIONS = ["Warn", "Block", "Audit", "BlockAndRemediate", "Allowed"]
/** Retired in January 2022 (§3.1). The simulator refuses them so a regression in tisync is caught. */
export const SIM_LEGACY_ACTIONS = ["Alert", "AlertAndBlock"]
export const SIM_SEVERITIES = ["Informational", "Low", "Medium", "High"]
const FILE_TYPES = ["FileSha1", "FileMd5", "FileSha256", "CertificateThumbprint"]

export interface SimRejection {
  readonly code: string
  readonly message: string
}

const v4 = (s: string): Array<number> | null => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (m === null) return null
  const o = [m[1], m[2], m[3], m[4]].map(Number)
  return o.every((n) => n <= 255) ? o : null
}

/** "Only external IPs can be added" (§3.3): private, loopback, link-local, multicast, reserved. */
const internalV4 = (o: ReadonlyArray<number>): boolean => {
  const [a = 0, b = 0] = o
  return a === 0 || a === 10 || a === 127 || a >= 224 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)
}

const checkIp = (value: string): SimRejection | null => {
  const bad = { code: "InvalidIpAddress", message: `IP address ${value} is invalid.` }
  if (value.includes("/")) return bad // "CIDR notation for IPs isn't supported"
  const o = v4(value)
  if (o !== null) return internalV4(o) ? bad : null
  // IPv6: "specify all 8 segments" (§3.3).
  const groups = value.split(":")
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return bad
  const n = groups.map((g) => parseInt(g, 16))
  const first = n[0] ?? 0
  const allZeroTo6 = n.slice(0, 7).every((x) => x === 0)
  if (allZeroTo6 && ((n[7] ?? 0) <= 1)) return bad // :: and ::1
  if ((first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00) return bad
  return null
}

const checkDomain = (value: string): SimRejection | null => {
  const ok = value.length <= 253 &&
    /^([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)+[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(value) &&
    !/\.[0-9]+$/.test(value)
  return ok ? null : { code: "InvalidDomainName", message: `Domain name ${value} is invalid.` }
}

const checkUrl = (value: string): SimRejection | null => {
  const bad = { code: "InvalidUrl", message: `URL ${value} is invalid.` }
  if (/\s/.test(value)) return bad
  try {
    const u = new URL(value)
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname.length > 0 ? null : bad
  } catch {
    return bad
  }
}

const HASH_LENGTHS: Record<string, number> = { FileMd5: 32, FileSha1: 40, FileSha256: 64, CertificateThumbprint: 40 }

export const checkIndicatorValue = (type: string, value: string): SimRejection | null => {
  if (value.length === 0) return { code: "InvalidInput", message: "Recieved an empty indicator value." }
  switch (type) {
    case "IpAddress":
      return checkIp(value)
    case "DomainName":
      return checkDomain(value)
    case "Url":
      return checkUrl(value)
    default: {
      const len = HASH_LENGTHS[type]
      return len !== undefined && value.length === len && /^[0-9a-fA-F]+$/.test(value)
        ? null
        : { code: "InvalidHashValue", message: `Hash value ${value} is invalid.` }
    }
  }
}

/** The body of one indicator once the simulator accepted it. */
export interface SimIndicatorInput {
  readonly indicatorValue: string
  readonly indicatorType: string
  readonly action: string
  readonly title: string
  readonly description: string
  readonly severity: string | null
  readonly expirationTime: string | null
  readonly generateAlert: boolean | null
  readonly recommendedActions: string | null
  readonly rbacGroupNames: ReadonlyArray<string>
  readonly educateUrl: string | null
  readonly application: string | null
  readonly externalId: string | null
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Validates one indicator body (case-sensitive field names, §2.6) as POST /api/indicators does. */
export const validateIndicatorBody = (body: unknown): SimIndicatorInput | SimRejection => {
  if (!isRecord(body)) return { code: "InvalidRequestBody", message: "Request body is incorrect" }
  for (const field of ["indicatorValue", "indicatorType", "action", "title", "description"]) {
    const v = body[field]
    if (v === undefined || v === null || v === "") return { code: "MissingRequiredParameter", message: `Parameter ${field} is missing.` }
    if (typeof v !== "string") return { code: "InvalidInput", message: `Invalid input ${field}.` }
  }
  const str = (k: string): string => {
    const v = body[k]
    return typeof v === "string" ? v : ""
  }
  const optStr = (k: string): string | null | SimRejection => {
    const v = body[k]
    if (v === undefined || v === null) return null
    return typeof v === "string" ? v : { code: "InvalidInput", message: `Invalid input ${k}.` }
  }
  const type = str("indicatorType")
  const action = str("action")
  if (!SIM_INDICATOR_TYPES.includes(type)) return { code: "InvalidInput", message: `Invalid input indicatorType ${type}.` }
  if (SIM_LEGACY_ACTIONS.includes(action)) return { code: "InvalidInput", message: `Invalid input action ${action}: legacy action.` }
  if (!SIM_ACTIONS.includes(action)) return { code: "InvalidInput", message: `Invalid input action ${action}.` }
  const ga = body["generateAlert"]
  if (ga !== undefined && ga !== null && typeof ga !== "boolean") return { code: "InvalidInput", message: "Invalid input generateAlert." }
  const generateAlert = typeof ga === "boolean" ? ga : null
  if (action === "Audit" && generateAlert !== true) {
    return { code: "InvalidInput", message: "Invalid input generateAlert: must be True for action Audit." }
  }
  if (action === "BlockAndRemediate" && !FILE_TYPES.includes(type)) {
    return { code: "InvalidInput", message: `Invalid input action BlockAndRemediate for ${type}.` }
  }
  const sev = optStr("severity")
  if (typeof sev === "object" && sev !== null) return sev
  if (sev !== null && !SIM_SEVERITIES.includes(sev)) return { code: "InvalidInput", message: `Invalid input severity ${sev}.` }
  const exp = optStr("expirationTime")
  if (typeof exp === "object" && exp !== null) return exp
  if (exp !== null && Number.isNaN(Date.parse(exp))) return { code: "InvalidInput", message: `Invalid input expirationTime ${exp}.` }
  const rb = body["rbacGroupNames"]
  let rbacGroupNames: Array<string> = []
  if (Array.isArray(rb)) {
    if (!rb.every((x): x is string => typeof x === "string")) return { code: "InvalidInput", message: "Invalid input rbacGroupNames." }
    rbacGroupNames = rb
  } else if (typeof rb === "string") rbacGroupNames = rb.split(",").filter((x) => x.length > 0)
  else if (rb !== undefined && rb !== null) return { code: "InvalidInput", message: "Invalid input rbacGroupNames." }
  const others: Record<string, string | null> = {}
  for (const k of ["recommendedActions", "educateUrl", "application", "externalId"]) {
    const v = optStr(k)
    if (typeof v === "object" && v !== null) return v
    others[k] = v
  }
  const value = str("indicatorValue")
  const bad = checkIndicatorValue(type, value)
  if (bad !== null) return bad
  return {
    indicatorValue: value,
    indicatorType: type,
    action,
    title: str("title"),
    description: str("description"),
    severity: sev,
    expirationTime: exp,
    generateAlert,
    recommendedActions: others["recommendedActions"] ?? null,
    rbacGroupNames,
    educateUrl: others["educateUrl"] ?? null,
    application: others["application"] ?? null,
    externalId: others["externalId"] ?? null
  }
}

export const isRejection = (u: SimIndicatorInput | SimRejection): u is SimRejection => "code" in u
