import { describe, expect, it } from "@effect/vitest"
import { decodeListedIndicator } from "@tisync/adapters"
import { decodeDefenderIndicator } from "@tisync/domain"

const usual = {
  id: "994",
  indicatorValue: "1.2.3.4",
  indicatorType: "IpAddress",
  action: "Block",
  severity: "High",
  title: "t",
  description: null,
  createdBy: "app",
  expirationTime: "2026-01-01T00:00:00Z",
  externalId: "threatconnect:1",
  generateAlert: false,
  rbacGroupNames: ["a", "b"],
  category: 1,
  somethingElse: { nested: true }
}

describe("decodeListedIndicator", () => {
  const shapes: ReadonlyArray<unknown> = [
    usual,
    { id: 7, indicatorValue: "x.example", indicatorType: "DomainName" },
    { ...usual, generateAlert: "True", rbacGroupNames: "a, b,,c" },
    { ...usual, rbacGroupNames: null, generateAlert: null, category: "Other" },
    { ...usual, externalID: "threatconnect:2", externalId: undefined },
    { ...usual, title: 5 },
    { ...usual, id: null },
    { indicatorValue: "1.2.3.4" },
    "not an object",
    null,
    [usual]
  ]
  it("yields what the DefenderIndicator schema yields, for the usual shape and every other", () => {
    for (const raw of shapes) expect(decodeListedIndicator(raw)).toEqual(decodeDefenderIndicator(raw))
  })
})
