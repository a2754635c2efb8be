import { Command, Options } from "@effect/cli"
import { Effect, Layer } from "effect"
import { runSync } from "../sync/RunSync.js"
import type { SyncReport } from "../sync/SyncReport.js"
import { defenderSettingsOf } from "../config/Environment.js"
import { type AppContext, loadAppContext, storeSettings, withLogging } from "./AppContext.js"
import { idLayer, sinkLayerOf, sourceLayerFromEnv, storeLayerOf } from "./AppLayers.js"
import { configOption, jsonOption, policyOptions, targetOption } from "./CommonOptions.js"
import { ExitWith } from "./ExitCode.js"
import { printJson, printLine, printTable } from "./Output.js"
import { progressEnabled, withProgress } from "./ProgressDisplay.js"

/** A run's report as text: the counts and API calls that `--json` prints as keys. */
export const printReport = (report: SyncReport) =>
  Effect.gen(function* () {
    yield* printLine(
      `${report.mode} run ${report.runId} on target ${report.targetId}: ${report.status}` +
        (report.watermark === null ? "" : ` (watermark ${report.watermark})`)
    )
    yield* printTable(
      ["count", "value"],
      Object.entries(report.counts).map(([k, v]) => [k, String(v)])
    )
    yield* printLine(
      `API calls: ${Object.entries(report.apiCalls).map(([k, v]) => `${k} ${v}`).join(", ")}`
    )
    const q = report.quota
    yield* printLine(`quota: ${q.live} live of capacity ${q.capacity} (limit ${q.limit}, reserve ${q.reserve}, foreign ${q.foreign})`)
    for (const note of report.notes) yield* printLine(`note: ${note}`)
    if (report.error !== undefined) yield* printLine(`error: ${report.error}`)
  })

/** A run that failed, or whose planned writes could not all be made, exits 1 (DESIGN §6). */
export const runFailed = (report: SyncReport) => report.status === "failed" || report.counts.failed > 0

/**
 * Runs `sync` for every selected target: each has its own Defender credentials, lock, quota and runs;
 * ThreatConnect and the store are shared. Targets run one after another on the embedded store (one
 * session) and side by side on PostgreSQL.
 */
export const syncTargets = (context: AppContext, options: { readonly full: boolean; readonly dryRun: boolean }) =>
  syncTargetsThen(context, options, Effect.succeed)

/**
 * `syncTargets`, then `after` with the reports while the store is still open (the daemon reads the
 * status it exports as metrics there, without opening the store again).
 */
export const syncTargetsThen = <A, E, R>(
  context: AppContext,
  options: { readonly full: boolean; readonly dryRun: boolean },
  after: (reports: ReadonlyArray<SyncReport>) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const settings = yield* Effect.forEach(context.targets, (t) =>
      Effect.map(defenderSettingsOf(context.env, t.settings), (defender) => ({ target: t, defender }))
    )
    const store = storeSettings(context)
    const shared = Layer.mergeAll(storeLayerOf(store), sourceLayerFromEnv, idLayer)
    return yield* Effect.forEach(
      settings,
      ({ target, defender }) =>
        runSync({ targetId: target.settings.id, full: options.full, dryRun: options.dryRun, policy: target.policy }).pipe(
          Effect.provide(sinkLayerOf(defender))
        ),
      { concurrency: store.databaseUrl === null ? 1 : "unbounded" }
    ).pipe(Effect.flatMap(after), Effect.provide(shared))
  })

export const reportRuns = (reports: ReadonlyArray<SyncReport>, json: boolean) =>
  Effect.gen(function* () {
    if (json) yield* printJson(reports.length === 1 ? reports[0] : { runs: reports })
    else yield* Effect.forEach(reports, printReport, { discard: true })
    if (reports.some(runFailed)) return yield* Effect.fail(new ExitWith(1))
  })

const syncOptions = {
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription("compute and print the plan; write no event, call no write API")),
  full: Options.boolean("full").pipe(Options.withDescription("read every selected indicator, not only those modified since the last run")),
  target: targetOption,
  json: jsonOption,
  config: configOption,
  policy: policyOptions
}

export const syncCommand = Command.make("sync", syncOptions, (input) =>
  Effect.gen(function* () {
    const context = yield* loadAppContext(input)
    const reports = yield* syncTargets(context, { full: input.full, dryRun: input.dryRun }).pipe(
      withProgress(progressEnabled(input.json)),
      withLogging(context.logLevel)
    )
    yield* reportRuns(reports, input.json)
  })
).pipe(
  Command.withDescription("one run per target. Example: tisync sync --config policy.yaml --json (add --dry-run to only plan, --full to re-read everything)")
)

const { dryRun: _dryRun, ...planOptions } = syncOptions

export const planCommand = Command.make("plan", planOptions, (input) =>
  Effect.gen(function* () {
    const context = yield* loadAppContext(input)
    const reports = yield* syncTargets(context, { full: input.full, dryRun: true }).pipe(
      withProgress(progressEnabled(input.json)),
      withLogging(context.logLevel)
    )
    yield* reportRuns(reports, input.json)
  })
).pipe(Command.withDescription("the same as sync --dry-run. Example: tisync plan --config policy.yaml --json"))
