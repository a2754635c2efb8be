import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { EventStoreError, StoreInUse } from "@tisync/domain"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return e instanceof Error && "code" in e && e.code === "EPERM"
  }
}

const readHolder = (file: string): number | null => {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, "utf8").trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/**
 * The embedded PGlite store serves one process at a time (DESIGN §3 "Crash safety"): a lock file next to
 * the data holds the owner's pid. A second live process is refused at once; a lock left by a process
 * that no longer exists (crash, SIGKILL) is taken over.
 */
export const acquireDataDirLock = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.suspend((): Effect.Effect<string, EventStoreError | StoreInUse> => {
      const file = path.join(dataDir, "tisync.lock")
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const fd = fs.openSync(file, "wx", 0o600)
          fs.writeSync(fd, `${process.pid}\n`)
          fs.closeSync(fd)
          return Effect.succeed(file)
        } catch (e) {
          if (!(e instanceof Error && "code" in e && e.code === "EEXIST")) {
            return Effect.fail(new EventStoreError({ operation: "lock data dir", reason: String(e) }))
          }
          const holder = readHolder(file)
          if (holder !== null && holder !== process.pid && isAlive(holder)) {
            return Effect.fail(new StoreInUse({ dataDir, pid: holder }))
          }
          fs.rmSync(file, { force: true })
        }
      }
      return Effect.fail(new EventStoreError({ operation: "lock data dir", reason: `could not take ${file}` }))
    }),
    (file) =>
      Effect.sync(() => {
        if (readHolder(file) === process.pid) fs.rmSync(file, { force: true })
      })
  )
