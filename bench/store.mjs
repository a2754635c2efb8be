// `npm run bench -- store`: the event store and projection replay on PostgreSQL and on PGlite.
// Writes bench/results/store.json. Imports the BUILT packages (run `npx tsc -b` first; `npm run bench` does).
//
// For each engine, on a fresh database:
// 1. append: N events (PostgreSQL 1,000,000; PGlite 200,000) as indicator streams of 1-3 events
//    (IndicatorSelected, IndicatorMapped, IndicatorSubmitted, as the sync writes them), in batches of 500
//    events per transaction through `EventStore.appendMany`. Timed: the appendMany calls only (encoding
//    included); building the event objects, which is the caller's work, is not.
// 2. replay: `rebuildShadow` (read the whole log, decode every row through Schema, fold, write the shadow
//    projections batch by batch) then `promoteShadow` + catch-up, i.e. what `tisync replay` does. Timed whole.
// Peak RSS is sampled every 100 ms per phase; CPU time (this process, and the PostgreSQL backends of the
// bench database) is recorded per phase next to wall time, since the machine is shared. Goals (DESIGN issue 2, 2-core machine): PostgreSQL append
// >= 50,000 events/s, replay >= 100,000 events/s.
//
// Environment: TISYNC_BENCH_DATABASE_URL (else TISYNC_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
// names a server where a database can be created; BENCH_STORE_EVENTS / BENCH_STORE_PGLITE_EVENTS override N;
// BENCH_STORE_ENGINES=postgres,pglite picks engines.
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { DateTime, Effect, Redacted } from "effect"
import {
  emptyApiCalls,
  EventStore,
  ProjectionStore,
  emptyRunCounts,
  IndicatorMapped,
  IndicatorSelected,
  IndicatorSubmitted,
  indicatorStreamId,
  RunCompleted,
  RunId,
  RunStarted,
  runStreamId,
  SourceIndicatorId,
  TargetId
} from "@tisync/domain"
import { PgliteStoreLive, PostgresStoreLive } from "@tisync/adapters"
import { rebuildShadow, catchUp } from "@tisync/app"
import { backendPids, cpuClock } from "./cpu-time.mjs"

const here = dirname(fileURLToPath(import.meta.url))
const BATCH = 500
const POSTGRES_EVENTS = Number(process.env.BENCH_STORE_EVENTS ?? "1000000")
const PGLITE_EVENTS = Number(process.env.BENCH_STORE_PGLITE_EVENTS ?? "200000")
const ENGINES = (process.env.BENCH_STORE_ENGINES ?? "postgres,pglite").split(",")
const SERVER_URL =
  process.env.TISYNC_BENCH_DATABASE_URL ?? process.env.TISYNC_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

const target = TargetId.make("default")
const T0 = DateTime.unsafeMake("2026-01-01T00:00:00Z")
const EXPIRES = DateTime.unsafeMake("2026-02-01T00:00:00Z")
const OWNERS = [
  ["1", "ACME Corp"],
  ["2", "Demo Community"],
  ["3", "Partner Source"]
]

/** A small deterministic PRNG so every run appends the same log. */
const prng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const hex = (i, len) => {
  let s = ""
  let x = i + 1
  while (s.length < len) {
    x = Math.imul(x ^ (x >>> 13), 0x5bd1e995) >>> 0
    s += x.toString(16).padStart(8, "0")
  }
  return s.slice(0, len)
}

