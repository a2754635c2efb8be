import { Command } from "@effect/cli"
import { Effect } from "effect"
import type { Policy } from "@tisync/domain"
import { statusOf } from "../sync/StatusQuery.js"
import { loadAppContext, storeSettings, withLogging } from "./AppContext.js"
import { storeLayerOf } from "./AppLayers.js"
import { configOption, jsonOption, targetOption } from "./CommonOptions.js"
import { printJson, printTable } from "./Output.js"

export const statusCommand = Command.make(
  "status",
  { json: jsonOption, config: configOption, target: targetOption },
  (input) =>
    Effect.gen(function* () {
      const context = yield* loadAppContext(input)
      const policies = new Map<string, Policy>(context.targets.map((t) => [t.settings.id, t.policy]))
      const report = yield* statusOf(
        context.targets.map((t) => t.settings.id),
        (id) => policies.get(id)
      ).pipe(Effect.provide(storeLayerOf(storeSettings(context))), withLogging(context.logLevel))
      if (input.json) return yield* printJson(report)
      yield* printTable(
        ["target", "last run", "status", "completed", "watermark", "live", "capacity", "reserve", "foreign", "rejected", "deferred", "expired", "revoked"],
        report.targets.map((t) => [
          t.targetId,
          t.lastRun?.runId ?? "-",
          t.lastRun?.status ?? "never run",
          t.lastRun?.completedAt ?? "-",
          t.lastRun?.watermark ?? "-",
          String(t.quota.live),
          String(t.quota.capacity),
          String(t.quota.reserve),
          String(t.quota.foreign),
          String(t.states.rejected),
          String(t.states.deferred),
          String(t.states.expired),
          String(t.states.revoked)
        ])
      )
    })
).pipe(Command.withDescription("per target: last run, watermark, quota and counts by state. Example: tisync status --json"))
