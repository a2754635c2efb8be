import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either, FastCheck as fc, Schema } from "effect"
import { ThreatConnectJson, ThreatConnectJsonSplitter, ThreatConnectWire } from "@tisync/adapters"

describe("lossless JSON parsing", () => {
  it("keeps 9007199254918487 and 9007199254918489 distinct (plain JSON.parse merges them)", () => {
    const text = `{"data":[{"id":9007199254918487},{"id":9007199254918489}]}`
    expect(JSON.parse(text).data[0].id).toBe(JSON.parse(text).data[1].id)
    expect(ThreatConnectJson.parseLosslessJson(text)).toEqual({ data: [{ id: "9007199254918487" }, { id: "9007199254918489" }] })
  })

  it("leaves strings, fractions, exponents and short numbers alone", () => {
    const text = `{"s":"12345678901234567890","f":1.12345678901234567,"e":1e17,"n":-42,"big":-12345678901234567,"r":3.00,"arr":[12345678901234567,"x\\"1234567890123456789"]}`
    expect(ThreatConnectJson.parseLosslessJson(text)).toEqual({
      s: "12345678901234567890", f: 1.12345678901234567, e: 1e17, n: -42, big: "-12345678901234567", r: 3, arr: ["12345678901234567", `x"1234567890123456789`]
    })
  })

  it.prop("agrees with JSON.parse on any JSON without big integers", [fc.jsonValue()], ([value]) => {
    const text = JSON.stringify(value)
    if (/\d{16,}/.test(text)) return
    expect(ThreatConnectJson.parseLosslessJson(text)).toEqual(JSON.parse(text))
  })
})

