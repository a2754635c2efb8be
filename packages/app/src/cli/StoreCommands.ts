import { Command } from "@effect/cli"
import { Effect, Layer } from "effect"
import { ProjectionStore } from "@tisync/domain"
import { replay, verifyReplay } from "../projections/ProjectionRunner.js"
import { loadAppContext, storeSettings, withLogging } from "./AppContext.js"
import { storeLayerOf } from "./AppLayers.js"
import { configOption, jsonOption } from "./CommonOptions.js"
import { ExitWith } from "./ExitCode.js"
import { printJson, printLine, printTable } from "./Output.js"
import { Options } from "@effect/cli"

/** `tisync migrate`: the store layer applies pending migrations when it starts. */
export const migrateCommand = Command.make("migrate", { json: jsonOption, config: configOption }, (input) =>
  Effect.gen(function* () {
    const context = yield* loadAppContext(input)
    yield* Effect.scoped(Layer.build(storeLayerOf(storeSettings(context))))
    yield* input.json ? printJson({ migrated: true }) : printLine("database schema is up to date")
  })
).pipe(Command.withDescription("apply database migrations (also done automatically on start). Example: tisync migrate"))

/** `tisync replay [--verify]`: rebuild every projection from the event log. */
export const replayCommand = Command.make(
  "replay",
  {
    verify: Options.boolean("verify").pipe(Options.withDescription("rebuild into shadow tables and compare with the live ones")),
    json: jsonOption,
    config: configOption
  },
  (input) =>
    Effect.gen(function* () {
      const context = yield* loadAppContext(input)
      const program = Effect.gen(function* () {
        if (!input.verify) {
          const events = yield* replay
          const projections = yield* ProjectionStore
          const rows = yield* projections.compare
          const report = { events, projections: Object.fromEntries(rows.map((r) => [r.name, { rows: r.rows }])) }
          return yield* input.json ? printJson(report) : printLine(`replayed ${events} events into every projection`)
        }
        const report = yield* verifyReplay
        if (input.json) yield* printJson(report)
        else {
          yield* printTable(
            ["projection", "rows", "match"],
            Object.entries(report.projections).map(([name, p]) => [name, String(p.rows), p.match ? "yes" : "NO"])
          )
          yield* printLine(`${report.events} events replayed: ${report.match ? "projections match" : "MISMATCH"}`)
        }
        if (!report.match) return yield* Effect.fail(new ExitWith(1))
      })
      yield* program.pipe(Effect.provide(storeLayerOf(storeSettings(context))), withLogging(context.logLevel))
    })
).pipe(
  Command.withDescription(
    "rebuild every projection from the event log; --verify compares a rebuild with the live projections. Example: tisync replay --verify --json"
  )
)
