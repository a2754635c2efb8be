import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Option } from "effect"
import { httpTuningFromEnv } from "../src/config/HttpTuning.js"

const withEnv = (env: Record<string, string>) =>
  httpTuningFromEnv.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("HTTP tuning from the environment", () => {
  it.effect("unset or empty (an env file's NAME= line) leaves the adapters' defaults", () =>
    Effect.gen(function* () {
      const tuning = yield* withEnv({ TISYNC_REQUEST_TIMEOUT_MS: "" })
      expect(Option.isNone(tuning.requestTimeoutMillis)).toBe(true)
      expect(Option.isNone(tuning.retryBaseDelayMillis)).toBe(true)
    }))

  it.effect("whole milliseconds are read", () =>
    Effect.gen(function* () {
      const tuning = yield* withEnv({ TISYNC_REQUEST_TIMEOUT_MS: "3000", TISYNC_RETRY_BASE_DELAY_MS: " 100 " })
      expect(tuning.requestTimeoutMillis).toEqual(Option.some(3000))
      expect(tuning.retryBaseDelayMillis).toEqual(Option.some(100))
    }))

  it.effect("a bad value is refused naming the variable", () =>
    Effect.gen(function* () {
      for (const bad of ["0", "-5", "1.5", "soon", "3600001"]) {
        const result = yield* Effect.either(withEnv({ TISYNC_RETRY_BASE_DELAY_MS: bad }))
        expect(Either.isLeft(result), bad).toBe(true)
        if (Either.isLeft(result)) expect(result.left.key).toBe("TISYNC_RETRY_BASE_DELAY_MS")
      }
    }))
})
