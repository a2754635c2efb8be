import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { Kysely } from "kysely"
import { PGliteDialect } from "kysely-pglite-dialect"
import { Effect } from "effect"
import { migrateToLatest } from "../../packages/adapters/src/store/Migrations.js"
import type { AnyTables } from "../../packages/adapters/src/store/SqlDatabase.js"

/**
 * A fresh PGlite data directory costs an initdb (about 7 s on this machine). One migrated template is
 * made per test run; suites copy it (`pgliteDataDir()` in pglite.ts) in well under a second.
 */
export default async function setup(): Promise<() => void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tisync-pglite-template-"))
  const pgdata = path.join(root, "pgdata")
  const pglite = await PGlite.create(pgdata)
  const db = new Kysely<AnyTables>({ dialect: new PGliteDialect(pglite) })
  await Effect.runPromise(migrateToLatest(db))
  await pglite.close()
  process.env["TISYNC_TEST_PGLITE_TEMPLATE"] = root
  return () => fs.rmSync(root, { recursive: true, force: true })
}
