import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postgresAvailable } from "../support/postgres.js"
import { CliWorld, OWNERS, type StoreKind } from "./CliWorld.js"

const KINDS: ReadonlyArray<StoreKind> = postgresAvailable ? ["pglite", "postgres"] : ["pglite"]

/** Distinctive values: if any of them shows up anywhere, a secret leaked. */
const TC_TOKEN = "APIV2:999:leakcheck:1234567890123:TcTokenZq7Xw9"
const CLIENT_SECRET = "AzureSecret-Kp4Jm8Vn2Rt6"
const WRONG_SECRET = "WrongAzureSecret-Hq3Ls5Yd1"

const filesUnder = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name)
    return e.isDirectory() ? filesUnder(full) : e.isFile() ? [full] : []
  })

describe.each(KINDS)("secrets never leave the process (%s)", (kind) => {
  let world: CliWorld
  const outputs: Array<string> = []
  const policy = ["--owners", OWNERS, "--lastRunDays", "31"]

  beforeAll(async () => {
    world = await CliWorld.start(kind, { indicators: 30, tcToken: TC_TOKEN, clientSecret: CLIENT_SECRET })
    const runs: ReadonlyArray<ReadonlyArray<string>> = [
      ["migrate", "--json"],
      ["plan", "--json", ...policy],
      ["sync", "--json", ...policy],
      ["sync", ...policy],
      ["status", "--json"],
      ["status"],
      ["runs", "--json"],
      ["history", "45.33.32.158", "--json"],
      ["replay", "--verify", "--json"],
      ["reconcile", "--json"],
      ["submit", "--type", "IpAddress", "--value", "45.33.32.157", "--json"],
      ["revoke", "45.33.32.157", "--json"],
      ["sync", "--json", "--logLevel", "Debug", ...policy]
    ]
    for (const args of runs) {
      const r = await world.run(args, { AZURE_CLIENT_SECRET: CLIENT_SECRET })
      outputs.push(`$ tisync ${args.join(" ")} -> ${r.code}\n${r.stdout}\n${r.stderr}`)
    }
    // Failures must not leak either: a refused secret (MSAL's error path), a refused ThreatConnect token.
    const refused = await world.run(["sync", "--json", "--logLevel", "Debug", ...policy], { AZURE_CLIENT_SECRET: WRONG_SECRET })
    outputs.push(`refused secret -> ${refused.code}`, refused.stdout, refused.stderr)
    const tcRefused = await world.run(["sync", "--json", "--logLevel", "Debug", ...policy], {
      AZURE_CLIENT_SECRET: CLIENT_SECRET,
      TC_API_TOKEN: `${TC_TOKEN}-revoked`
    })
    outputs.push(`refused token -> ${tcRefused.code}`, tcRefused.stdout, tcRefused.stderr)
  }, 300_000)
  afterAll(async () => world?.close())

  it("the commands ran (so there was something to leak)", () => {
    const all = outputs.join("\n")
    expect(all).toContain("$ tisync sync --json --owners")
    expect(all).toMatch(/\$ tisync sync --json --owners [^\n]* -> 0/)
    expect(all).toContain("refused secret -> 1")
    expect(all).toContain("refused token -> 1")
    expect(world.defender.simulator.indicators().length).toBeGreaterThan(0)
  })

  it("no secret in stdout, stderr or logs of any command, including failures", () => {
    const all = outputs.join("\n")
    for (const secret of [TC_TOKEN, CLIENT_SECRET, WRONG_SECRET]) expect(all).not.toContain(secret)
  })

  it("no secret in the event log, the projections or the embedded data dir", async () => {
    const secrets = [TC_TOKEN, CLIENT_SECRET, WRONG_SECRET]
    if (kind === "pglite") {
      const dir = world.storeEnv["TISYNC_DATA_DIR"] ?? ""
      const files = filesUnder(dir)
      expect(files.length).toBeGreaterThan(0)
      for (const file of files) {
        const bytes = fs.readFileSync(file)
        for (const secret of secrets) expect(bytes.includes(Buffer.from(secret)), `${secret} in ${file}`).toBe(false)
      }
    } else {
      const client = new pg.Client({ connectionString: world.storeEnv["TISYNC_DATABASE_URL"] })
      await client.connect()
      try {
        for (const secret of secrets) {
          const found = await client.query(
            `SELECT (SELECT count(*) FROM events WHERE data::text LIKE $1)
                  + (SELECT count(*) FROM proj_indicator_state WHERE data::text LIKE $1)
                  + (SELECT count(*) FROM proj_run_summary WHERE data::text LIKE $1) AS n`,
            [`%${secret}%`]
          )
          expect(Number(found.rows[0]?.n)).toBe(0)
        }
        const events = await client.query("SELECT count(*) AS n FROM events")
        expect(Number(events.rows[0]?.n)).toBeGreaterThan(0)
      } finally {
        await client.end()
      }
    }
  })
})
