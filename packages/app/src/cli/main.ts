import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import { commands } from "./Commands.js"
import { telemetryLayer } from "../observability/Telemetry.js"
import { exitCodeOf, ExitWith, isCliUsageError, messageOf } from "./ExitCode.js"

const VERSION = "0.1.0"

const cli = Command.run(Command.make("tisync").pipe(
  Command.withDescription("sync ThreatConnect indicators into Microsoft Defender for Endpoint; every decision is an event"),
  Command.withSubcommands(commands)
), { name: "tisync", version: VERSION })

/**
 * Runs the CLI and turns the outcome into DESIGN §6's exit codes. Errors are printed once, to stderr,
 * by message (ours never carry secrets). Only the command itself is interruptible: after SIGTERM/SIGINT
 * the exit code must still be worked out and set (an interrupted fiber would skip it and exit 0).
 */
const main = Effect.uninterruptibleMask((restore) => restore(Effect.suspend(() => cli(process.argv))).pipe(
  // Traces and metrics leave the process only when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed on exit.
  Effect.provide(telemetryLayer(process.env, VERSION)),
  Effect.provide(NodeContext.layer),
  Effect.exit,
  Effect.flatMap((exit) =>
    Effect.sync(() => {
      if (Exit.isSuccess(exit)) return 0
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some") {
        const error = failure.value
        if (error instanceof ExitWith) return error.code
        const code = exitCodeOf(error)
        // @effect/cli has already printed its own usage errors.
        if (!isCliUsageError(error)) process.stderr.write(`tisync: ${messageOf(error)}\n`)
        return code
      }
      // SIGTERM/SIGINT: the daemon's normal way to stop (exit 0); any other command was cut short.
      if (Cause.isInterruptedOnly(exit.cause)) return process.argv[2] === "daemon" ? 0 : 130
      process.stderr.write(`tisync: unexpected failure: ${Cause.pretty(exit.cause).split("\n")[0] ?? ""}\n`)
      return 1
    })
  ),
  Effect.flatMap((code) => Effect.sync(() => process.exit(code)))
))

NodeRuntime.runMain(main, { disableErrorReporting: true, disablePrettyLogger: true })
