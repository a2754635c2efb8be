// CPU time of a benchmark phase: this process (process.cpuUsage) and the PostgreSQL backends serving one
// database (utime + stime from /proc/<pid>/stat). The machine is shared, so wall time alone is noisy; CPU
// time says what the phase itself cost. The database figure is null when /proc is not readable (not Linux,
// or the server runs elsewhere).
import { readFileSync } from "node:fs"

const TICKS_PER_SECOND = 100

const ticksOf = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return null
  }
}

/**
 * `pids()` lists the backend pids of the database (e.g. from pg_stat_activity), polled at start and stop;
 * null when the database runs in this process (PGlite: its CPU is in the process figure).
 */
export const cpuClock = async (pids) => {
  const startNode = process.cpuUsage()
  const startTicks = new Map()
  for (const pid of (await pids()) ?? []) startTicks.set(pid, ticksOf(pid))
  return {
    stop: async () => {
      const node = process.cpuUsage(startNode)
      let ticks = 0
      const current = await pids()
      let readable = current !== null
      for (const pid of current ?? []) {
        const now = ticksOf(pid)
        if (now === null) readable = false
        else ticks += now - (startTicks.get(pid) ?? 0)
      }
      return {
        nodeCpuSeconds: +((node.user + node.system) / 1e6).toFixed(2),
        databaseCpuSeconds: readable ? +(ticks / TICKS_PER_SECOND).toFixed(2) : null
      }
    }
  }
}

/** Backend pids of database `name` on the server `admin` (a connected pg.Client) is on. */
export const backendPids = (admin, name) => async () =>
  (await admin.query("SELECT pid FROM pg_stat_activity WHERE datname = $1", [name])).rows.map((r) => r.pid)
