import { randomBytes } from "node:crypto"
import pg from "pg"

/** Set by `.ci/run` (and by developers with a server): the store and e2e suites then also run on PostgreSQL. */
export const TEST_DATABASE_URL = process.env["TISYNC_TEST_DATABASE_URL"]

export const postgresAvailable = TEST_DATABASE_URL !== undefined && TEST_DATABASE_URL !== ""

/**
 * Creates an empty database next to the one named by TISYNC_TEST_DATABASE_URL, so suites running in
 * parallel never see each other's events. Returns its URL and a function that drops it.
 */
export const freshPostgresDatabase = async (): Promise<{ readonly url: string; readonly drop: () => Promise<void> }> => {
  if (TEST_DATABASE_URL === undefined) throw new Error("TISYNC_TEST_DATABASE_URL is not set")
  const name = `tisync_t_${randomBytes(6).toString("hex")}`
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    }
  }
}
