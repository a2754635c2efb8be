import { describe, expect, it } from "@effect/vitest"
import {
  attributeValues,
  canonicalJson,
  contentHashOf,
  type DefenderPayload,
  LAST_SEEN_ATTRIBUTE,
  PHASE_OF_INTRUSION_ATTRIBUTE,
  payloadHashText,
  sha256Hex,
  sortedTags,
  tlpLabels
} from "@tisync/domain"
import { record } from "./PlannerFixtures.js"

describe("content hashes keep their text (stored hashes stay valid)", () => {
  it("the payload hash text is canonicalJson of the payload without expirationTime", () => {
    const full: DefenderPayload = {
      externalId: "threatconnect:1",
      indicatorValue: "a.example",
      indicatorType: "DomainName",
      action: "Audit",
      title: "ThreatConnect Host: a.example",
      description: "x",
      severity: "Low",
      expirationTime: "2026-01-01T00:00:00Z",
      generateAlert: true,
      recommendedActions: undefined,
      rbacGroupNames: ["b", "a"],
      educateUrl: "https://e.example/",
      application: "tisync"
    }
    const payloads: ReadonlyArray<DefenderPayload> = [
      { indicatorValue: "1.2.3.4", indicatorType: "IpAddress", action: "Block", title: "t", description: "d \"q\" é", severity: "High" },
      full
    ]
    for (const p of payloads) expect(payloadHashText(p)).toBe(canonicalJson({ ...p, expirationTime: undefined }))
    const withOtherField = { ...full, indicatorValue: "b.example", zeta: { b: 1, a: [2] } }
    expect(payloadHashText(withOtherField)).toBe(canonicalJson({ ...withOtherField, expirationTime: undefined }))
  })

  it("the content hash is the sha256 of canonicalJson of the positional array", () => {
    const r = record({ tags: ["b", "a"], securityLabels: ["TLP:AMBER"], rating: 3.5, confidence: null, falsePositives: 2 })
    const expected = sha256Hex(
      canonicalJson([
        1, r.id, r.ownerId, r.ownerName, r.type, "IpAddress", " 1.2.3.4", r.rating, r.confidence, r.threatAssessScore,
        r.falsePositives, sortedTags(r), tlpLabels(r), attributeValues(r, PHASE_OF_INTRUSION_ATTRIBUTE),
        attributeValues(r, LAST_SEEN_ATTRIBUTE)
      ])
    )
    expect(contentHashOf(r, "IpAddress", " 1.2.3.4")).toBe(expected)
  })
})
