import { statusCommand } from "./StatusCommand.js"
import { migrateCommand, replayCommand } from "./StoreCommands.js"

export const commands = [statusCommand, migrateCommand, replayCommand] as const
