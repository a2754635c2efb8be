import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** A new embedded-store data directory, copied from the migrated template made in globalSetup.ts. */
export const pgliteDataDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tisync-test-"))
  const template = process.env["TISYNC_TEST_PGLITE_TEMPLATE"]
  if (template !== undefined && fs.existsSync(path.join(template, "pgdata"))) {
    fs.cpSync(path.join(template, "pgdata"), path.join(dir, "pgdata"), { recursive: true })
  }
  return dir
}