describe("indicator decoding", () => {
  const base = { id: "9007199254918487", ownerId: 1, ownerName: "ACME", type: "Host", summary: "x.example", dateAdded: "2021-10-26T12:40:00Z", lastModified: "2021-11-02T14:58:55Z" }

  it("a minimal record decodes with nulls and empty lists", () => {
    const r = ThreatConnectWire.decodeIndicator(base)
    expect(Either.isRight(r) && r.right).toMatchObject({ id: "9007199254918487", ownerId: "1", rating: null, confidence: null, tags: [], active: true, fileHashes: null })
    expect(Either.isRight(r) && DateTime.formatIso(r.right.lastModified)).toBe("2021-11-02T14:58:55.000Z")
  })

  it("an id that lost precision (a number above 2^53) is refused rather than rounded", () => {
    const r = ThreatConnectWire.decodeIndicator({ ...base, id: 9007199254918488 })
    expect(Either.isLeft(r) && r.left.rawId).toBe("9007199254918488")
  })

  it("a record without a date or with a bad one is a rejection naming the field", () => {
    const r = ThreatConnectWire.decodeIndicator({ ...base, lastModified: "yesterday" })
    expect(Either.isLeft(r) && r.left).toMatchObject({ rawId: "9007199254918487", reason: expect.stringContaining("lastModified") })
    const noId = ThreatConnectWire.decodeIndicator({ summary: "x" })
    expect(Either.isLeft(noId) && noId.left.rawId).toBeNull()
  })

  it("a File with neither hashes nor a hash summary is a rejection", () => {
    const r = ThreatConnectWire.decodeIndicator({ ...base, type: "File", summary: "not-a-hash" })
    expect(Either.isLeft(r) && r.left.reason).toContain("File")
  })

  const maybe = <A>(arb: fc.Arbitrary<A>) => fc.oneof(fc.constant(undefined), fc.constant(null), arb)
  const instant = fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom("2021-10-26T12:40:00Z", "2021-10-26T12:40:00+02:00", "2021-10-26 12:40:00", "bad", "2021-02-30T00:00:00Z"),
    fc.integer()
  )
  const list = <A>(item: fc.Arbitrary<A>) => maybe(fc.oneof(fc.record({ data: fc.array(item, { maxLength: 3 }) }), fc.constant({}), fc.constant({ data: "x" })))
  const arbRaw = fc.record(
    {
      id: fc.oneof(fc.constant("9007199254918487"), fc.integer(), fc.double(), fc.constantFrom("x", "12a", "-5"), fc.constant(null)),
      ownerId: fc.oneof(fc.integer({ min: 0 }), fc.constant("9007199254740993"), fc.constant(1.5)),
      ownerName: fc.oneof(fc.string(), fc.integer()),
      type: fc.oneof(fc.constantFrom("Host", "File", "Address", "URL", "CIDR"), fc.integer()),
      summary: maybe(fc.oneof(fc.string(), fc.constant("F5A2496CF66CB8CFFE66CB1B27D7DEDE"), fc.integer())),
      dateAdded: instant,
      lastModified: instant,
      active: fc.oneof(fc.constant(undefined), fc.boolean(), fc.constant("yes")),
      rating: maybe(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double(), fc.constantFrom("3.00", "x"))),
      confidence: maybe(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.string())),
      threatAssessScore: maybe(fc.integer()),
      falsePositives: maybe(fc.oneof(fc.nat(), fc.boolean())),
      md5: maybe(fc.oneof(fc.hexaString({ minLength: 32, maxLength: 32 }), fc.integer())),
      tags: list(fc.oneof(fc.record({ name: fc.string() }), fc.record({ name: fc.integer() }), fc.constant("t"))),
      attributes: list(fc.record({ type: fc.oneof(fc.string(), fc.constant(1)), value: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)) })),
      securityLabels: list(fc.record({ name: fc.string() }))
    },
    { requiredKeys: [] }
  )

  it.prop("any record decodes or is a rejection with a reason and its raw id, never a throw", [arbRaw], ([raw]) => {
    const r = ThreatConnectWire.decodeIndicator(raw)
    const slow = Schema.decodeUnknownEither(ThreatConnectWire.WireIndicator)(raw)
    // a record the adapter accepts is one the Schema accepts
    if (Either.isRight(r)) expect(Either.isRight(slow)).toBe(true)
    else {
      expect(r.left.reason.length).toBeGreaterThan(0)
      expect(r.left.rawId).toBe(typeof raw.id === "string" || typeof raw.id === "number" ? String(raw.id) : null)
    }
  }, { fastCheck: { numRuns: 1000 } })

  const arbCanonical = fc.record({
    id: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String), fc.nat()),
    ownerId: fc.nat(),
    ownerName: fc.string(),
    type: fc.constantFrom("Host", "Address", "URL", "File"),
    summary: fc.string({ minLength: 1 }),
    dateAdded: fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, "Z")),
    lastModified: fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true }).map((d) => d.toISOString()),
    active: fc.boolean(),
    rating: fc.integer({ min: 0, max: 5 }),
    confidence: fc.integer({ min: 0, max: 100 }),
    threatAssessScore: fc.integer({ min: 0, max: 1000 }),
    falsePositives: fc.nat(9),
    webLink: fc.string(),
    md5: fc.hexaString({ minLength: 32, maxLength: 32 }),
    tags: fc.record({ data: fc.array(fc.record({ id: fc.nat(), name: fc.string() }), { maxLength: 3 }) }),
    attributes: fc.record({ data: fc.array(fc.record({ type: fc.string(), value: fc.oneof(fc.string(), fc.integer(), fc.boolean()) }), { maxLength: 3 }) }),
    securityLabels: fc.record({ data: fc.array(fc.record({ name: fc.string(), color: fc.string() }), { maxLength: 2 }) })
  }, { requiredKeys: ["id", "ownerId", "ownerName", "type", "summary", "md5", "dateAdded", "lastModified"] })

  it.prop("canonical records decode to exactly their values (ids as decimal text, instants to the millisecond)", [arbCanonical], ([raw]) => {
    const r = ThreatConnectWire.decodeIndicator(raw)
    expect(Either.isRight(r)).toBe(true)
    if (Either.isLeft(r)) return
    const i = r.right
    expect(i.id).toBe(String(raw.id))
    expect(i.ownerId).toBe(String(raw.ownerId))
    expect([i.ownerName, i.type, i.active, i.rating, i.confidence, i.threatAssessScore, i.falsePositives, i.webLink]).toEqual([
      raw.ownerName, raw.type, raw.active ?? true, raw.rating ?? null, raw.confidence ?? null, raw.threatAssessScore ?? null, raw.falsePositives ?? null, raw.webLink ?? null
    ])
    expect(DateTime.toEpochMillis(i.dateAdded)).toBe(Date.parse(raw.dateAdded))
    expect(DateTime.toEpochMillis(i.lastModified)).toBe(Date.parse(raw.lastModified))
    expect(i.tags).toEqual((raw.tags?.data ?? []).map((t) => t.name))
    expect(i.securityLabels).toEqual((raw.securityLabels?.data ?? []).map((l) => l.name))
    expect(i.attributes).toEqual((raw.attributes?.data ?? []).map((a) => ({ type: a.type, value: String(a.value) })))
    expect(i.summary).toBe(raw.summary)
    expect(i.fileHashes).toEqual(raw.type === "File" ? { md5: raw.md5.toLowerCase(), sha1: null, sha256: null } : null)
  }, { fastCheck: { numRuns: 500 } })

  it("keys with spaces are tolerated (other types pass through for the mapper to reject)", () => {
    const r = ThreatConnectWire.decodeIndicator({ ...base, type: "Registry Key", summary: "HKLM\\x", "Key Name": "HKLM\\x" })
    expect(Either.isRight(r) && r.right.type).toBe("Registry Key")
  })
})

