import { randomBytes } from "node:crypto"
import { Clock, Effect, Layer } from "effect"
import { IdGenerator, RunId } from "@tisync/domain"

/** RFC 9562 UUIDv7: 48-bit Unix milliseconds, version 7, variant 10, random rest; sorts by time. */
export const uuidV7 = (millis: number, random: Uint8Array = randomBytes(10)): string => {
  const bytes = new Uint8Array(16)
  let ms = BigInt(millis)
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(ms & 0xffn)
    ms >>= 8n
  }
  bytes.set(random.subarray(0, 10), 6)
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f)
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export const UuidV7IdGeneratorLive: Layer.Layer<IdGenerator> = Layer.succeed(
  IdGenerator,
  IdGenerator.of({ runId: Effect.map(Clock.currentTimeMillis, (ms) => RunId.make(uuidV7(ms))) })
)