/** The i-th indicator: a realistic mix of the Defender types tisync writes. */
const keyOf = (i) => {
  switch (i % 4) {
    case 0:
      return { type: "Address", key: { targetId: target, indicatorType: "IpAddress", value: `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } }
    case 1:
      return { type: "Host", key: { targetId: target, indicatorType: "DomainName", value: `c2-${hex(i, 10)}.example-bad.net` } }
    case 2:
      return { type: "File", key: { targetId: target, indicatorType: "FileSha256", value: hex(i, 64) } }
    default:
      return {
        type: "URL",
        key: { targetId: target, indicatorType: "Url", value: `https://phish-${hex(i, 8)}.example.org/login/${hex(i + 7, 12)}?session=${i}` }
      }
  }
}

const minutes = (m) => DateTime.add(T0, { minutes: m })

/**
 * The events of indicator `i`'s stream, the first `count` of selected -> mapped -> submitted. Constructed
 * with validation off (`true`): the bench builds a million of them and they are valid by construction;
 * the store encodes and decodes them through Schema like any other.
 */
const streamEvents = (i, count, runId, rnd) => {
  const { type, key } = keyOf(i)
  const [ownerId, ownerName] = OWNERS[i % OWNERS.length]
  const indicatorId = SourceIndicatorId.make(String(9007199254000000 + i))
  const at = minutes(i % 10_000)
  const out = [
    new IndicatorSelected(
      {
        schemaVersion: 1,
        runId,
        at,
        key,
        source: { system: "threatconnect", ownerId, ownerName, indicatorId },
        sourceLastModified: at,
        rank: { threatAssessScore: Math.floor(rnd() * 1000), rating: Math.floor(rnd() * 6), confidence: Math.floor(rnd() * 101), lastModified: at },
        contentHash: hex(i + 11, 64)
      },
      true
    )
  ]
  if (count >= 2) {
    out.push(
      new IndicatorMapped(
        {
          schemaVersion: 1,
          runId,
          at,
          key,
          payload: {
            indicatorValue: key.value,
            indicatorType: key.indicatorType,
            action: "Audit",
            generateAlert: true,
            title: `ThreatConnect ${type}: ${key.value}`.slice(0, 250),
            description: `ThreatConnect ${type} | Owner: ${ownerName} | Id: ${ownerId} | Confidence: 80 | Tags: apt, c2`,
            severity: "Medium",
            expirationTime: "2026-02-01T00:00:00Z",
            externalId: `threatconnect:${indicatorId}`
          },
          payloadHash: hex(i + 13, 64),
          intent: "create"
        },
        true
      )
    )
  }
  if (count >= 3) {
    out.push(
      new IndicatorSubmitted(
        {
          schemaVersion: 1,
          runId,
          at,
          key,
          defenderId: String(100000 + i),
          payloadHash: hex(i + 13, 64),
          action: "Audit",
          expiresAt: EXPIRES,
          intent: "create"
        },
        true
      )
    )
  }
  return { streamId: indicatorStreamId(key), events: out }
}

const uuid7 = (n) => {
  const h = (0x19b00000000 + n).toString(16).padStart(12, "0")
  return RunId.make(`${h.slice(0, 8)}-${h.slice(8, 12)}-7000-8000-${n.toString(16).padStart(12, "0")}`)
}

/**
 * Yields batches of exactly BATCH events: indicator streams of 1-3 events (a stream cut by the batch
 * boundary continues in the next batch with its expected version), one run per 100,000 events with its
 * RunStarted first and RunCompleted last.
 */
function* batches(total) {
  const rnd = prng(42)
  const RUN_EVERY = 100_000
  let produced = 0
  let indicator = 0
  let carry = null // { streamId, events, expectedVersion }
  let runNo = 0
  let runId = null
  while (produced < total) {
    const size = Math.min(BATCH, total - produced)
    const requests = []
    let n = 0
    if (produced % RUN_EVERY === 0) {
      runNo++
      runId = uuid7(runNo)
      requests.push({
        streamId: runStreamId(target, runId),
        expectedVersion: 0,
        events: [new RunStarted({ schemaVersion: 1, runId, at: T0, targetId: target, mode: "full", since: null, policyHash: "bench" }, true)]
      })
      n++
    }
    const closesRun = (produced + size) % RUN_EVERY === 0 || produced + size === total
    const room = () => size - n - (closesRun ? 1 : 0)
    while (room() > 0) {
      if (carry === null) {
        const count = 1 + Math.floor(rnd() * 3)
        const s = streamEvents(indicator++, count, runId, rnd)
        carry = { streamId: s.streamId, events: s.events, expectedVersion: 0 }
      }
      const take = Math.min(room(), carry.events.length)
      requests.push({ streamId: carry.streamId, expectedVersion: carry.expectedVersion, events: carry.events.slice(0, take) })
      n += take
      carry = take === carry.events.length ? null : { ...carry, events: carry.events.slice(take), expectedVersion: carry.expectedVersion + take }
    }
    if (closesRun) {
      requests.push({
        streamId: runStreamId(target, runId),
        expectedVersion: 1,
        events: [
          new RunCompleted(
            {
              schemaVersion: 1,
              runId,
              at: minutes(60),
              targetId: target,
              watermark: minutes(60),
              counts: { ...emptyRunCounts, selected: indicator, submitted: indicator },
              apiCalls: { ...emptyApiCalls, import: Math.ceil(indicator / 500) },
              quota: { limit: 15000, reserve: 0, foreign: 0, live: 15000, capacity: 15000 },
              notes: []
            },
            true
          )
        ]
      })
      n++
    }
    produced += n
    yield requests
  }
}

/** Peak RSS, sampled every 100 ms while `f` runs. */
const withPeakRss = async (f) => {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 100)
  try {
    const value = await f()
    peak = Math.max(peak, process.memoryUsage().rss)
    return { value, peakRssMb: Math.round(peak / 1048576) }
  } finally {
    clearInterval(timer)
  }
}

const round = (x) => Math.round(x)

