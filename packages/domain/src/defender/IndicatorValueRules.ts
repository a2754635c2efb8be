import { Either } from "effect"
import type { DefenderIndicatorType } from "../IndicatorType.js"
import { punycodeDecode, punycodeEncode } from "./Punycode.js"

/**
 * The value rules of DESIGN §3 ("Mapping: value/type") applied before any call to Defender
 * (reference/defender-api.md §3.3, §6.6): one canonical string per indicator, or a rejection with a
 * stable reason code the planner records in `IndicatorRejected.reasonCode`.
 *
 * Normalisation is idempotent: `normalize(normalize(x)) === normalize(x)`.
 */
export interface ValueRejection {
  readonly code: ValueRejectionCode
  readonly reason: string
}

export const VALUE_REJECTION_CODES = [
  "EmptyValue",
  "ValueTooLong",
  "IpMalformed",
  "IpCidrNotSupported",
  "IpRangeNotSupported",
  "IpPrivate",
  "IpLoopback",
  "IpLinkLocal",
  "IpMulticast",
  "IpReserved",
  "IpUnspecified",
  "IpDocumentation",
  "DomainMalformed",
  "DomainTooLong",
  "DomainLabelTooLong",
  "DomainSingleLabel",
  "DomainIsIpAddress",
  "DomainLocal",
  "DomainIdnInvalid",
  "UrlMalformed",
  "UrlSchemeNotAllowed",
  "UrlCredentials",
  "UrlHostInvalid",
  "UrlPortInvalid",
  "UrlTooLong",
  "HashMalformed",
  "HashLength",
  "HashEmptyFile"
] as const
export type ValueRejectionCode = (typeof VALUE_REJECTION_CODES)[number]

/**
 * Defender's own error code for each family (reference/defender-api.md §2.6), for callers that want to
 * show what Defender would have answered.
 */
export const defenderErrorCodeOfValueRejection = (code: ValueRejectionCode): string =>
  code.startsWith("Ip")
    ? "InvalidIpAddress"
    : code.startsWith("Domain")
      ? "InvalidDomainName"
      : code.startsWith("Url")
        ? "InvalidUrl"
        : code.startsWith("Hash")
          ? "InvalidHashValue"
          : "InvalidInput"

/** Bounds on indicator values. Defender documents none; 800 is the only public number (§3.3, OpenCTI). */
export const MAX_URL_LENGTH = 800
export const MAX_DOMAIN_LENGTH = 253
export const MAX_LABEL_LENGTH = 63
const MAX_RAW_LENGTH = 8192

type Result = Either.Either<string, ValueRejection>
const reject = (code: ValueRejectionCode, reason: string): Result => Either.left({ code, reason })
const accept = (value: string): Result => Either.right(value)

/** Any whitespace or C0/C1 control character inside a value makes it malformed. */
const hasSpaceOrControl = (s: string): boolean => /[\s\u0000-\u001f\u007f-\u009f]/u.test(s)

// ---------------------------------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------------------------------

/** Parses a strict dotted quad: four decimal octets 0-255, no leading zeros (ambiguous: octal or not). */
export const parseIpv4 = (s: string): ReadonlyArray<number> | null => {
  const parts = s.split(".")
  if (parts.length !== 4) return null
  const octets: Array<number> = []
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null
    const n = Number(part)
    if (n > 255) return null
    octets.push(n)
  }
  return octets
}

const ipv4ToInt = (o: ReadonlyArray<number>): number =>
  (((o[0] ?? 0) << 24) >>> 0) + ((o[1] ?? 0) << 16) + ((o[2] ?? 0) << 8) + (o[3] ?? 0)

