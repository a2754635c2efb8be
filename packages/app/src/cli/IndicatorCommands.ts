import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { ConfigError } from "../config/ConfigError.js"
import { revokeIndicators, type RevokeSelector } from "../sync/ManualRevoke.js"
import { submitIndicator } from "../sync/ManualSubmit.js"
import { reconcile } from "../sync/Reconcile.js"
import { loadAppContext, withLogging } from "./AppContext.js"
import { configOption, jsonOption, targetOption } from "./CommonOptions.js"
import { ExitWith } from "./ExitCode.js"
import { printJson, printLine, printTable } from "./Output.js"
import { singleTarget, targetServices } from "./TargetServices.js"

export const reconcileCommand = Command.make(
  "reconcile",
  {
    repair: Options.boolean("repair").pipe(Options.withDescription("fix the drift found (recorded as events)")),
    target: targetOption,
    json: jsonOption,
    config: configOption
  },
  (input) =>
    Effect.gen(function* () {
      const context = yield* loadAppContext(input)
      const reports = yield* Effect.forEach(context.targets, (target) =>
        Effect.flatMap(targetServices(context, target), (services) =>
          reconcile({ targetId: target.settings.id, repair: input.repair, policy: target.policy }).pipe(Effect.provide(services))
        )
      ).pipe(withLogging(context.logLevel))
      if (input.json) yield* printJson(reports.length === 1 ? reports[0] : { targets: reports })
      else {
        for (const r of reports) {
          yield* printLine(
            `${r.targetId}: Defender holds ${r.defender.total} (${r.defender.own} tisync's, ${r.defender.foreign} foreign); drift: ${r.drift ? "yes" : "none"}`
          )
          yield* printTable(
            ["drift", "count"],
            [
              ["missing (deleted by hand)", String(r.missing.length)],
              ["expired", String(r.expired.length)],
              ["changed", String(r.changed.length)],
              ["held by another app too", String(r.foreignDuplicate.length)],
              ["tisync's but unknown to the log", String(r.unknownOwn.length)]
            ]
          )
          if (r.repair) yield* printLine(`repaired: ${JSON.stringify(r.repaired)}`)
          for (const e of r.errors) yield* printLine(`error: ${e}`)
        }
      }
      if (reports.some((r) => r.errors.length > 0 || r.repaired.failed > 0)) return yield* Effect.fail(new ExitWith(1))
    })
).pipe(
  Command.withDescription("list what Defender holds and report drift against the event log; --repair fixes it. Example: tisync reconcile --repair --json")
)

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

export const submitCommand = Command.make(
  "submit",
  {
    type: Options.text("type").pipe(Options.withDescription("IpAddress | DomainName | Url | FileMd5 | FileSha1 | FileSha256")),
    value: Options.text("value").pipe(Options.withDescription("the indicator value")),
    action: optionalText("action", "Alert | Block | Audit | Warn | BlockAndRemediate | Allowed (default: the policy's)"),
    severity: optionalText("severity", "Informational | Low | Medium | High"),
    expires: optionalText("expires", "ISO 8601 expiration (default: now + the policy's expiration days)"),
    description: optionalText("description", "description shown in Defender"),
    generateAlert: Options.boolean("generate-alert").pipe(Options.withDescription("raise an alert when it matches")),
    target: targetOption,
    json: jsonOption,
    config: configOption
  },
  (input) =>
    Effect.gen(function* () {
      const context = yield* loadAppContext(input)
      const target = yield* singleTarget(context)
      const services = yield* targetServices(context, target)
      const report = yield* submitIndicator({
        targetId: target.settings.id,
        type: input.type,
        value: input.value,
        policy: target.policy,
        ...(Option.isSome(input.action) ? { action: input.action.value } : {}),
        ...(Option.isSome(input.severity) ? { severity: input.severity.value } : {}),
        ...(Option.isSome(input.expires) ? { expires: input.expires.value } : {}),
        ...(Option.isSome(input.description) ? { description: input.description.value } : {}),
        ...(input.generateAlert ? { generateAlert: true } : {})
      }).pipe(Effect.provide(services), withLogging(context.logLevel))
      yield* input.json
        ? printJson(report)
        : printLine(
            `${report.indicatorType} ${report.value}: ${report.status}` +
              (report.defenderId === null ? "" : ` (Defender id ${report.defenderId}, expires ${report.expiresAt ?? "never"})`) +
              (report.reason === null ? "" : `: ${report.reason}`)
          )
      if (report.status === "rejected") return yield* Effect.fail(new ExitWith(1))
    })
).pipe(
  Command.withDescription("create or update one indicator by hand (recorded as events). Example: tisync submit --type IpAddress --value 203.0.113.7 --action Block")
)

export const revokeCommand = Command.make(
  "revoke",
  {
    value: Args.text({ name: "VALUE" }).pipe(Args.optional),
    run: optionalText("run", "revoke what this run submitted"),
    all: Options.boolean("all").pipe(Options.withDescription("revoke every indicator tisync submitted to the target")),
    target: targetOption,
    json: jsonOption,
    config: configOption
  },
  (input) =>
    Effect.gen(function* () {
      const chosen = [Option.isSome(input.value), Option.isSome(input.run), input.all].filter(Boolean).length
      if (chosen !== 1) {
        return yield* new ConfigError({ key: "revoke", reason: "name exactly one of VALUE, --run RUN_ID or --all" })
      }
      const selector: RevokeSelector = Option.isSome(input.value)
        ? { value: input.value.value }
        : Option.isSome(input.run)
          ? { runId: input.run.value }
          : { all: true }
      const context = yield* loadAppContext(input)
      const target = yield* singleTarget(context)
      const services = yield* targetServices(context, target)
      const report = yield* revokeIndicators({ targetId: target.settings.id, selector }).pipe(
        Effect.provide(services),
        withLogging(context.logLevel)
      )
      if (input.json) yield* printJson(report)
      else {
        yield* printLine(`revoked ${report.revoked.length} indicator(s) from ${report.targetId}`)
        for (const r of report.revoked) yield* printLine(`  ${r.indicatorType} ${r.value}`)
        for (const s of report.skipped) yield* printLine(`  skipped ${s.indicatorType} ${s.value}: ${s.reason}`)
        for (const e of report.errors) yield* printLine(`error: ${e}`)
      }
      if (report.failed > 0) return yield* Effect.fail(new ExitWith(1))
    })
).pipe(
  Command.withDescription("remove indicators tisync submitted (never another app's). Example: tisync revoke 203.0.113.7 | --run RUN_ID | --all")
)
