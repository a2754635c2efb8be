import { Command, Options } from "@effect/cli"
import { Duration, Effect, Either, Random } from "effect"
import { ConfigError } from "../config/ConfigError.js"
import { loadAppContext, withLogging } from "./AppContext.js"
import { configOption, jsonOption, policyOptions, targetOption } from "./CommonOptions.js"
import { printJson, printLine } from "./Output.js"
import { runFailed, syncTargets } from "./SyncCommand.js"

/** `1h`, `30m`, `90s`, `1h30m`: the daemon's interval. At least a minute (Defender's limits are per minute). */
export const parseEvery = (raw: string): Either.Either<Duration.Duration, ConfigError> => {
  const parts = [...raw.trim().matchAll(/(\d+)\s*(h|m|s)/g)]
  const consumed = parts.map((p) => p[0]).join("")
  if (parts.length === 0 || consumed.replace(/\s/g, "") !== raw.trim().replace(/\s/g, "")) {
    return Either.left(new ConfigError({ key: "--every", reason: `expected a duration like 1h, 30m or 1h30m, got ${JSON.stringify(raw)}` }))
  }
  const seconds = parts.reduce((total, p) => total + Number(p[1]) * (p[2] === "h" ? 3600 : p[2] === "m" ? 60 : 1), 0)
  if (seconds < 60) return Either.left(new ConfigError({ key: "--every", reason: "must be at least 1m" }))
  return Either.right(Duration.seconds(seconds))
}

/**
 * `tisync daemon --every 1h`: runs every target, then sleeps the interval with up to 10% jitter so many
 * installations do not hit the APIs in the same second. Runs never overlap (one loop); a failed run is
 * logged and retried at the next tick. SIGTERM/SIGINT interrupt the sleep or the run (the run records
 * RunFailed and releases its lock) and the process exits.
 */
export const daemonCommand = Command.make(
  "daemon",
  {
    every: Options.text("every").pipe(Options.withDescription("interval between runs, e.g. 1h, 30m"), Options.withDefault("1h")),
    target: targetOption,
    json: jsonOption,
    config: configOption,
    policy: policyOptions
  },
  (input) =>
    Effect.gen(function* () {
      const every = yield* parseEvery(input.every)
      const context = yield* loadAppContext(input)
      const tick = Effect.gen(function* () {
        const reports = yield* syncTargets(context, { full: false, dryRun: false }).pipe(
          Effect.tapError((e) => Effect.logError(`run failed: ${e instanceof Error ? e.message : String(e)}`)),
          Effect.option
        )
        if (reports._tag === "Some") {
          for (const r of reports.value) {
            yield* input.json ? printJson(r) : printLine(`${r.targetId}: run ${r.runId} ${r.status}`)
            if (runFailed(r)) yield* Effect.logWarning(`run ${r.runId} on ${r.targetId} did not complete every write`)
          }
        }
        const jitter = yield* Random.nextRange(0, 0.1)
        const pause = Duration.times(every, 1 + jitter)
        yield* Effect.logInfo(`next run in ${Duration.format(pause)}`)
        yield* Effect.sleep(pause)
      })
      yield* Effect.forever(tick).pipe(withLogging(context.logLevel))
    })
).pipe(Command.withDescription("run sync on a schedule until stopped. Example: tisync daemon --every 1h --config policy.yaml"))
