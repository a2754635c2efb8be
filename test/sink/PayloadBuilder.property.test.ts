import { describe, expect, it, layer } from "@effect/vitest"
import { isRejection, validateIndicatorBody } from "@tisync/adapters"
import {
  buildDefenderPayload,
  type DefenderIndicatorType,
  type DesiredIndicator,
  IndicatorSink,
  normalizeIndicatorValue,
  PAYLOAD_LIMITS,
  PAYLOAD_REJECTION_CODES,
  VALUE_REJECTION_CODES
} from "@tisync/domain"
import { Effect, Either, FastCheck as fc } from "effect"
import { simulatorSinkLayer } from "./SinkTestControls.js"

const TYPES: ReadonlyArray<DefenderIndicatorType> = ["IpAddress", "DomainName", "Url", "FileMd5", "FileSha1", "FileSha256"]
const CODES: ReadonlyArray<string> = [...VALUE_REJECTION_CODES, ...PAYLOAD_REJECTION_CODES]

const octet = fc.integer({ min: 0, max: 255 })
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."))
const hexGroup = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16))
const ipv6Full = fc.tuple(fc.constantFrom(0x2a00, 0x2001, 0x2600, 0x2c0f, 0x3000, 0xfe80, 0xfc00, 0xff02, 0), ...Array.from({ length: 7 }, () => hexGroup))
  .map(([first, ...rest]) => [first.toString(16), ...rest].join(":"))
/** Compressed and upper-case forms of the same addresses. */
const ipv6Any = fc.oneof(ipv6Full, ipv6Full.map((a) => a.replace(/(^|:)0(:0)+(:|$)/, "::").toUpperCase()))
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?$/)
const unicodeLabel = fc.array(fc.constantFrom(..."abcdéüßøñçжщдя例え中文ü"), { minLength: 1, maxLength: 10 }).map((cs) => cs.join(""))
const tld = fc.constantFrom("com", "net", "org", "io", "de", "xn--p1ai", "onion", "local", "123")
const domain = fc.tuple(fc.array(fc.oneof(label, unicodeLabel), { minLength: 1, maxLength: 4 }), tld)
  .map(([ls, t]) => [...ls, t].join("."))
  .chain((d) => fc.constantFrom(d, d.toUpperCase(), `${d}.`))
