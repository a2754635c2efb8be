import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { DefenderIndicator, type DefenderPayload, defenderHoldsPayload } from "@tisync/domain"

const payload: DefenderPayload = {
  indicatorValue: "evil.example.com",
  indicatorType: "DomainName",
  action: "Audit",
  title: "ThreatConnect Host: evil.example.com",
  description: "ThreatConnect Host | Owner: ACME Corp | Id: 1",
  severity: "Medium",
  expirationTime: "2026-12-22T02:40:00.000Z",
  generateAlert: true,
  externalId: "threatconnect:9007199254900001"
}

/** Defender's rendering of that payload: its own timestamp format, casing and extra fields. */
const listed = (patch: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(DefenderIndicator)({
    id: 42,
    indicatorValue: "Evil.Example.com",
    indicatorType: "DomainName",
    action: "Audit",
    title: payload.title,
    description: payload.description,
    severity: "Medium",
    expirationTime: "2026-12-22T02:40:00Z",
    generateAlert: "True",
    rbacGroupNames: null,
    externalId: payload.externalId,
    createdBy: "app",
    category: 1,
    ...patch
  })

describe("defenderHoldsPayload", () => {
  it("the same payload rendered by Defender is held", () => {
    expect(defenderHoldsPayload(listed(), payload)).toBe(true)
  })

  it.each([
    ["another expiration (a renewal not applied)", { expirationTime: "2026-12-01T00:00:00Z" }],
    ["another severity (an update not applied)", { severity: "High" }],
    ["another description", { description: "edited by hand" }],
    ["another action", { action: "Block" }],
    ["no alert", { generateAlert: false }],
    ["another correlation id", { externalId: "threatconnect:1" }],
    ["extra device groups", { rbacGroupNames: ["Servers"] }],
    ["another value", { indicatorValue: "good.example.com" }]
  ])("%s is not held", (_name, patch) => {
    expect(defenderHoldsPayload(listed(patch), payload)).toBe(false)
  })

  it("a payload with a field the list does not show (educateUrl) is never taken as held", () => {
    expect(defenderHoldsPayload(listed(), { ...payload, educateUrl: "https://intranet.example/why" })).toBe(false)
  })
})
