import * as fs from "node:fs"
import { Effect } from "effect"
import { parseDocument } from "yaml"
import { ConfigError } from "./ConfigError.js"

/** Largest config file accepted: a policy is small; anything bigger is a mistake or an attack. */
const MAX_CONFIG_BYTES = 1024 * 1024

/**
 * YAML with nothing left to interpretation: an error or a warning (an unknown tag such as `!!js/function`,
 * which the parser would otherwise keep as a plain string) refuses the file.
 */
const parseYamlStrictly = (text: string): unknown => {
  const doc = parseDocument(text)
  const problem = doc.errors[0] ?? doc.warnings[0]
  if (problem !== undefined) throw problem
  return doc.toJS({ maxAliasCount: 100 })
}

/** Reads a YAML or JSON config file (JSON is YAML; `.json` files are parsed strictly as JSON). */
export const readConfigFile = (path: string): Effect.Effect<object, ConfigError> =>
  Effect.gen(function* () {
    const stat = yield* Effect.try({
      try: () => fs.statSync(path),
      catch: () => new ConfigError({ key: "--config", reason: `cannot read ${path}` })
    })
    if (!stat.isFile()) return yield* new ConfigError({ key: "--config", reason: `${path} is not a file` })
    if (stat.size > MAX_CONFIG_BYTES) return yield* new ConfigError({ key: "--config", reason: `${path} is larger than 1 MB` })
    const text = yield* Effect.try({
      try: () => fs.readFileSync(path, "utf8"),
      catch: () => new ConfigError({ key: "--config", reason: `cannot read ${path}` })
    })
    const parsed = yield* Effect.try({
      try: (): unknown => (path.endsWith(".json") ? JSON.parse(text) : parseYamlStrictly(text)),
      catch: (e) =>
        new ConfigError({ key: "--config", reason: `${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` })
    })
    if (parsed === null || parsed === undefined) return {}
    if (typeof parsed !== "object" || Array.isArray(parsed)) {
      return yield* new ConfigError({ key: "--config", reason: `${path} must hold a mapping of policy keys` })
    }
    return parsed
  })
