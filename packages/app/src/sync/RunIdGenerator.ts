import { randomBytes } from "node:crypto"
import { Clock, Effect, Layer, Ref } from "effect"
import { IdGenerator, RunId } from "@tisync/domain"

/**
 * UUIDv7 run ids (RFC 9562 §5.7): 48 bits of Unix milliseconds, then a 12-bit counter in `rand_a` that
 * keeps ids strictly increasing within one process even when two runs start in the same millisecond —
 * the projections list runs by id, newest first, so the order must follow time.
 */
const formatUuid = (bytes: Uint8Array): string => {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

export const uuidV7 = (millis: number, counter: number, random: Uint8Array): string => {
  const bytes = new Uint8Array(16)
  let t = Math.max(0, Math.floor(millis))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256
    t = Math.floor(t / 256)
  }
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f)
  bytes[7] = counter & 0xff
  bytes[8] = 0x80 | ((random[0] ?? 0) & 0x3f)
  for (let i = 9; i < 16; i++) bytes[i] = random[i - 8] ?? 0
  return formatUuid(bytes)
}

export const makeRunIdGenerator = Effect.gen(function* () {
  const last = yield* Ref.make({ millis: -1, counter: 0 })
  return IdGenerator.of({
    runId: Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const next = yield* Ref.modify(last, (prev) => {
        // Same (or an earlier: clock step back) millisecond: keep the previous time and count up.
        const state =
          now > prev.millis
            ? { millis: now, counter: 0 }
            : prev.counter < 0xfff
              ? { millis: prev.millis, counter: prev.counter + 1 }
              : { millis: prev.millis + 1, counter: 0 }
        return [state, state] as const
      })
      return RunId.make(uuidV7(next.millis, next.counter, randomBytes(8)))
    })
  })
})

/** The production IdGenerator (UUIDv7, time from effect's Clock). */
export const RunIdGeneratorLive: Layer.Layer<IdGenerator> = Layer.effect(IdGenerator, makeRunIdGenerator)
