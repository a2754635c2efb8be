/**
 * SHA-256 in plain TypeScript: the domain may import only `effect`, yet stream ids of long values and
 * payload content hashes must be stable digests (DESIGN §3 "Events"). FIPS 180-4.
 *
 * It runs on every planned indicator (content and payload hashes), so it is written for speed: the
 * string is UTF-8 encoded straight into one reusable buffer (ASCII, the common case, byte for byte,
 * without intermediate arrays), the message schedule lives in a preallocated Int32Array, and the
 * working variables are 32-bit integers kept in locals. The function is synchronous and not re-entrant
 * by construction (it never yields), so sharing the buffers is safe.
 */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2
])

/** Message schedule and chaining state, reused by every call. */
const W = new Int32Array(64)
const H = new Int32Array(8)

/** The padded message; grown (never shrunk) when a longer input comes. */
let buffer = new Uint8Array(1024)

/** Two lower-case hex digits per byte value. */
const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/**
 * Writes the UTF-8 bytes of `text` into `buffer` from 0 and returns their count. A lone surrogate is
 * written as U+FFFD, as TextEncoder and node:crypto do (the domain has no TextEncoder: its lib is plain
 * ES, no DOM or Node types).
 */
const encodeUtf8 = (text: string, out: Uint8Array): number => {
  const length = text.length
  let n = 0
  let i = 0
  // ASCII fast path: one byte per UTF-16 unit until the first non-ASCII unit.
  for (; i < length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) break
    out[n++] = c
  }
  for (; i < length; i++) {
    let c = text.charCodeAt(i)
    if (c < 0x80) {
      out[n++] = c
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6)
      out[n++] = 0x80 | (c & 0x3f)
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < length ? text.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
        out[n++] = 0xf0 | (c >> 18)
        out[n++] = 0x80 | ((c >> 12) & 0x3f)
        out[n++] = 0x80 | ((c >> 6) & 0x3f)
        out[n++] = 0x80 | (c & 0x3f)
      } else {
        out[n++] = 0xef // U+FFFD REPLACEMENT CHARACTER
        out[n++] = 0xbf
        out[n++] = 0xbd
      }
    } else {
      out[n++] = 0xe0 | (c >> 12)
      out[n++] = 0x80 | ((c >> 6) & 0x3f)
      out[n++] = 0x80 | (c & 0x3f)
    }
  }
  return n
}

/** Runs the compression function over `blocks` 64-byte blocks of `bytes`, updating H. */
const compress = (bytes: Uint8Array, blocks: number): void => {
  let h0 = H[0]!
  let h1 = H[1]!
  let h2 = H[2]!
  let h3 = H[3]!
  let h4 = H[4]!
  let h5 = H[5]!
  let h6 = H[6]!
  let h7 = H[7]!
  for (let block = 0, offset = 0; block < blocks; block++, offset += 64) {
    for (let i = 0, o = offset; i < 16; i++, o += 4) {
      W[i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!
    }
    for (let i = 16; i < 64; i++) {
      const x = W[i - 15]!
      const y = W[i - 2]!
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
      W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0
    }
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    let f = h5
    let g = h6
    let h = h7
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const ch = (e & f) ^ (~e & g)
      const t1 = (h + S1 + ch + K[i]! + W[i]!) | 0
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const maj = (a & b) ^ (a & c) ^ (b & c)
      const t2 = (S0 + maj) | 0
      h = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
    h5 = (h5 + f) | 0
    h6 = (h6 + g) | 0
    h7 = (h7 + h) | 0
  }
  H[0] = h0
  H[1] = h1
  H[2] = h2
  H[3] = h3
  H[4] = h4
  H[5] = h5
  H[6] = h6
  H[7] = h7
}

const wordHex = (x: number): string =>
  HEX[(x >>> 24) & 0xff]! + HEX[(x >>> 16) & 0xff]! + HEX[(x >>> 8) & 0xff]! + HEX[x & 0xff]!

/** SHA-256 of the UTF-8 encoding of `text`, as 64 lower-case hex digits. */
export const sha256Hex = (text: string): string => {
  // At most 3 bytes per UTF-16 unit, plus the 0x80 marker and the 8-byte length, rounded up to a block.
  const capacity = (Math.ceil((text.length * 3 + 9) / 64) + 1) * 64
  if (buffer.length < capacity) buffer = new Uint8Array(Math.max(capacity, buffer.length * 2))
  const bytes = buffer
  const n = encodeUtf8(text, bytes)
  const padded = Math.ceil((n + 9) / 64) * 64
  bytes[n] = 0x80
  bytes.fill(0, n + 1, padded - 8)
  // Message length in bits as a 64-bit big-endian integer.
  const hi = Math.floor(n / 0x20000000)
  const lo = (n << 3) >>> 0
  bytes[padded - 8] = hi >>> 24
  bytes[padded - 7] = (hi >>> 16) & 0xff
  bytes[padded - 6] = (hi >>> 8) & 0xff
  bytes[padded - 5] = hi & 0xff
  bytes[padded - 4] = lo >>> 24
  bytes[padded - 3] = (lo >>> 16) & 0xff
  bytes[padded - 2] = (lo >>> 8) & 0xff
  bytes[padded - 1] = lo & 0xff
  H[0] = 0x6a09e667
  H[1] = 0xbb67ae85 | 0
  H[2] = 0x3c6ef372
  H[3] = 0xa54ff53a | 0
  H[4] = 0x510e527f
  H[5] = 0x9b05688c | 0
  H[6] = 0x1f83d9ab
  H[7] = 0x5be0cd19
  compress(bytes, padded / 64)
  return wordHex(H[0]!) + wordHex(H[1]!) + wordHex(H[2]!) + wordHex(H[3]!) + wordHex(H[4]!) + wordHex(H[5]!) + wordHex(H[6]!) + wordHex(H[7]!)
}