/** Runs append and replay on one store layer; returns the figures. */
const measure = async (engine, layer, total, pids) => {
  const program = Effect.gen(function* () {
    const store = yield* EventStore
    const projections = yield* ProjectionStore
    const runP = (eff) => Effect.runPromise(eff)

    global.gc?.()
    const append = yield* Effect.promise(() =>
      withPeakRss(async () => {
        const cpu = await cpuClock(pids)
        let events = 0
        let storeMs = 0
        const wallStart = performance.now()
        for (const requests of batches(total)) {
          const t = performance.now()
          await runP(store.appendMany(requests))
          storeMs += performance.now() - t
          for (const r of requests) events += r.events.length
        }
        return { events, storeMs, wallMs: performance.now() - wallStart, cpu: await cpu.stop() }
      })
    )
    console.error(
      `[${engine}] append: ${append.value.events} events in ${(append.value.storeMs / 1000).toFixed(1)} s in the store` +
        ` (${round(append.value.events / (append.value.storeMs / 1000))} events/s), peak RSS ${append.peakRssMb} MB, cpu ${JSON.stringify(append.value.cpu)}`
    )

    global.gc?.()
    const replay = yield* Effect.promise(() =>
      withPeakRss(async () => {
        const cpu = await cpuClock(pids)
        const t = performance.now()
        const rebuilt = await runP(rebuildShadow().pipe(Effect.provideService(EventStore, store), Effect.provideService(ProjectionStore, projections)))
        const rebuildMs = performance.now() - t
        const rebuildCpu = await cpu.stop()
        await runP(projections.promoteShadow)
        await runP(catchUp("live").pipe(Effect.provideService(EventStore, store), Effect.provideService(ProjectionStore, projections)))
        return { events: rebuilt.events, rebuildMs, totalMs: performance.now() - t, rebuildCpu, totalCpu: await cpu.stop() }
      })
    )
    console.error(
      `[${engine}] replay: ${replay.value.events} events, rebuild ${(replay.value.rebuildMs / 1000).toFixed(1)} s` +
        ` (${round(replay.value.events / (replay.value.rebuildMs / 1000))} events/s), with promote ${(replay.value.totalMs / 1000).toFixed(1)} s,` +
        ` peak RSS ${replay.peakRssMb} MB, cpu ${JSON.stringify(replay.value.rebuildCpu)}`
    )
    const rows = yield* projections.compare
    return {
      events: append.value.events,
      append: {
        eventsPerSecond: round(append.value.events / (append.value.storeMs / 1000)),
        seconds: +(append.value.storeMs / 1000).toFixed(2),
        wallSecondsWithEventConstruction: +(append.value.wallMs / 1000).toFixed(2),
        batchSize: BATCH,
        cpu: append.value.cpu,
        peakRssMb: append.peakRssMb
      },
      replay: {
        eventsPerSecond: round(replay.value.events / (replay.value.rebuildMs / 1000)),
        seconds: +(replay.value.rebuildMs / 1000).toFixed(2),
        withPromoteEventsPerSecond: round(replay.value.events / (replay.value.totalMs / 1000)),
        withPromoteSeconds: +(replay.value.totalMs / 1000).toFixed(2),
        cpu: replay.value.rebuildCpu,
        withPromoteCpu: replay.value.totalCpu,
        replayedEvents: replay.value.events,
        projectionRows: Object.fromEntries(rows.map((r) => [r.name, r.rows])),
        peakRssMb: replay.peakRssMb
      },
      peakRssMb: Math.max(append.peakRssMb, replay.peakRssMb)
    }
  })
  return Effect.runPromise(Effect.scoped(Effect.provide(program, layer)))
}

const onPostgres = async () => {
  const name = `tisync_bench_${randomBytes(5).toString("hex")}`
  const admin = new pg.Client({ connectionString: SERVER_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(SERVER_URL)
  url.pathname = `/${name}`
  try {
    const server = (await admin.query("SELECT current_setting('server_version') AS v")).rows[0].v
    const figures = await measure("postgres", PostgresStoreLive(Redacted.make(url.toString())), POSTGRES_EVENTS, backendPids(admin, name))
    return { serverVersion: server, ...figures }
  } finally {
    if (process.env.BENCH_STORE_KEEP_DB === "1") console.error(`kept database ${name}`)
    else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

const onPglite = async () => {
  const dir = mkdtempSync(join(tmpdir(), "tisync-bench-"))
  try {
    return await measure("pglite", PgliteStoreLive(dir), PGLITE_EVENTS, async () => null)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function run() {
  const engines = {}
  if (ENGINES.includes("postgres")) engines.postgres = await onPostgres()
  if (ENGINES.includes("pglite")) engines.pglite = await onPglite()
  const result = {
    benchmark: "store",
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import("node:os")).cpus().length,
    goals: { postgres: { appendEventsPerSecond: 50_000, replayEventsPerSecond: 100_000 } },
    engines,
    met:
      engines.postgres === undefined
        ? null
        : engines.postgres.append.eventsPerSecond >= 50_000 && engines.postgres.replay.eventsPerSecond >= 100_000
  }
  mkdirSync(join(here, "results"), { recursive: true })
  writeFileSync(join(here, "results", "store.json"), JSON.stringify(result, null, 2) + "\n")
  console.log(JSON.stringify(result, null, 2))
}
