import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { decodeStoredEvent, DomainEvent, encodeEvent, IndicatorMapped } from "@tisync/domain"

// The hand-written encoders must write exactly what Schema's encoding of the event classes writes.
const schemaJson = (event: DomainEvent): unknown => JSON.parse(JSON.stringify(Schema.encodeSync(DomainEvent)(event)))
const events = Arbitrary.make(DomainEvent)

describe("event encoders", () => {
  it("write the same JSON as Schema.encode for every event type", () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(events, (event) => {
        seen.add(event._tag)
        expect(JSON.parse(encodeEvent(event).data)).toStrictEqual(schemaJson(event))
      }),
      { numRuns: 2_000 }
    )
    expect(seen.size).toBe(11)
  })

  it("round-trip through the stored-event decoder", () => {
    fc.assert(
      fc.property(events, (event) => {
        // Arbitrary schema versions are from the future; the stored row says version 1.
        const body = { ...JSON.parse(encodeEvent(event).data), schemaVersion: 1 }
        const decoded = decodeStoredEvent(event._tag, 1, body)
        expect(Either.isRight(decoded)).toBe(true)
        if (Either.isRight(decoded)) expect(schemaJson(decoded.right)).toStrictEqual({ ...body })
      }),
      { numRuns: 500 }
    )
  })

  it("drop properties the schema does not declare, as Schema's encoding does", () => {
    const event = fc.sample(Arbitrary.make(IndicatorMapped), { numRuns: 1, seed: 7 })[0]!
    const withExtra = new IndicatorMapped({ ...event, payload: { ...event.payload, ...{ secretToken: "x" } } }, true)
    const json: unknown = JSON.parse(encodeEvent(withExtra).data)
    expect(json).toStrictEqual(schemaJson(withExtra))
    expect(JSON.stringify(json)).not.toContain("secretToken")
  })
})
