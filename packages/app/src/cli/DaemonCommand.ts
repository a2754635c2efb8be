import { Command, Options } from "@effect/cli"
import { Duration, Effect, Either } from "effect"
import { ConfigError } from "../config/ConfigError.js"
import { runDaemon } from "../daemon/DaemonLoop.js"
import { loadAppContext, withLogging } from "./AppContext.js"
import { configOption, jsonOption, policyOptions, targetOption } from "./CommonOptions.js"

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

/** 0 turns the health server off; anything else must be a TCP port. */
export const parseHealthPort = (port: number): Either.Either<number, ConfigError> =>
  Number.isInteger(port) && port >= 0 && port <= 65535
    ? Either.right(port)
    : Either.left(new ConfigError({ key: "--health-port", reason: `must be a TCP port (1-65535) or 0 for none, got ${port}` }))

/**
 * `tisync daemon --every 1h`: runs every target on its schedule until stopped (see DaemonLoop).
 * `--health-port` serves /healthz and /metrics on `--health-host` (127.0.0.1 by default: in a container
 * or a Kubernetes pod, probes and Prometheus come from outside it, so there it is set to 0.0.0.0).
 */
export const daemonCommand = Command.make(
  "daemon",
  {
    every: Options.text("every").pipe(Options.withDescription("interval between runs, e.g. 1h, 30m"), Options.withDefault("1h")),
    healthPort: Options.integer("health-port").pipe(
      Options.withDescription("serve GET /healthz and GET /metrics (Prometheus) on this port; 0 (default) for none"),
      Options.withDefault(0)
    ),
    healthHost: Options.text("health-host").pipe(
      Options.withDescription("address the health server listens on (default 127.0.0.1; 0.0.0.0 in a container)"),
      Options.withDefault("127.0.0.1")
    ),
    target: targetOption,
    json: jsonOption,
    config: configOption,
    policy: policyOptions
  },
  (input) =>
    Effect.gen(function* () {
      const every = yield* parseEvery(input.every)
      const healthPort = yield* parseHealthPort(input.healthPort)
      const context = yield* loadAppContext(input)
      yield* runDaemon(context, { every, json: input.json, healthPort, healthHost: input.healthHost }).pipe(withLogging(context.logLevel))
    })
).pipe(
  Command.withDescription(
    "run sync on a schedule until stopped (SIGTERM: finish the batch in flight, exit 0). Example: tisync daemon --every 1h --health-port 9464 --config policy.yaml"
  )
)
