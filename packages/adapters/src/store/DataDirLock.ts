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

const codeOf = (e: unknown): unknown => (e instanceof Error && "code" in e ? e.code : undefined)

/**
 * Creates `file` holding our pid, atomically: the pid is written to a private file first and then hard
 * linked into place, so no other process ever sees the lock empty (an empty lock reads as "no holder" and
 * would be taken over). False when the file exists.
 */
const createHolding = (file: string): boolean => {
  const draft = `${file}.${process.pid}.draft`
  fs.writeFileSync(draft, `${process.pid}\n`, { mode: 0o600 })
  try {
    fs.linkSync(draft, file)
    return true
  } catch (e) {
    if (codeOf(e) === "EEXIST") return false
    throw e
  } finally {
    fs.rmSync(draft, { force: true })
  }
}

/** A lock whose holder is gone (or unreadable) is stale. */
const isStale = (file: string): boolean => {
  const holder = readHolder(file)
  return holder === null || (holder !== process.pid && !isAlive(holder))
}

/**
 * The embedded PGlite store serves one process at a time (DESIGN §3 "Crash safety"): a lock file next to
 * the data holds the owner's pid. A second live process is refused at once; a lock left by a process
 * that no longer exists (crash, SIGKILL) is taken over.
 *
 * Taking over is itself guarded by a second lock file: without it, two processes that both found the same
 * stale lock could each remove it, one of them removing the other's fresh lock, and both would hold the
 * store. Only the holder of `tisync.lock.takeover` may remove a stale lock, and it checks again first.
 */
export const acquireDataDirLock = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.suspend((): Effect.Effect<string, EventStoreError | StoreInUse> => {
      const file = path.join(dataDir, "tisync.lock")
      const takeover = `${file}.takeover`
      try {
        fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
        for (let attempt = 0; attempt < 50; attempt++) {
          if (createHolding(file)) return Effect.succeed(file)
          const holder = readHolder(file)
          if (holder !== null && holder !== process.pid && isAlive(holder)) {
            return Effect.fail(new StoreInUse({ dataDir, pid: holder }))
          }
          if (createHolding(takeover)) {
            try {
              if (isStale(file)) fs.rmSync(file, { force: true })
            } finally {
              fs.rmSync(takeover, { force: true })
            }
          } else if (isStale(takeover)) {
            // A process died in the few statements of a take-over.
            fs.rmSync(takeover, { force: true })
          } else {
            // Another process is taking over right now: look again in a moment.
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
          }
        }
        return Effect.fail(new EventStoreError({ operation: "lock data dir", reason: `could not take ${file}` }))
      } catch (e) {
        return Effect.fail(new EventStoreError({ operation: "lock data dir", reason: String(e) }))
      }
    }),
    (file) =>
      Effect.sync(() => {
        if (readHolder(file) === process.pid) fs.rmSync(file, { force: true })
      })
  )