/** IANA IPv4 special-purpose registry (RFC 6890 and successors): nothing here is an external address. */
const IPV4_SPECIAL: ReadonlyArray<readonly [string, number, ValueRejectionCode, string]> = [
  ["0.0.0.0", 32, "IpUnspecified", "0.0.0.0 is the unspecified address"],
  ["0.0.0.0", 8, "IpReserved", "0.0.0.0/8 is 'this network' (RFC 791)"],
  ["10.0.0.0", 8, "IpPrivate", "10.0.0.0/8 is private (RFC 1918)"],
  ["100.64.0.0", 10, "IpPrivate", "100.64.0.0/10 is shared carrier-grade NAT space (RFC 6598)"],
  ["127.0.0.0", 8, "IpLoopback", "127.0.0.0/8 is loopback"],
  ["169.254.0.0", 16, "IpLinkLocal", "169.254.0.0/16 is link-local"],
  ["172.16.0.0", 12, "IpPrivate", "172.16.0.0/12 is private (RFC 1918)"],
  ["192.0.0.0", 24, "IpReserved", "192.0.0.0/24 is reserved for IETF protocol assignments"],
  ["192.0.2.0", 24, "IpDocumentation", "192.0.2.0/24 is TEST-NET-1 (documentation)"],
  ["192.88.99.0", 24, "IpReserved", "192.88.99.0/24 is the deprecated 6to4 relay anycast block"],
  ["192.168.0.0", 16, "IpPrivate", "192.168.0.0/16 is private (RFC 1918)"],
  ["198.18.0.0", 15, "IpReserved", "198.18.0.0/15 is reserved for benchmarking (RFC 2544)"],
  ["198.51.100.0", 24, "IpDocumentation", "198.51.100.0/24 is TEST-NET-2 (documentation)"],
  ["203.0.113.0", 24, "IpDocumentation", "203.0.113.0/24 is TEST-NET-3 (documentation)"],
  ["224.0.0.0", 4, "IpMulticast", "224.0.0.0/4 is multicast"],
  ["255.255.255.255", 32, "IpReserved", "255.255.255.255 is the limited broadcast address"],
  ["240.0.0.0", 4, "IpReserved", "240.0.0.0/4 is reserved (class E)"]
]

const prefixMask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0)

/** The table above as (masked network, mask) integers, parsed once at module load. */
const IPV4_SPECIAL_RANGES: ReadonlyArray<{
  readonly network: number
  readonly mask: number
  readonly code: ValueRejectionCode
  readonly reason: string
}> = IPV4_SPECIAL.map(([base, prefix, code, reason]) => {
  const octets = parseIpv4(base)
  if (octets === null) throw new Error(`IPV4_SPECIAL: ${base} is not a dotted quad`)
  const mask = prefixMask(prefix)
  return { network: (ipv4ToInt(octets) & mask) >>> 0, mask, code, reason }
})

const classifyIpv4 = (octets: ReadonlyArray<number>): ValueRejection | null => {
  const ip = ipv4ToInt(octets)
  for (const range of IPV4_SPECIAL_RANGES) {
    if (((ip & range.mask) >>> 0) === range.network) {
      return { code: range.code, reason: `${octets.join(".")}: ${range.reason}; Defender takes external IPs only` }
    }
  }
  return null
}

// ---------------------------------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------------------------------

