import { Effect, Logger, LogLevel, Option } from "effect"
import { decodeAppConfig, resolveTargets, type ResolvedTarget } from "../config/AppConfig.js"
import { ConfigError } from "../config/ConfigError.js"
import { readConfigFile } from "../config/ConfigFile.js"
import { type Env, storeSettingsOf } from "../config/Environment.js"
import { parsePolicyFlag } from "../config/PolicyFlags.js"
import type { LogLevelName } from "@tisync/domain"
import { writeAroundProgress } from "./ProgressDisplay.js"

export interface CommandInput {
  readonly config: Option.Option<string>
  readonly policy?: Readonly<Record<string, Option.Option<string>>>
  readonly target?: Option.Option<string>
}

export interface AppContext {
  readonly env: Env
  readonly targets: ReadonlyArray<ResolvedTarget>
  readonly logLevel: LogLevelName
}

/**
 * Loads config file + flags + environment and validates them before anything touches a network or the
 * database: every problem here is exit 2 with the key named.
 */
export const loadAppContext = (input: CommandInput, env: Env = process.env) =>
  Effect.gen(function* () {
    const file = Option.isSome(input.config) ? yield* readConfigFile(input.config.value) : {}
    const flags: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(input.policy ?? {})) {
      if (Option.isSome(value)) flags[key] = yield* parsePolicyFlag(key, value.value)
    }
    // Spread, not Object.assign: a JSON `"__proto__"` key is an own property that Object.assign would turn
    // into the prototype, hiding it from the unknown-key check.
    const config = yield* decodeAppConfig({ ...file, ...flags })
    const all = yield* resolveTargets(config, env["AZURE_TENANT_ID"])
    const wanted = input.target ?? Option.none()
    const targets = Option.isSome(wanted) ? all.filter((t) => t.settings.id === wanted.value) : all
    if (Option.isSome(wanted) && targets.length === 0) {
      return yield* new ConfigError({ key: "--target", reason: `no target with id ${wanted.value} in the config` })
    }
    const context: AppContext = { env, targets, logLevel: config.logLevel }
    return context
  })

export const storeSettings = (context: AppContext) => storeSettingsOf(context.env)

const LEVELS: Record<LogLevelName, LogLevel.LogLevel> = {
  Debug: LogLevel.Debug,
  Info: LogLevel.Info,
  Warning: LogLevel.Warning,
  Error: LogLevel.Error
}

const prettyStderr = Logger.prettyLogger({ stderr: true, colors: true, mode: "tty" })

/**
 * Logs go to stderr: JSON lines when stderr is not a terminal, readable lines when it is (written around
 * the progress line, when one is drawn).
 */
const stderrLogger = Logger.replace(
  Logger.defaultLogger,
  process.stderr.isTTY === true
    ? Logger.make((options) => writeAroundProgress(() => prettyStderr.log(options)))
    : Logger.withConsoleError(Logger.jsonLogger)
)

export const withLogging =
  (level: LogLevelName) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    effect.pipe(Logger.withMinimumLogLevel(LEVELS[level]), Effect.provide(stderrLogger))
