/**
 * When the daemon runs a target (issue 7 item 2). Pure: times are Unix milliseconds, the jitter a
 * fraction in [0, MAX_JITTER) drawn by the caller, so tests can pin it.
 */

/** Up to 10% of the interval is added to each wait, so many installations do not call the APIs in step. */
export const MAX_JITTER = 0.1

/**
 * The first run after the daemon starts: at once when the target never completed a run or its last
 * completed run is at least one interval old (one catch-up run, however many intervals were missed);
 * otherwise one interval (plus jitter) after that run, as if the daemon had never stopped.
 */
export const firstRunAt = (input: {
  readonly lastCompletedAtMillis: number | null
  readonly nowMillis: number
  readonly intervalMillis: number
  readonly jitter: number
}): number => {
  const { lastCompletedAtMillis: last, nowMillis: now, intervalMillis: interval } = input
  if (last === null || now - last >= interval) return now
  return Math.max(now, nextRunAt(last, interval, input.jitter))
}

/** The run after one that finished at `finishedAtMillis` (completed or failed). */
export const nextRunAt = (finishedAtMillis: number, intervalMillis: number, jitter: number): number =>
  finishedAtMillis + Math.round(intervalMillis * (1 + jitter))

/** The targets whose run is due at `nowMillis`, and the earliest due time otherwise. */
export const dueTargets = (due: ReadonlyMap<string, number>, nowMillis: number): { readonly due: ReadonlyArray<string>; readonly nextAtMillis: number | null } => {
  const ready = [...due].filter(([, at]) => at <= nowMillis).map(([id]) => id)
  const later = [...due.values()].filter((at) => at > nowMillis)
  return { due: ready, nextAtMillis: later.length === 0 ? null : Math.min(...later) }
}
