import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { historyOf } from "../sync/HistoryQuery.js"
import { runShow, runsList } from "../sync/RunsQuery.js"
import { loadAppContext, storeSettings, withLogging } from "./AppContext.js"
import { storeLayerOf } from "./AppLayers.js"
import { configOption, jsonOption, targetOption } from "./CommonOptions.js"
import { printJson, printLine, printTable } from "./Output.js"

const counted = (counts: Readonly<Record<string, number>> | null): string =>
  counts === null
    ? "-"
    : Object.entries(counts)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "nothing"

const showCommand = Command.make(
  "show",
  { runId: Args.text({ name: "RUN_ID" }), json: jsonOption, config: configOption },
  (input) =>
    Effect.gen(function* () {
      const context = yield* loadAppContext(input)
      const report = yield* runShow(input.runId).pipe(
        Effect.provide(storeLayerOf(storeSettings(context))),
        withLogging(context.logLevel)
      )
      if (input.json) return yield* printJson(report)
      const run = report.run
      yield* printLine(`run ${run.runId} on ${run.targetId}: ${run.mode}, ${run.status}, started ${run.startedAt}, finished ${run.finishedAt ?? "-"}`)
      yield* printLine(`counts: ${counted(run.counts)}`)
      if (run.error !== null) yield* printLine(`error: ${run.error}`)
      for (const note of run.notes) yield* printLine(`note: ${note}`)
      yield* printTable(
        ["at", "event", "stream"],
        report.events.map((e) => [e.at ?? "", e.type, e.streamId])
      )
    })
).pipe(Command.withDescription("one run's counts and events. Example: tisync runs show 01a2...-... --json"))

export const runsCommand = Command.make(
  "runs",
  {
    limit: Options.integer("limit").pipe(Options.withDescription("how many runs, newest first"), Options.withDefault(20)),
    target: targetOption,
    json: jsonOption,
    config: configOption
  },
  (input) =>
    Effect.gen(function* () {
      const context = yield* loadAppContext(input)
      const report = yield* runsList(Math.max(1, input.limit), Option.getOrUndefined(input.target)).pipe(
        Effect.provide(storeLayerOf(storeSettings(context))),
        withLogging(context.logLevel)
      )
      if (input.json) return yield* printJson(report)
      yield* printTable(
        ["run", "target", "mode", "status", "started", "finished", "counts"],
        report.runs.map((r) => [r.runId, r.targetId, r.mode, r.status, r.startedAt, r.finishedAt ?? "-", counted(r.counts)])
      )
    })
).pipe(
  Command.withDescription("run history, newest first. Example: tisync runs --limit 5 --json; tisync runs show RUN_ID"),
  Command.withSubcommands([showCommand])
)

export const historyCommand = Command.make(
  "history",
  { value: Args.text({ name: "VALUE" }), json: jsonOption, config: configOption },
  (input) =>
    Effect.gen(function* () {
      const context = yield* loadAppContext(input)
      const report = yield* historyOf(input.value).pipe(
        Effect.provide(storeLayerOf(storeSettings(context))),
        withLogging(context.logLevel)
      )
      if (input.json) return yield* printJson(report)
      if (report.events.length === 0) return yield* printLine(`no event names ${input.value}`)
      yield* printTable(
        ["at", "event", "run", "stream"],
        report.events.map((e) => [e.at ?? "", e.type, e.runId ?? "-", e.streamId])
      )
    })
).pipe(Command.withDescription("every event for the keys with that value, oldest first. Example: tisync history 203.0.113.10 --json"))
