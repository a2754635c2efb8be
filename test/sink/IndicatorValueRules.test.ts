import { describe, expect, it } from "@effect/vitest"
import { buildDefenderPayload, type DefenderIndicatorType, normalizeIndicatorValue, punycodeDecode } from "@tisync/domain"
import { Either } from "effect"

const ok: ReadonlyArray<[DefenderIndicatorType, string, string]> = [
  ["IpAddress", " 8.8.8.8 ", "8.8.8.8"],
  ["IpAddress", "2001:4860:4860::8888", "2001:4860:4860:0:0:0:0:8888"],
  ["IpAddress", "2A00:1450:4001:0812:0000:0000:0000:200E", "2a00:1450:4001:812:0:0:0:200e"],
  ["IpAddress", "::ffff:8.8.4.4", "0:0:0:0:0:ffff:808:404"],
  ["DomainName", "Bücher.Example.COM.", "xn--bcher-kva.example.com"],
  ["DomainName", "例え.テスト", "xn--r8jz45g.xn--zckzah"],
  ["Url", "HTTPS://Evil.EXAMPLE.com:443/Path?q=1#frag", "https://evil.example.com/Path?q=1"],
  ["Url", "http://[2001:4860::1]:8080/x", "http://[2001:4860:0:0:0:0:0:1]:8080/x"],
  ["FileSha1", "3395856CE81F2B7382DEE72602F798B642F14140", "3395856ce81f2b7382dee72602f798b642f14140"]
]

const refused: ReadonlyArray<[DefenderIndicatorType, string, string]> = [
  ["IpAddress", "010.8.8.8", "IpMalformed"],
  ["IpAddress", "8.8.8.0/24", "IpCidrNotSupported"],
  ["IpAddress", "8.8.8.1-8.8.8.9", "IpRangeNotSupported"],
  ["IpAddress", "192.168.1.1", "IpPrivate"],
  ["IpAddress", "::1", "IpLoopback"],
  ["IpAddress", "0.0.0.0", "IpUnspecified"],
  ["IpAddress", "203.0.113.9", "IpDocumentation"],
  ["IpAddress", "::ffff:10.0.0.1", "IpPrivate"],
  ["DomainName", "localhost", "DomainSingleLabel"],
  ["DomainName", "-bad.example.com", "DomainMalformed"],
  ["DomainName", `${"a".repeat(64)}.com`, "DomainLabelTooLong"],
  ["DomainName", "printer.local", "DomainLocal"],
  ["Url", "evil.example.com/x", "UrlSchemeNotAllowed"],
  ["Url", "ftp://evil.example.com/x", "UrlSchemeNotAllowed"],
  ["Url", "https://user:hunter2@evil.example.com/", "UrlCredentials"],
  ["Url", "https://evil.example.com:99999/", "UrlPortInvalid"],
  ["FileMd5", "abc", "HashLength"],
  ["FileSha256", "z".repeat(64), "HashMalformed"],
  ["FileMd5", "d41d8cd98f00b204e9800998ecf8427e", "HashEmptyFile"]
]

describe("normalizeIndicatorValue (DESIGN §3 value rules)", () => {
  for (const [type, raw, expected] of ok) {
    it(`${type} ${raw} -> ${expected}`, () => expect(normalizeIndicatorValue(type, raw)).toStrictEqual(Either.right(expected)))
  }
  for (const [type, raw, code] of refused) {
    it(`${type} ${raw} is refused: ${code}`, () => {
      const r = normalizeIndicatorValue(type, raw)
      expect(Either.isLeft(r) && r.left.code).toBe(code)
      expect(Either.isLeft(r) && r.left.reason).not.toContain("hunter2")
    })
  }
  it("punycode round-trips (RFC 3492 sample: bücher)", () => expect(punycodeDecode("bcher-kva")).toBe("bücher"))
})

describe("buildDefenderPayload", () => {
  const base = { indicatorType: "IpAddress" as const, indicatorValue: "8.8.8.8", title: "t", description: "d", severity: "High" as const }
  it("policy Alert is sent as Audit with generateAlert: true", () => {
    const r = buildDefenderPayload({ ...base, action: "Alert", generateAlert: false })
    expect(Either.isRight(r) && [r.right.action, r.right.generateAlert]).toEqual(["Audit", true])
  })
  it("BlockAndRemediate is for files only", () => {
    const r = buildDefenderPayload({ ...base, action: "BlockAndRemediate" })
    expect(Either.isLeft(r) && r.left.code).toBe("ActionNotSupportedForType")
  })
  it("long titles are cut, empty optional fields are left out, educateUrl only on Url Block/Warn", () => {
    const r = buildDefenderPayload({ ...base, action: "Block", title: "x".repeat(400), recommendedActions: "  ", educateUrl: "https://help.example.com" })
    expect(Either.isRight(r) && Array.from(r.right.title).length).toBe(250)
    expect(Either.isRight(r) && Object.keys(r.right)).toEqual(["indicatorValue", "indicatorType", "action", "title", "description", "severity"])
  })
})
