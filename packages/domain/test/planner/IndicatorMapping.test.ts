import { describe, expect, it } from "@effect/vitest"
import { DEFAULT_TARGET_ID, indicatorDescription, mapSourceIndicator, payloadHashOf, severityFromRating, severityFor } from "@tisync/domain"
import { days, policy, record, T0 } from "./PlannerFixtures.js"

const mapped = (r = record(), p = policy()) => {
  const m = mapSourceIndicator(DEFAULT_TARGET_ID, r, p, T0)
  return m.keys.map((k) => (k.outcome._tag === "Mapped" ? k.outcome.payload : null))
}

describe("mapping a ThreatConnect record to Defender", () => {
  it("the description format is exact, segments only when present and in order", () => {
    const full = record({
      type: "Host",
      summary: "evil.example.com",
      ownerName: "ACME Corp",
      ownerId: "42",
      confidence: 85,
      tags: ["Phishing", "APT29", "Phishing"],
      securityLabels: ["TLP:AMBER"],
      attributes: [
        { type: "Last Seen", value: "2026-02-01" },
        { type: "Phase of Intrusion", value: "Delivery" },
        { type: "Description", value: "ignored" }
      ],
      falsePositives: 2
    })
    expect(indicatorDescription(full)).toBe(
      "ThreatConnect Host | Owner: ACME Corp | Id: 42 | Confidence: 85 | Tags: APT29, Phishing | TLP: AMBER | Phase of Intrusion: Delivery | False positives: 2 | Last Seen: 2026-02-01"
    )
    const bare = record({ ownerId: "7", confidence: null, falsePositives: 0 })
    expect(indicatorDescription(bare)).toBe("ThreatConnect Address | Owner: ACME Corp | Id: 7")
  })

  it("the severity table: none/0 Informational, 1-2 Low, 3 Medium, 4-5 High, fractions by their integer part", () => {
    const table: ReadonlyArray<readonly [number | null, string]> = [
      [null, "Informational"],
      [0, "Informational"],
      [0.5, "Low"],
      [1, "Low"],
      [2, "Low"],
      [2.5, "Low"],
      [3, "Medium"],
      [3.5, "Medium"],
      [4, "High"],
      [5, "High"]
    ]
    for (const [rating, severity] of table) expect(severityFromRating(rating)).toBe(severity)
    expect(severityFor(policy({ severity: "High" }), 1)).toBe("High")
    expect(mapped(record({ rating: 1 }), policy({ severity: "Medium" }))[0]?.severity).toBe("Medium")
  })

  it("Alert is sent as Audit with generateAlert true", () => {
    const [payload] = mapped(record(), policy({ action: "Alert" }))
    expect(payload?.action).toBe("Audit")
    expect(payload?.generateAlert).toBe(true)
  })

  it("Block passes through; generateAlert only when the policy sets it", () => {
    expect(mapped(record(), policy({ action: "Block" }))[0]).toMatchObject({ action: "Block" })
    expect(mapped(record(), policy({ action: "Block" }))[0]?.generateAlert).toBeUndefined()
    expect(mapped(record(), policy({ action: "Block", generateAlert: false }))[0]?.generateAlert).toBe(false)
  })

  it("BlockAndRemediate is kept for files and sent as Block for network indicators", () => {
    const p = policy({ action: "BlockAndRemediate" })
    expect(mapped(record(), p)[0]?.action).toBe("Block")
    const file = record({ type: "File", summary: "", fileHashes: { md5: null, sha1: null, sha256: "a".repeat(64) } })
    expect(mapped(file, p)[0]?.action).toBe("BlockAndRemediate")
  })

  it("title, externalId, expiration (file vs network) and the optional policy fields", () => {
    const p = policy({
      action: "Block",
      expirationDays: { file: 10, network: 20 },
      recommendedActions: "Isolate the host",
      rbacGroupNames: ["SOC"],
      application: "ThreatConnect",
      educateUrl: "https://intranet.example.com/blocked"
    })
    const [ip] = mapped(record({ id: "123456789012345678" }), p)
    expect(ip).toEqual({
      indicatorValue: "8.8.8.8",
      indicatorType: "IpAddress",
      action: "Block",
      title: "ThreatConnect Address: 8.8.8.8",
      description: "ThreatConnect Address | Owner: ACME Corp | Id: 10 | Confidence: 80",
      severity: "Medium",
      expirationTime: "2026-03-21T12:00:00Z",
      recommendedActions: "Isolate the host",
      rbacGroupNames: ["SOC"],
      application: "ThreatConnect",
      externalId: "threatconnect:123456789012345678"
    })
    const [hash] = mapped(record({ type: "File", summary: "a".repeat(64), fileHashes: null }), p)
    expect(hash?.expirationTime).toBe("2026-03-11T12:00:00Z")
    const [url] = mapped(record({ type: "URL", summary: "http://evil.example.com/x" }), p)
    expect(url?.educateUrl).toBe("https://intranet.example.com/blocked")
  })

  it("a File splits into up to three keys, only the hash types the policy allows", () => {
    const file = record({
      type: "File",
      summary: "",
      fileHashes: { md5: "A".repeat(32), sha1: "b".repeat(40), sha256: "c".repeat(64) }
    })
    const all = mapSourceIndicator(DEFAULT_TARGET_ID, file, policy(), T0)
    expect(all.keys.map((k) => [k.key.indicatorType, k.key.value, k.typeSelected])).toEqual([
      ["FileMd5", "a".repeat(32), true],
      ["FileSha1", "b".repeat(40), true],
      ["FileSha256", "c".repeat(64), true]
    ])
    const onlySha256 = mapSourceIndicator(DEFAULT_TARGET_ID, file, policy({ indicatorTypes: ["SHA256"] }), T0)
    expect(onlySha256.keys.filter((k) => k.typeSelected).map((k) => k.key.indicatorType)).toEqual(["FileSha256"])
    // Without the separate fields the summary `md5 : sha1 : sha256` is split by length.
    const fromSummary = record({ type: "File", summary: `${"d".repeat(32)} : ${"e".repeat(64)}`, fileHashes: null })
    expect(mapSourceIndicator(DEFAULT_TARGET_ID, fromSummary, policy(), T0).keys.map((k) => k.key.indicatorType)).toEqual([
      "FileMd5",
      "FileSha256"
    ])
  })

  it("an invalid value is a local rejection with a reason code", () => {
    const m = mapSourceIndicator(DEFAULT_TARGET_ID, record({ summary: "10.1.2.3" }), policy(), T0)
    expect(m.keys[0]?.outcome).toMatchObject({ _tag: "Rejected", reasonCode: "IpPrivate" })
    const cidr = mapSourceIndicator(DEFAULT_TARGET_ID, record({ summary: "8.8.8.0/24" }), policy(), T0)
    expect(cidr.keys[0]?.outcome).toMatchObject({ _tag: "Rejected", reasonCode: "IpCidrNotSupported" })
  })

  it("IPv6 is written out in all 8 groups and keyed by that form", () => {
    const m = mapSourceIndicator(DEFAULT_TARGET_ID, record({ summary: "2001:4860:4860::8888" }), policy(), T0)
    expect(m.keys[0]?.key.value).toBe("2001:4860:4860:0:0:0:0:8888")
  })

  it("a type Defender has no counterpart of yields no key", () => {
    const m = mapSourceIndicator(DEFAULT_TARGET_ID, record({ type: "EmailAddress", summary: "a@b.c" }), policy(), T0)
    expect(m.keys).toEqual([])
    expect(m.unsupportedType).toBe("EmailAddress")
  })

  it("the payload hash leaves out expirationTime; the content hash ignores lastModified", () => {
    const early = mapSourceIndicator(DEFAULT_TARGET_ID, record(), policy(), T0).keys[0]
    const later = mapSourceIndicator(DEFAULT_TARGET_ID, record({ lastModified: days(0) }), policy(), days(3)).keys[0]
    expect(early?.contentHash).toBe(later?.contentHash)
    if (early?.outcome._tag !== "Mapped" || later?.outcome._tag !== "Mapped") throw new Error("mapped")
    expect(early.outcome.payload.expirationTime).not.toBe(later.outcome.payload.expirationTime)
    expect(early.outcome.payloadHash).toBe(later.outcome.payloadHash)
    expect(payloadHashOf(early.outcome.payload)).toBe(early.outcome.payloadHash)
    const retagged = mapSourceIndicator(DEFAULT_TARGET_ID, record({ tags: ["new"] }), policy(), T0).keys[0]
    expect(retagged?.contentHash).not.toBe(early.contentHash)
  })
})
