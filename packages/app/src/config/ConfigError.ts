import { Data } from "effect"

/** Bad usage or configuration, found before any API call: exit code 2 (DESIGN §6). */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly key: string; readonly reason: string }> {
  override get message(): string {
    return `bad configuration: ${this.key}: ${this.reason}`
  }
}