const url = fc.tuple(
  fc.constantFrom("http", "https", "HTTPS", "ftp", ""),
  fc.oneof(domain, ipv4, ipv6Full.map((a) => `[${a}]`)),
  fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined }),
  fc.stringMatching(/^(\/[A-Za-z0-9._~%-]{0,12}){0,3}(\?[a-z]=[0-9]{1,3})?$/),
  fc.boolean()
).map(([scheme, host, port, path, creds]) =>
  `${scheme === "" ? "" : `${scheme}://`}${creds ? "user:pass@" : ""}${host}${port === undefined ? "" : `:${port}`}${path}`)
const hex = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${min},${max}}$`))

const valueFor = (type: DefenderIndicatorType): fc.Arbitrary<string> => {
  switch (type) {
    case "IpAddress":
      return fc.oneof(ipv4, ipv6Any, ipv4.map((a) => `${a}/24`), fc.string())
    case "DomainName":
      return fc.oneof(domain, fc.string())
    case "Url":
      return fc.oneof(url, fc.string())
    case "FileMd5":
      return fc.oneof(hex(30, 34), fc.string())
    case "FileSha1":
      return fc.oneof(hex(38, 42), fc.string())
    case "FileSha256":
      return fc.oneof(hex(62, 66), fc.string())
  }
}

// Built once: a stringMatching arbitrary is costly to construct, cheap to draw from.
const typedValue = fc.oneof(...TYPES.map((type) => valueFor(type).map((value) => ({ type, value }))))

const desired: fc.Arbitrary<DesiredIndicator> = fc.record({
  tv: typedValue,
  action: fc.constantFrom<DesiredIndicator["action"]>("Alert", "Block", "Audit", "Warn", "BlockAndRemediate", "Allowed"),
  title: fc.string({ maxLength: 400 }),
  description: fc.string({ maxLength: 1500 }),
  severity: fc.constantFrom<DesiredIndicator["severity"]>("Informational", "Low", "Medium", "High"),
  generateAlert: fc.option(fc.boolean(), { nil: null }),
  expirationTime: fc.option(fc.constantFrom("2030-01-01T00:00:00Z", "2030-13-01T00:00:00Z", "tomorrow"), { nil: null }),
  rbacGroupNames: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
  externalId: fc.option(fc.string({ maxLength: 250 }), { nil: null }),
  educateUrl: fc.option(fc.constantFrom("https://intranet.example.com/blocked", "javascript:alert(1)"), { nil: null })
}).map(({ tv, ...rest }) => ({ ...rest, indicatorType: tv.type, indicatorValue: tv.value }))

describe("value rules and payload builder (properties)", () => {
  it("every value tisync accepts is accepted by Defender's documented rules, and normalizing twice changes nothing", () => {
    fc.assert(fc.property(typedValue, ({ type, value }) => {
      const r = normalizeIndicatorValue(type, value)
      if (Either.isLeft(r)) {
        expect(CODES).toContain(r.left.code)
        expect(r.left.reason.length).toBeGreaterThan(0)
        return
      }
      const body = validateIndicatorBody({ indicatorValue: r.right, indicatorType: type, action: "Block", title: "t", description: "d" })
      expect(isRejection(body) ? body : null).toBeNull()
      const again = normalizeIndicatorValue(type, r.right)
      expect(Either.isRight(again) && again.right === r.right).toBe(true)
    }), { numRuns: 3000 })
  })

  it("every built payload is a body Defender accepts; every refusal has a code and a reason", () => {
    fc.assert(fc.property(desired, (input) => {
      const r = buildDefenderPayload(input)
      if (Either.isLeft(r)) {
        expect(CODES).toContain(r.left.code)
        expect(r.left.reason.length).toBeGreaterThan(0)
        return
      }
      const p = r.right
      const body = validateIndicatorBody(p)
      expect(isRejection(body) ? body : null).toBeNull()
      expect(["Alert", "AlertAndBlock"]).not.toContain(p.action)
      if (p.action === "Audit") expect(p.generateAlert).toBe(true)
      if (p.action === "BlockAndRemediate") expect(p.indicatorType.startsWith("File")).toBe(true)
      expect(Array.from(p.title).length).toBeLessThanOrEqual(PAYLOAD_LIMITS.title)
      expect(Array.from(p.description).length).toBeLessThanOrEqual(PAYLOAD_LIMITS.description)
    }), { numRuns: 3000 })
  })

  it("internal, CIDR and ranged addresses are always refused locally with the reason", () => {
    const internal = fc.oneof(
      fc.tuple(octet, octet, octet).map(([b, c, d]) => ({ v: `10.${b}.${c}.${d}`, code: "IpPrivate" })),
      fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([b, c, d]) => ({ v: `172.${b}.${c}.${d}`, code: "IpPrivate" })),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => ({ v: `127.${b}.${c}.${d}`, code: "IpLoopback" })),
      fc.tuple(octet, octet).map(([c, d]) => ({ v: `169.254.${c}.${d}`, code: "IpLinkLocal" })),
      fc.tuple(fc.integer({ min: 224, max: 239 }), octet, octet, octet).map((o) => ({ v: o.join("."), code: "IpMulticast" })),
      fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, n]) => ({ v: `${a}/${n}`, code: "IpCidrNotSupported" })),
      fc.tuple(ipv4, ipv4).map(([a, b]) => ({ v: `${a}-${b}`, code: "IpRangeNotSupported" })),
      fc.tuple(hexGroup, hexGroup).map(([a, b]) => ({ v: `fd00:${a}::${b}`, code: "IpPrivate" })),
      fc.tuple(hexGroup, hexGroup).map(([a, b]) => ({ v: `2001:db8:${a}::${b}`, code: "IpDocumentation" }))
    )
    fc.assert(fc.property(internal, ({ v, code }) => {
      const r = normalizeIndicatorValue("IpAddress", v)
      expect(Either.isLeft(r) && r.left.code).toBe(code)
    }), { numRuns: 1000 })
  })

  it("hashes: exactly the right number of hex digits, lower-cased", () => {
    fc.assert(fc.property(fc.constantFrom<["FileMd5" | "FileSha1" | "FileSha256", number]>(["FileMd5", 32], ["FileSha1", 40], ["FileSha256", 64]), hex(1, 70), ([type, len], h) => {
      const r = normalizeIndicatorValue(type, h)
      if (h.length !== len) expect(Either.isLeft(r) && r.left.code).toBe("HashLength")
      else if (Either.isRight(r)) expect(r.right).toBe(h.toLowerCase())
    }))
  })
})

layer(simulatorSinkLayer(), { timeout: 60_000, excludeTestServices: true })("built payloads over the wire", (it) => {
  it.effect("a sample of built payloads is imported by the simulator without a single per-item failure", () =>
    Effect.gen(function* () {
      const sink = yield* IndicatorSink
      const built = fc.sample(desired, 3000).flatMap((d) => {
        const r = buildDefenderPayload(d)
        return Either.isRight(r) ? [r.right] : []
      })
      expect(built.length).toBeGreaterThan(100)
      for (let k = 0; k < built.length; k += 500) {
        const outcomes = yield* sink.importBatch(built.slice(k, k + 500))
        expect(outcomes.filter((o) => o._tag === "Failed")).toEqual([])
      }
    }))
})