describe("page splitting", () => {
  const split = (text: string) => {
    const page = ThreatConnectJsonSplitter.splitJsonArray(Buffer.from(text, "utf8"), "data")
    return { envelope: JSON.parse(page.envelope), elements: Array.from({ length: page.length }, (_, i) => JSON.parse(page.element(i))) }
  }

  it("splits the data array, keeps the envelope, quotes big ids", () => {
    const text = `{"next":"http://x/?a=[1,2]","data":[ {"id":12345678901234567,"a":[1,{"b":"]\\",ü€"}],"n":-1.5e3} , 2, "s,]", [3,[4]], null, 9007199254918489 ],"status":"Success","count":3}`
    expect(split(text)).toEqual({
      envelope: { next: "http://x/?a=[1,2]", data: [], status: "Success", count: 3 },
      elements: [{ id: "12345678901234567", a: [1, { b: `]",ü€` }], n: -1500 }, 2, "s,]", [3, [4]], null, "9007199254918489"]
    })
  })

  it("keeps 9007199254918487 and 9007199254918489 distinct", () => {
    expect(split(`{"data":[{"id":9007199254918487},{"id":9007199254918489}]}`).elements).toEqual([{ id: "9007199254918487" }, { id: "9007199254918489" }])
  })

  it.prop(
    "agrees with the whole-document lossless parse for any data array (big integers included)",
    [fc.array(fc.jsonValue(), { maxLength: 8 }), fc.array(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), { maxLength: 3 })],
    ([data, bigs]) => {
      const text = `{"status":"Success","data":[${[...data.map((d) => JSON.stringify(d)), ...bigs.map(String)].join(",")}],"next":"n"}`
      const whole = ThreatConnectJson.parseLosslessJson(text)
      expect(split(text)).toEqual({ envelope: { status: "Success", data: [], next: "n" }, elements: typeof whole === "object" && whole !== null && "data" in whole ? whole.data : null })
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("a document cut anywhere is refused, and so is one without the array", () => {
    const text = `{"data":[{"id":1,"s":"a\\"b"},{"id":12345678901234567}],"status":"Success"}`
    expect(split(text).elements).toEqual([{ id: 1, s: `a"b` }, { id: "12345678901234567" }])
    const bytes = Buffer.from(text)
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => ThreatConnectJsonSplitter.splitJsonArray(bytes.subarray(0, cut), "data")).toThrow(ThreatConnectJsonSplitter.JsonSplitError)
    }
    expect(() => split(`{"items":[1],"status":"Success"}`)).toThrow(/no "data" array/)
  })
})
