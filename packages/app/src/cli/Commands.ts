import { historyCommand, runsCommand } from "./AuditCommands.js"
import { daemonCommand } from "./DaemonCommand.js"
import { demoCommand } from "./DemoCommand.js"
import { reconcileCommand, revokeCommand, submitCommand } from "./IndicatorCommands.js"
import { statusCommand } from "./StatusCommand.js"
import { migrateCommand, replayCommand } from "./StoreCommands.js"
import { planCommand, syncCommand } from "./SyncCommand.js"
import { reportCommand } from "./ReportCommand.js"

/** Every command of DESIGN §6. */
export const commands = [
  syncCommand,
  planCommand,
  statusCommand,
  runsCommand,
  historyCommand,
  replayCommand,
  reconcileCommand,
  submitCommand,
  revokeCommand,
  migrateCommand,
  daemonCommand,
  demoCommand,
  reportCommand
] as const
