import { daemonCommand } from "./DaemonCommand.js"
import { demoCommand } from "./DemoCommand.js"
import { statusCommand } from "./StatusCommand.js"
import { migrateCommand, replayCommand } from "./StoreCommands.js"
import { planCommand, syncCommand } from "./SyncCommand.js"

export const commands = [syncCommand, planCommand, statusCommand, replayCommand, migrateCommand, daemonCommand, demoCommand] as const
