import { Layer, type Redacted } from "effect"
import type { EventStore, EventStoreError, ProjectionStore, StoreInUse } from "@tisync/domain"
import type { DatabaseConfigError } from "./DatabaseUrl.js"
import { PgliteDatabaseLive } from "./PgliteDatabase.js"
import { PostgresDatabaseLive } from "./PostgresDatabase.js"
import type { SqlDatabase } from "./SqlDatabase.js"
import { SqlEventStoreLive } from "./SqlEventStore.js"
import { SqlProjectionStoreLive } from "./SqlProjectionStore.js"

export type StoreServices = EventStore | ProjectionStore | SqlDatabase

const onDatabase = <E>(database: Layer.Layer<SqlDatabase, E>): Layer.Layer<StoreServices, E> =>
  Layer.mergeAll(SqlEventStoreLive, SqlProjectionStoreLive).pipe(Layer.provideMerge(database))

/** The event log and projections on PostgreSQL (migrations applied on start). */
export const PostgresStoreLive = (
  url: Redacted.Redacted<string>
): Layer.Layer<StoreServices, EventStoreError | DatabaseConfigError> => onDatabase(PostgresDatabaseLive({ url }))

/** The event log and projections on the embedded PGlite store under `dataDir`. */
export const PgliteStoreLive = (dataDir: string): Layer.Layer<StoreServices, EventStoreError | StoreInUse> =>
  onDatabase(PgliteDatabaseLive({ dataDir }))
