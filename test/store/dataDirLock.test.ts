import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const LOCK_MODULE = path.resolve(import.meta.dirname, "../../packages/adapters/dist/store/DataDirLock.js")

/** A child that takes the data dir lock, holds it for a while and says whether it got it. */
const contender = (dataDir: string, go: number) => `
import { Effect } from "effect"
import { acquireDataDirLock } from ${JSON.stringify(LOCK_MODULE)}
// Start together: the race is in the first milliseconds.
while (Date.now() < ${go}) {}
const outcome = await Effect.runPromise(
  Effect.scoped(Effect.zipRight(acquireDataDirLock(${JSON.stringify(dataDir)}), Effect.as(Effect.sleep("400 millis"), "won"))).pipe(
    Effect.catchAll((e) => Effect.succeed(e._tag))
  )
)
process.stdout.write(outcome)
`

const run = (source: string, cwd: string) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.stderr.on("data", (d: Buffer) => (err += d.toString()))
    child.on("error", reject)
    child.on("close", () => resolve(out.trim() || `error: ${err}`))
  })

/** The pid of a process that has exited: what a SIGKILLed run leaves in the lock file. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])
  return Number(child.stdout.toString())
}

describe("embedded store lock (the data dir serves one process)", () => {
  it("several processes finding the same stale lock at once: exactly one takes it over", async () => {
    const root = path.resolve(import.meta.dirname, "../..")
    for (let round = 0; round < 4; round++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tisync-lock-"))
      fs.writeFileSync(path.join(dataDir, "tisync.lock"), `${deadPid()}\n`)
      const go = Date.now() + 1_500
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => run(contender(dataDir, go), root)))
      expect(outcomes.filter((o) => o === "won"), outcomes.join(", ")).toHaveLength(1)
      expect(outcomes.filter((o) => o === "StoreInUse")).toHaveLength(5)
      // The winner released it on exit; no take-over file is left behind.
      expect(fs.readdirSync(dataDir)).toEqual([])
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
