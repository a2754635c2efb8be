import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { sha256Hex } from "@tisync/domain"

const reference = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

describe("sha256Hex", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    )
  })

  it("agrees with node:crypto at every padding boundary (0-200 bytes)", () => {
    for (let n = 0; n <= 200; n++) {
      const text = "x".repeat(n)
      expect(sha256Hex(text)).toBe(reference(text))
    }
  })

  it("agrees with node:crypto on random ASCII strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (text) => sha256Hex(text) === reference(text)),
      { numRuns: 500 }
    )
  })

  it("agrees with node:crypto on random Unicode strings (2-, 3- and 4-byte UTF-8)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (text) => sha256Hex(text) === reference(text)),
      { numRuns: 500 }
    )
  })

  it("agrees with node:crypto on any UTF-16 (lone surrogates become U+FFFD, as in UTF-8 encoders)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => sha256Hex(text) === reference(text)),
      { numRuns: 500 }
    )
  })

  it("is unaffected by a longer input hashed before it (the buffer is reused)", () => {
    const long = "é".repeat(5_000) + "https://example.org/" + "a".repeat(10_000)
    expect(sha256Hex(long)).toBe(reference(long))
    for (const text of ["", "a", "1.2.3.4", "ü".repeat(40)]) expect(sha256Hex(text)).toBe(reference(text))
  })

  it("hashes a megabyte", () => {
    const big = "0123456789abcdef".repeat(65_536)
    expect(sha256Hex(big)).toBe(reference(big))
  })
})
