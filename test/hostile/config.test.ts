import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Either, Option } from "effect"
import { loadAppContext } from "../../packages/app/src/cli/AppContext.js"
import { casesOf, CorpusFormatError, expandBody, expectedError, type HostileCase, optional, values } from "./HostileCorpus.js"

/**
 * Config files of the hostile corpus, written to a temporary file with their extension and read by the
 * real config loader (`loadAppContext`: file reading, YAML/JSON parsing, strict Schema decoding, target
 * resolution); the cases marked `# cli: exit 2` also through the built `tisync` binary.
 */

const ROOT = new URL("../..", import.meta.url).pathname
const BIN = path.join(ROOT, "packages/app/bin/tisync.js")
const MAX_TEXT = 2000
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tisync-hostile-config-"))

const fileOf = (c: HostileCase): string => {
  const file = path.join(dir, `${c.name.replace(/[/.]/g, "_")}.${c.kind === "config-json" ? "json" : "yaml"}`)
  fs.writeFileSync(file, expandBody(c))
  return file
}

const cases = [...casesOf("config-yaml"), ...casesOf("config-json")]

describe("hostile config files through the real config loader", () => {
  it("the corpus holds YAML and JSON config cases", () => {
    expect(casesOf("config-yaml").length).toBeGreaterThanOrEqual(8)
    expect(casesOf("config-json").length).toBeGreaterThanOrEqual(4)
  })

  for (const c of cases) {
    it.effect(`${c.name}: ${c.what}`, () =>
      Effect.gen(function* () {
        const result = yield* Effect.either(loadAppContext({ config: Option.some(fileOf(c)) }, { AZURE_TENANT_ID: "00000000-0000-0000-0000-000000000001" }))
        const wanted = expectedError(c)
        if (Either.isLeft(result)) {
          const e = result.left
          for (const text of [e.message, JSON.stringify(e)]) {
            expect(text.length, `${c.name}: a message of ${text.length} characters`).toBeLessThanOrEqual(MAX_TEXT)
            for (const banned of values(c, "not-in-error")) expect(text).not.toContain(banned)
          }
        }
        if (wanted === undefined) {
          expect(Either.isLeft(result) ? result.left.message : null, `${c.name}: no failure expected`).toBeNull()
        } else {
          expect(Either.isLeft(result), `${c.name}: expected ${wanted.tag}`).toBe(true)
          if (Either.isLeft(result)) {
            expect(result.left._tag).toBe(wanted.tag)
            if (wanted.fields["key"] !== undefined) expect(result.left.key, `${c.name}: the key named`).toBe(wanted.fields["key"])
            for (const m of wanted.mentions) expect(result.left.message.toLowerCase()).toContain(m.toLowerCase())
          }
        }
        // `# outcome: <policy key>=<JSON>`: what the first target's policy holds after loading
        for (const line of values(c, "outcome")) {
          const eq = line.indexOf("=")
          const key = line.slice(0, eq)
          const policy = Either.isRight(result) ? result.right.targets[0]?.policy : undefined
          const actual: unknown = policy === undefined ? undefined : Object.entries(policy).find(([k]) => k === key)?.[1]
          expect(actual, `${c.name}: ${key}`).toEqual(JSON.parse(line.slice(eq + 1)))
        }
      }))
  }
})

describe("hostile config files through the built CLI", () => {
  const cliCases = cases.filter((c) => optional(c, "cli") !== undefined)

  it("some config cases also run through the binary", () => expect(cliCases.length).toBeGreaterThanOrEqual(2))

  for (const c of cliCases) {
    // concurrent: each spawn mostly waits for Node to load the binary
    it.concurrent(`${c.name}: tisync plan exits 2 naming the key`, async () => {
      if (optional(c, "cli") !== "exit 2") throw new CorpusFormatError(`${c.name}: "# cli:" can only be "exit 2"`)
      const key = expectedError(c)?.fields["key"]
      if (key === undefined) throw new CorpusFormatError(`${c.name}: a CLI case needs "# error: ConfigError key=..."`)
      const dataDir = fs.mkdtempSync(path.join(dir, "data-"))
      const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [BIN, "plan", "--config", fileOf(c), "--json"], {
          encoding: "utf8",
          timeout: 30_000,
          env: { PATH: process.env["PATH"] ?? "", TISYNC_DATA_DIR: dataDir, TC_API_TOKEN: "unused", AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "s" }
        }, (error, stdout, stderr) => resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr }))
      })
      expect(run.status, `${c.name}: stderr ${run.stderr}`).toBe(2)
      expect(`${run.stdout}\n${run.stderr}`).toContain(key)
      for (const banned of values(c, "not-in-error")) expect(`${run.stdout}\n${run.stderr}`).not.toContain(banned)
      // refused before anything: no store was created
      expect(fs.readdirSync(dataDir)).toEqual([])
    }, 60_000)
  }
})
