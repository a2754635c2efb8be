/**
 * RFC 3492 Punycode (encoder and decoder) in plain TypeScript: the domain imports only `effect`, so
 * node:punycode / node:url are out of reach. Used to turn internationalised domain labels into the
 * ASCII-compatible `xn--` form Defender stores (DESIGN §3 "IDN to punycode").
 */
const BASE = 36
const T_MIN = 1
const T_MAX = 26
const SKEW = 38
const DAMP = 700
const INITIAL_BIAS = 72
const INITIAL_N = 128
const MAX_INT = 0x7fffffff

const adapt = (delta: number, numPoints: number, firstTime: boolean): number => {
  let d = firstTime ? Math.floor(delta / DAMP) : delta >> 1
  d += Math.floor(d / numPoints)
  let k = 0
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN))
    k += BASE
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW))
}

const digitToChar = (d: number): string => String.fromCharCode(d < 26 ? d + 97 : d + 22)

const charToDigit = (c: number): number => {
  if (c >= 48 && c <= 57) return c - 22 // '0'..'9' -> 26..35
  if (c >= 65 && c <= 90) return c - 65 // 'A'..'Z'
  if (c >= 97 && c <= 122) return c - 97 // 'a'..'z'
  return BASE
}

/** Encodes one label's code points as Punycode (without the `xn--` prefix). `null` on overflow. */
export const punycodeEncode = (input: string): string | null => {
  const codePoints = Array.from(input, (ch) => ch.codePointAt(0) ?? 0)
  let output = codePoints.filter((cp) => cp < 0x80).map((cp) => String.fromCharCode(cp)).join("")
  const basicLength = output.length
  let handled = basicLength
  if (basicLength > 0) output += "-"
  let n = INITIAL_N
  let delta = 0
  let bias = INITIAL_BIAS
  while (handled < codePoints.length) {
    let m = MAX_INT
    for (const cp of codePoints) if (cp >= n && cp < m) m = cp
    if (m - n > Math.floor((MAX_INT - delta) / (handled + 1))) return null
    delta += (m - n) * (handled + 1)
    n = m
    for (const cp of codePoints) {
      if (cp < n) {
        delta++
        if (delta > MAX_INT) return null
      }
      if (cp === n) {
        let q = delta
        for (let k = BASE; ; k += BASE) {
          const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias
          if (q < t) break
          output += digitToChar(t + ((q - t) % (BASE - t)))
          q = Math.floor((q - t) / (BASE - t))
        }
        output += digitToChar(q)
        bias = adapt(delta, handled + 1, handled === basicLength)
        delta = 0
        handled++
      }
    }
    delta++
    n++
  }
  return output
}

/** Decodes a Punycode label (without `xn--`). `null` when it is not valid Punycode. */
export const punycodeDecode = (input: string): string | null => {
  const output: Array<number> = []
  const lastDelimiter = input.lastIndexOf("-")
  const basicEnd = lastDelimiter < 0 ? 0 : lastDelimiter
  for (let j = 0; j < basicEnd; j++) {
    const c = input.charCodeAt(j)
    if (c >= 0x80) return null
    output.push(c)
  }
  let n = INITIAL_N
  let i = 0
  let bias = INITIAL_BIAS
  for (let index = basicEnd > 0 ? basicEnd + 1 : 0; index < input.length; ) {
    const oldi = i
    let w = 1
    for (let k = BASE; ; k += BASE) {
      if (index >= input.length) return null
      const digit = charToDigit(input.charCodeAt(index++))
      if (digit >= BASE || digit > Math.floor((MAX_INT - i) / w)) return null
      i += digit * w
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias
      if (digit < t) break
      if (w > Math.floor(MAX_INT / (BASE - t))) return null
      w *= BASE - t
    }
    const length = output.length + 1
    bias = adapt(i - oldi, length, oldi === 0)
    if (Math.floor(i / length) > MAX_INT - n) return null
    n += Math.floor(i / length)
    i %= length
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null
    output.splice(i++, 0, n)
  }
  return String.fromCodePoint(...output)
}
