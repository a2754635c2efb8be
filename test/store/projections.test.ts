import { describe } from "@effect/vitest"
import { Effect } from "effect"
import { sql } from "kysely"
import { SqlDatabase } from "@tisync/adapters"
import { postgresAvailable } from "../support/postgres.js"
import { projectionSuite, type ProjectionHarness } from "./ProjectionSuite.js"
import { memoryStore, pgliteStore, postgresStore } from "./storeLayers.js"

projectionSuite("memory", () => {
  const { layer, projections } = memoryStore()
  const harness: ProjectionHarness<never> = {
    tamper: (streamId) =>
      Effect.sync(() => {
        const json = projections.live.tables.indicator_state.get(streamId)
        if (json !== undefined) projections.live.tables.indicator_state.set(streamId, json.replace('"live"', '"revoked"'))
      })
  }
  return { layer, harness }
})

const sqlTamper: ProjectionHarness<SqlDatabase> = {
  tamper: (streamId) =>
    Effect.flatMap(SqlDatabase, ({ db }) =>
      Effect.promise(() =>
        sql`UPDATE proj_indicator_state SET data = jsonb_set(data, '{status}', '"revoked"') WHERE key = ${streamId}`.execute(db)
      )
    )
}

projectionSuite("pglite", () => ({ layer: pgliteStore().layer, harness: sqlTamper }))

if (postgresAvailable) {
  projectionSuite("postgres", () => ({ layer: postgresStore().layer, harness: sqlTamper }))
} else {
  describe.skip("projections (postgres): TISYNC_TEST_DATABASE_URL is not set", () => {})
}
