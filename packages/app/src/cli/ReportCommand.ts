import * as path from "node:path"
import { Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { DateTime, Effect, Option } from "effect"
import type { Policy } from "@tisync/domain"
import { ConfigError } from "../config/ConfigError.js"
import { reportViewOf } from "../report/ReportData.js"
import { reportHtml } from "../report/ReportHtml.js"
import { reportInputOf } from "../report/ReportQuery.js"
import { loadAppContext, storeSettings, withLogging } from "./AppContext.js"
import { storeLayerOf } from "./AppLayers.js"
import { configOption, jsonOption, targetOption } from "./CommonOptions.js"
import { printJson, printLine } from "./Output.js"

/** `report --json`: what was written. */
export interface ReportWritten {
  readonly out: string
  readonly runs: number
  readonly targets: ReadonlyArray<string>
  readonly bytes: number
}

/** Written beside the target and renamed over it, so a reader never sees half a report. */
const writeAtomically = (file: string, text: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const temporary = `${file}.${process.pid}.tmp`
    yield* fs.writeFileString(temporary, text)
    yield* fs.rename(temporary, file).pipe(Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore)))
  })

export const reportCommand = Command.make(
  "report",
  {
    out: Options.text("out").pipe(Options.withDescription("the HTML file to write (default report.html)"), Options.withDefault("report.html")),
    limit: Options.integer("limit").pipe(
      Options.withDescription("how many of each target's newest runs to show (default 100)"),
      Options.withDefault(100)
    ),
    target: targetOption,
    json: jsonOption,
    config: configOption
  },
  (input) =>
    Effect.gen(function* () {
      if (input.limit < 1) return yield* new ConfigError({ key: "--limit", reason: "must be at least 1" })
      const out = path.resolve(input.out)
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.stat(path.dirname(out)).pipe(Effect.option)
      if (Option.isNone(directory) || directory.value.type !== "Directory") {
        return yield* new ConfigError({ key: "--out", reason: `${path.dirname(out)} is not a directory` })
      }
      const context = yield* loadAppContext(input)
      const policies = new Map<string, Policy>(context.targets.map((t) => [t.settings.id, t.policy]))
      const generatedAt = DateTime.formatIso(yield* DateTime.now)
      const data = yield* reportInputOf(
        context.targets.map((t) => t.settings.id),
        { runLimit: input.limit, generatedAt, policyOf: (id) => policies.get(id) }
      ).pipe(Effect.provide(storeLayerOf(storeSettings(context))), withLogging(context.logLevel))
      const view = reportViewOf(data)
      const text = reportHtml(view)
      yield* writeAtomically(out, text)
      const written: ReportWritten = {
        out,
        runs: view.targets.reduce((n, t) => n + t.runs.length, 0),
        targets: view.targets.map((t) => t.targetId),
        bytes: Buffer.byteLength(text)
      }
      if (input.json) return yield* printJson(written)
      yield* printLine(`wrote ${written.out}: ${written.runs} run(s) of ${written.targets.join(", ") || "no target"}`)
    })
).pipe(
  Command.withDescription(
    "write one self-contained HTML report (quota chart, counts per run, live indicators, deferred and rejected groups). Example: tisync report --out report.html --target default"
  )
)