/** Parses any textual IPv6 form (RFC 4291 §2.2: `::`, embedded IPv4 tail) into 8 16-bit groups. */
export const parseIpv6 = (input: string): ReadonlyArray<number> | null => {
  let s = input
  if (s.length === 0 || s.includes("%")) return null // zone ids only make sense on the local link
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) is rewritten as its two hex groups first.
  const lastColon = s.lastIndexOf(":")
  if (lastColon >= 0 && s.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(s.slice(lastColon + 1))
    if (v4 === null) return null
    const hi = (((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)
    const lo = (((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`
  }
  const halves = s.split("::")
  if (halves.length > 2) return null
  const parseGroups = (part: string): Array<number> | null => {
    if (part === "") return []
    const groups: Array<number> = []
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null
      groups.push(parseInt(g, 16))
    }
    return groups
  }
  const head = parseGroups(halves[0] ?? "")
  if (head === null) return null
  if (halves.length === 1) return head.length === 8 ? head : null
  const rest = parseGroups(halves[1] ?? "")
  if (rest === null) return null
  const explicit = head.length + rest.length
  if (explicit > 7) return null
  return [...head, ...Array<number>(8 - explicit).fill(0), ...rest]
}

/** Defender's documented form: all 8 groups, lower-case hex, no leading zeros (`2001:4860:4860:0:0:0:0:8888`). */
export const formatIpv6Full = (groups: ReadonlyArray<number>): string => groups.map((g) => g.toString(16)).join(":")

const v6Prefix = (groups: ReadonlyArray<number>, base: ReadonlyArray<number>, prefix: number): boolean => {
  for (let bit = 0; bit < prefix; bit += 16) {
    const take = Math.min(16, prefix - bit)
    const mask = (0xffff << (16 - take)) & 0xffff
    const i = bit / 16
    if (((groups[i] ?? 0) & mask) !== ((base[i] ?? 0) & mask)) return false
  }
  return true
}

const embeddedV4 = (groups: ReadonlyArray<number>): ReadonlyArray<number> => [
  (groups[6] ?? 0) >> 8,
  (groups[6] ?? 0) & 0xff,
  (groups[7] ?? 0) >> 8,
  (groups[7] ?? 0) & 0xff
]

const classifyIpv6 = (groups: ReadonlyArray<number>): ValueRejection | null => {
  const text = formatIpv6Full(groups)
  const r = (code: ValueRejectionCode, why: string): ValueRejection => ({
    code,
    reason: `${text}: ${why}; Defender takes external IPs only`
  })
  if (groups.every((g) => g === 0)) return r("IpUnspecified", ":: is the unspecified address")
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return r("IpLoopback", "::1 is loopback")
  // IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) carry an IPv4 address: judge that one.
  if (v6Prefix(groups, [0, 0, 0, 0, 0, 0xffff], 96) || v6Prefix(groups, [0x64, 0xff9b, 0, 0, 0, 0], 96)) {
    const inner = classifyIpv4(embeddedV4(groups))
    return inner === null ? null : { code: inner.code, reason: `${text} embeds ${inner.reason}` }
  }
  if (v6Prefix(groups, [0xff00], 8)) return r("IpMulticast", "ff00::/8 is multicast")
  if (v6Prefix(groups, [0xfe80], 10)) return r("IpLinkLocal", "fe80::/10 is link-local")
  if (v6Prefix(groups, [0xfec0], 10)) return r("IpPrivate", "fec0::/10 is deprecated site-local")
  if (v6Prefix(groups, [0xfc00], 7)) return r("IpPrivate", "fc00::/7 is unique local (private)")
  if (v6Prefix(groups, [0x2001, 0x0db8], 32)) return r("IpDocumentation", "2001:db8::/32 is documentation")
  if (v6Prefix(groups, [0x3fff], 20)) return r("IpDocumentation", "3fff::/20 is documentation (RFC 9637)")
  if (v6Prefix(groups, [0x2001], 23)) return r("IpReserved", "2001::/23 is reserved for IETF protocol assignments")
  if (v6Prefix(groups, [0x2002], 16)) {
    const inner = classifyIpv4([(groups[1] ?? 0) >> 8, (groups[1] ?? 0) & 0xff, (groups[2] ?? 0) >> 8, (groups[2] ?? 0) & 0xff])
    return inner === null ? null : { code: inner.code, reason: `${text} (6to4) embeds ${inner.reason}` }
  }
  // Only 2000::/3 is allocated global unicast; everything else is reserved by IANA.
  if (!v6Prefix(groups, [0x2000], 3)) return r("IpReserved", "outside 2000::/3, the global unicast space")
  return null
}

// ---------------------------------------------------------------------------------------------------
// IP address
// ---------------------------------------------------------------------------------------------------

const normalizeIpAddress = (raw: string): Result => {
  let s = raw
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1)
  if (s.includes("/")) return reject("IpCidrNotSupported", `${raw}: CIDR blocks are not supported by Defender, only single addresses`)
  if (/^[^-]+-[^-]+$/.test(s) || s.includes("*")) {
    return reject("IpRangeNotSupported", `${raw}: ranges and wildcards are not supported by Defender, only single addresses`)
  }
  if (hasSpaceOrControl(s)) return reject("IpMalformed", `${JSON.stringify(raw)} contains whitespace or control characters`)
  const v4 = parseIpv4(s)
  if (v4 !== null) {
    const rejected = classifyIpv4(v4)
    return rejected === null ? accept(v4.join(".")) : Either.left(rejected)
  }
  if (s.includes(":")) {
    const v6 = parseIpv6(s)
    if (v6 === null) return reject("IpMalformed", `${raw} is not a valid IPv6 address`)
    const rejected = classifyIpv6(v6)
    return rejected === null ? accept(formatIpv6Full(v6)) : Either.left(rejected)
  }
  if (/^[0-9.]+$/.test(s)) {
    return reject("IpMalformed", `${raw} is not a dotted quad of four octets 0-255 without leading zeros`)
  }
  return reject("IpMalformed", `${raw} is not an IPv4 or IPv6 address`)
}

// ---------------------------------------------------------------------------------------------------
// Domain name
// ---------------------------------------------------------------------------------------------------

/** TLDs that never resolve on the Internet: an indicator on them can match nothing useful (RFC 6761/6762). */
const LOCAL_TLDS: ReadonlySet<string> = new Set(["localhost", "local"])

/**
 * A Unicode label may hold letters, combining marks, digits, '-' and '_' (IDNA 2008 is stricter still):
 * no format or bidi controls (U+202E makes `evil\u202e.example` display as another name), no symbols, no
 * U+FFFD (what an invalid byte decodes to).
 */
const firstNonLabelCharacter = (label: string): string | null => {
  const m = /[^\p{L}\p{M}\p{N}_-]/u.exec(label)
  const cp = m === null ? undefined : m[0].codePointAt(0)
  return cp === undefined ? null : `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`
}

const normalizeHostLabel = (label: string, whole: string): Either.Either<string, ValueRejection> => {
  if (label.length === 0) {
    return Either.left({ code: "DomainMalformed", reason: `${whole} has an empty label` })
  }
  let ascii = label
  // Non-ASCII labels become xn-- A-labels (RFC 3490/3492).
  if (/[^\x00-\x7f]/.test(label)) {
    const bad = firstNonLabelCharacter(label)
    if (bad !== null) return Either.left({ code: "DomainIdnInvalid", reason: `${whole}: a domain label may not hold ${bad}` })
    const encoded = punycodeEncode(label)
    if (encoded === null) return Either.left({ code: "DomainIdnInvalid", reason: `${whole}: label ${label} cannot be encoded` })
    ascii = `xn--${encoded}`
  }
  if (ascii.startsWith("xn--")) {
    const decoded = punycodeDecode(ascii.slice(4))
    if (decoded === null || decoded.length === 0 || punycodeEncode(decoded) !== ascii.slice(4)) {
      return Either.left({ code: "DomainIdnInvalid", reason: `${whole}: ${ascii} is not a valid punycode A-label` })
    }
    const bad = firstNonLabelCharacter(decoded)
    if (bad !== null) return Either.left({ code: "DomainIdnInvalid", reason: `${whole}: ${ascii} decodes to a label holding ${bad}` })
  }
  if (ascii.length > MAX_LABEL_LENGTH) {
    return Either.left({ code: "DomainLabelTooLong", reason: `${whole}: label ${ascii} is longer than ${MAX_LABEL_LENGTH}` })
  }
  // Letters, digits, hyphen; underscores occur in real (malicious) hostnames, so they are let through.
  if (!/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/.test(ascii)) {
    return Either.left({
      code: "DomainMalformed",
      reason: `${whole}: label ${ascii} may hold only letters, digits, '-' and '_' and may not start or end with '-'`
    })
  }
  return Either.right(ascii)
}

/** Domain names: lower case, no trailing dot, IDN to punycode, LDH labels of 1-63, 253 in total, 2+ labels. */
export const normalizeDomainName = (raw: string): Result => {
  if (hasSpaceOrControl(raw)) return reject("DomainMalformed", `${JSON.stringify(raw)} contains whitespace or control characters`)
  if (/[/:@?#*\\]/.test(raw)) {
    return reject("DomainMalformed", `${raw} is not a bare domain name (no scheme, port, path or wildcard)`)
  }
  // Ideographic full stops count as dots (UTS #46); NFC then lower case before encoding.
  let s = raw.replace(/[\u3002\uff0e\uff61]/g, ".").normalize("NFC").toLowerCase()
  if (s.endsWith(".")) s = s.slice(0, -1)
  if (s.length === 0) return reject("DomainMalformed", `${raw} is empty`)
  const labels: Array<string> = []
  for (const label of s.split(".")) {
    const r = normalizeHostLabel(label, raw)
    if (Either.isLeft(r)) return Either.left(r.left)
    labels.push(r.right)
  }
  const out = labels.join(".")
  if (out.length > MAX_DOMAIN_LENGTH) return reject("DomainTooLong", `${raw} is longer than ${MAX_DOMAIN_LENGTH} characters`)
  if (labels.length < 2) return reject("DomainSingleLabel", `${raw} is a single label, not an Internet domain`)
  const tld = labels[labels.length - 1] ?? ""
  if (/^[0-9]+$/.test(tld)) return reject("DomainIsIpAddress", `${raw} looks like an IP address, not a domain name`)
  if (tld.includes("_")) return reject("DomainMalformed", `${raw}: the top-level label may not contain '_'`)
  if (LOCAL_TLDS.has(tld)) return reject("DomainLocal", `${raw} is a local-only name (.${tld})`)
  return accept(out)
}

// ---------------------------------------------------------------------------------------------------
// URL
// ---------------------------------------------------------------------------------------------------

const DEFAULT_PORT: Record<string, string> = { http: "80", https: "443" }

/**
 * URLs: http or https only, no credentials (user:pass@ would leak into Defender and never match),
 * scheme and host lower-cased, host through the domain or IP rules, default port dropped, fragment
 * dropped (never sent on the wire), a lone "/" path dropped; path and query are kept verbatim.
 */
export const normalizeUrl = (raw: string): Result => {
  if (hasSpaceOrControl(raw)) return reject("UrlMalformed", `${JSON.stringify(raw)} contains whitespace or control characters`)
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(raw)
  if (m === null) {
    return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw) && !raw.includes("//")
      ? reject("UrlSchemeNotAllowed", `${raw} must start with http:// or https://`)
      : raw.includes("://")
        ? reject("UrlMalformed", `${raw} is not a valid URL`)
        : reject("UrlSchemeNotAllowed", `${raw} has no scheme; it must start with http:// or https://`)
  }
  const scheme = (m[1] ?? "").toLowerCase()
  const authority = m[2] ?? ""
  const path = m[3] ?? ""
  const query = m[4] ?? ""
  if (scheme !== "http" && scheme !== "https") return reject("UrlSchemeNotAllowed", `${raw}: scheme ${scheme} is not http or https`)
  if (authority.includes("@")) return reject("UrlCredentials", `${raw.replace(/\/\/[^@/]*@/, "//***@")} embeds credentials`)
  let hostPart = authority
  let port = ""
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]")
    if (close < 0) return reject("UrlHostInvalid", `${raw}: unterminated IPv6 host`)
    hostPart = authority.slice(0, close + 1)
    const after = authority.slice(close + 1)
    if (after !== "" && !after.startsWith(":")) return reject("UrlHostInvalid", `${raw}: junk after the IPv6 host`)
    port = after.slice(1)
    if (after === ":") return reject("UrlPortInvalid", `${raw}: empty port`)
  } else {
    const colon = authority.lastIndexOf(":")
    if (colon >= 0) {
      hostPart = authority.slice(0, colon)
      port = authority.slice(colon + 1)
      if (port === "") return reject("UrlPortInvalid", `${raw}: empty port`)
    }
  }
  if (port !== "") {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return reject("UrlPortInvalid", `${raw}: port ${port} is not 1-65535`)
    }
    port = String(Number(port))
    if (port === DEFAULT_PORT[scheme]) port = ""
  }
  if (hostPart === "") return reject("UrlHostInvalid", `${raw} has no host`)
  let host: string
  if (hostPart.startsWith("[")) {
    const ip = normalizeIpAddress(hostPart)
    if (Either.isLeft(ip)) return reject(ip.left.code === "IpMalformed" ? "UrlHostInvalid" : ip.left.code, `URL host: ${ip.left.reason}`)
    if (!ip.right.includes(":")) return reject("UrlHostInvalid", `${raw}: brackets hold an IPv6 address only`)
    host = `[${ip.right}]`
  } else if (/^[0-9.]+$/.test(hostPart)) {
    const ip = normalizeIpAddress(hostPart)
    if (Either.isLeft(ip)) return reject(ip.left.code === "IpMalformed" ? "UrlHostInvalid" : ip.left.code, `URL host: ${ip.left.reason}`)
    host = ip.right
  } else {
    const d = normalizeDomainName(hostPart)
    if (Either.isLeft(d)) return reject(d.left.code === "DomainLocal" ? "DomainLocal" : "UrlHostInvalid", `URL host: ${d.left.reason}`)
    host = d.right
  }
  const tailPath = path === "/" && query === "" ? "" : path === "" && query !== "" ? "/" : path
  const out = `${scheme}://${host}${port === "" ? "" : `:${port}`}${tailPath}${query}`
  if (out.length > MAX_URL_LENGTH) return reject("UrlTooLong", `URL is ${out.length} characters; tisync sends at most ${MAX_URL_LENGTH}`)
  return accept(out)
}

// ---------------------------------------------------------------------------------------------------
// File hashes
// ---------------------------------------------------------------------------------------------------

export const HASH_LENGTH: Record<"FileMd5" | "FileSha1" | "FileSha256", number> = {
  FileMd5: 32,
  FileSha1: 40,
  FileSha256: 64
}

/**
 * Digests of the empty file and all-zero placeholders: blocking them would block every empty file
 * (or match nothing); feeds carry them by mistake.
 */
const USELESS_HASHES: ReadonlySet<string> = new Set([
  "d41d8cd98f00b204e9800998ecf8427e",
  "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
])

const normalizeHash = (type: "FileMd5" | "FileSha1" | "FileSha256", raw: string): Result => {
  const s = raw.toLowerCase()
  const expected = HASH_LENGTH[type]
  if (!/^[0-9a-f]+$/.test(s)) return reject("HashMalformed", `${raw} is not hexadecimal`)
  if (s.length !== expected) return reject("HashLength", `${type} needs ${expected} hex digits, got ${s.length}`)
  if (USELESS_HASHES.has(s) || /^0+$/.test(s)) return reject("HashEmptyFile", `${s} is the digest of the empty file or all zeros`)
  return accept(s)
}

// ---------------------------------------------------------------------------------------------------

/**
 * The canonical Defender value of `raw` for `type`, or why it cannot be sent. Leading and trailing
 * whitespace is trimmed; anything else unusual is a rejection, not a guess.
 */
export const normalizeIndicatorValue = (
  type: DefenderIndicatorType,
  raw: string
): Either.Either<string, ValueRejection> => Either.mapLeft(normalizeByType(type, raw), boundedRejection)

/**
 * Reasons quote the value, which may be up to MAX_RAW_LENGTH characters (twice, for a label of a long
 * name): a reason is kept short by its head and its tail (where the explanation is), so no 8 KB value is
 * echoed into events, logs and error output.
 */
const MAX_REASON_LENGTH = 400
const boundedRejection = (r: ValueRejection): ValueRejection =>
  r.reason.length <= MAX_REASON_LENGTH ? r : { code: r.code, reason: `${r.reason.slice(0, 160)}…${r.reason.slice(-160)}` }

const normalizeByType = (type: DefenderIndicatorType, raw: string): Result => {
  if (raw.length > MAX_RAW_LENGTH) return reject("ValueTooLong", `value is ${raw.length} characters long`)
  const s = raw.trim()
  if (s.length === 0) return reject("EmptyValue", "empty indicator value")
  switch (type) {
    case "IpAddress":
      return normalizeIpAddress(s)
    case "DomainName":
      return normalizeDomainName(s)
    case "Url":
      return normalizeUrl(s)
    case "FileMd5":
    case "FileSha1":
    case "FileSha256":
      return normalizeHash(type, s)
  }
}
