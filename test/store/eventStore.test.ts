import { describe } from "@effect/vitest"
import { postgresAvailable } from "../support/postgres.js"
import { eventStoreSuite } from "./EventStoreSuite.js"
import { memoryStore, pgliteStore, postgresStore } from "./storeLayers.js"

const memory = memoryStore()
eventStoreSuite("memory", memory.layer, memory.harness)

const pglite = pgliteStore()
eventStoreSuite("pglite", pglite.layer, pglite.harness)

if (postgresAvailable) {
  const pg = postgresStore()
  eventStoreSuite("postgres", pg.layer, pg.harness)
} else {
  describe.skip("EventStore conformance (postgres): TISYNC_TEST_DATABASE_URL is not set", () => {})
}
