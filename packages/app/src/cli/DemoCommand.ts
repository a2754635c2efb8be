import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Command, Options } from "@effect/cli"
import { Effect, Layer, Redacted } from "effect"
import {
  DefenderIndicatorSinkLive,
  MsalTokenProviderLive,
  PgliteStoreLive,
  startDefenderSimulator,
  startThreatConnectSimulator,
  TC_SIM_API_TOKEN,
  ThreatConnectSimData,
  threatConnectSourceLayer
} from "@tisync/adapters"
import { defaultPolicy, type Policy } from "@tisync/domain"
import { ObservedNodeHttpClient } from "../observability/ApiCallMetrics.js"
import { runSync } from "../sync/RunSync.js"
import { withLogging } from "./AppContext.js"
import { idLayer } from "./AppLayers.js"
import { jsonOption } from "./CommonOptions.js"
import { printLine } from "./Output.js"
import { progressEnabled, withProgress } from "./ProgressDisplay.js"
import { printReport, reportRuns, runFailed } from "./SyncCommand.js"
import { ConfigError } from "../config/ConfigError.js"
import { ExitWith } from "./ExitCode.js"

/** Indicators other apps already hold in the demo tenant: they count against the 15,000. */
const FOREIGN = [
  { indicatorValue: "malware.example.net", indicatorType: "DomainName" as const, createdBy: "another-app" },
  { indicatorValue: "198.51.100.77", indicatorType: "IpAddress" as const, createdBy: "soc-analyst@example.com" },
  { indicatorValue: "44d88612fea8a8f36de82e1278abb02f", indicatorType: "FileMd5" as const, createdBy: "another-app" }
]

const demoPolicy: Policy = {
  ...defaultPolicy,
  owners: ThreatConnectSimData.SIM_OWNERS.map((o) => o.name),
  action: "Alert",
  // The simulator spreads lastModified over the 30 days before now: read all of it on the first run.
  lastRunDays: 31
}

/**
 * `tisync demo`: both simulators in-process on free loopback ports, N seeded ThreatConnect indicators
 * (several owners, duplicates across owners, invalid values), a few foreign Defender indicators, and a
 * sync on a fresh embedded store. The main job of the README's first command.
 */
export const demoCommand = Command.make(
  "demo",
  {
    indicators: Options.integer("indicators").pipe(
      Options.withDescription("how many ThreatConnect indicators to seed"),
      Options.withDefault(2_000)
    ),
    json: jsonOption
  },
  (input) =>
    Effect.gen(function* () {
      if (input.indicators < 1 || input.indicators > 200_000) {
        return yield* new ConfigError({ key: "--indicators", reason: "must be between 1 and 200,000" })
      }
      const tc = yield* Effect.acquireRelease(
        Effect.promise(() => startThreatConnectSimulator({ indicators: input.indicators, apiTokens: [TC_SIM_API_TOKEN], epoch: Date.now() })),
        (sim) => Effect.promise(() => sim.close())
      )
      const defender = yield* Effect.acquireRelease(
        Effect.promise(() => startDefenderSimulator({ rateLimits: true })),
        (sim) => Effect.promise(() => sim.close())
      )
      defender.simulator.seedForeign(FOREIGN)
      const dataDir = process.env["TISYNC_DATA_DIR"] ?? fs.mkdtempSync(path.join(os.tmpdir(), "tisync-demo-"))
      yield* Effect.logInfo(`ThreatConnect simulator at ${tc.apiUrl}, Defender simulator at ${defender.simulator.apiUrl}`)
      const sim = defender.simulator
      const sink = DefenderIndicatorSinkLive({ apiUrl: sim.apiUrl }).pipe(
        Layer.provide(
          MsalTokenProviderLive({
            tenantId: sim.tenantId,
            clientId: sim.clientId,
            credential: { _tag: "ClientSecret", secret: Redacted.make(sim.clientSecret) },
            authorityHost: sim.authorityHost,
            extraCaPem: sim.caPem
          })
        ),
        Layer.provide(ObservedNodeHttpClient)
      )
      const source = threatConnectSourceLayer({ apiUrl: tc.apiUrl, auth: { _tag: "Token", token: Redacted.make(TC_SIM_API_TOKEN) } }).pipe(
        Layer.provide(ObservedNodeHttpClient)
      )
      const layers = Layer.mergeAll(PgliteStoreLive(dataDir), source, sink, idLayer)
      const progress = withProgress(progressEnabled(input.json))
      const first = yield* runSync({ targetId: "default", full: false, dryRun: false, policy: demoPolicy }).pipe(Effect.provide(layers), progress)
      const second = yield* runSync({ targetId: "default", full: false, dryRun: false, policy: demoPolicy }).pipe(Effect.provide(layers), progress)
      if (input.json) return yield* reportRuns([first, second], true)
      yield* printLine(`tisync demo: ${input.indicators} ThreatConnect indicators, ${FOREIGN.length} foreign Defender indicators\n`)
      yield* printReport(first)
      yield* printLine("\nThe same sync again: nothing changed in ThreatConnect, so nothing is written:\n")
      yield* printReport(second)
      yield* printLine(`\nThe event log is in ${dataDir}: try TISYNC_DATA_DIR=${dataDir} npx tisync status`)
      if ([first, second].some(runFailed)) return yield* Effect.fail(new ExitWith(1))
    }).pipe(Effect.scoped, withLogging("Info"))
).pipe(Command.withDescription("run a sync end to end against built-in simulators. Example: tisync demo --indicators 2000"))
