import { Effect } from "effect"
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from "kysely"
import { EventStoreError } from "@tisync/domain"
import type { AnyTables } from "./SqlDatabase.js"
import { scrubCredentials } from "./DatabaseUrl.js"

/**
 * Statements run one at a time: PGlite executes each query as a prepared statement, which takes a
 * single command. Statements are separated by a line holding only `--;;` (function bodies contain `;`).
 */
const raw = (text: string): Migration => ({
  up: async (db) => {
    for (const statement of text.split(/^--;;$/m).map((x) => x.trim()).filter((x) => x !== "")) {
      await sql.raw(statement).execute(db)
    }
  }
})

const PROJECTION_TABLES = ["proj_indicator_state", "proj_target_quota", "proj_target_last_run", "proj_run_summary"]

const projectionTable = (name: string): string => `
CREATE TABLE ${name} (
  key text PRIMARY KEY,
  target_id text NOT NULL,
  status text,
  value text,
  data jsonb NOT NULL
);
--;;
CREATE INDEX ${name}_target_status ON ${name} (target_id, status);
--;;
CREATE INDEX ${name}_value ON ${name} (value) WHERE value IS NOT NULL;
--;;`

/**
 * The event log (reference/architecture-anchors.md, lessons 1-4):
 * - `streams` holds each stream's version: appends compare-and-set it before any position is drawn.
 * - `events.transaction_id` (xid8) lets readers stay below the oldest running transaction, so an event
 *   committed late by a concurrent writer is waited for, never skipped.
 * - a trigger makes `events` append-only, for the application's own role too.
 */
const eventLog = raw(`
CREATE TABLE streams (
  stream_id text PRIMARY KEY,
  version bigint NOT NULL CHECK (version > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;;

CREATE SEQUENCE events_global_position_seq AS bigint;
--;;

CREATE TABLE events (
  global_position bigint NOT NULL DEFAULT nextval('events_global_position_seq') PRIMARY KEY,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id text NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  type text NOT NULL,
  schema_version integer NOT NULL,
  run_id text,
  data jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
--;;
ALTER SEQUENCE events_global_position_seq OWNED BY events.global_position;
--;;
CREATE INDEX events_transaction_position ON events (transaction_id, global_position);
--;;
CREATE INDEX events_run_id ON events (run_id) WHERE run_id IS NOT NULL;
--;;

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the events table is append-only: % is not allowed', TG_OP USING ERRCODE = 'TSA01';
END $$;
--;;
CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
--;;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
--;;

-- Appends to several streams at once, all or nothing. The stream rows are locked (in key order, so two
-- multi-stream appends cannot deadlock) and every version checked before a single nextval is drawn,
-- so a losing writer never burns global positions.
CREATE FUNCTION tisync_append(
  p_stream_ids text[], p_expected bigint[], p_counts integer[],
  p_event_streams text[], p_event_versions bigint[], p_types text[], p_schema_versions integer[],
  p_run_ids text[], p_data jsonb[]
) RETURNS TABLE (global_position bigint, transaction_id xid8) LANGUAGE plpgsql AS $$
DECLARE
  want_new integer;
  inserted text[];
  conflict record;
BEGIN
  PERFORM 1 FROM streams WHERE stream_id = ANY(p_stream_ids) ORDER BY stream_id FOR UPDATE;
  SELECT i.stream_id, i.expected, COALESCE(s.version, 0) AS actual INTO conflict
    FROM unnest(p_stream_ids, p_expected) AS i(stream_id, expected)
    LEFT JOIN streams s ON s.stream_id = i.stream_id
   WHERE COALESCE(s.version, 0) <> i.expected
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'TSV01',
      DETAIL = json_build_object('streamId', conflict.stream_id, 'expected', conflict.expected,
                                 'actual', conflict.actual)::text;
  END IF;
  UPDATE streams s SET version = i.expected + i.cnt, updated_at = now()
    FROM unnest(p_stream_ids, p_expected, p_counts) AS i(stream_id, expected, cnt)
   WHERE i.expected > 0 AND s.stream_id = i.stream_id;
  SELECT count(*) INTO want_new FROM unnest(p_expected) AS e WHERE e = 0;
  IF want_new > 0 THEN
    WITH created AS (
      INSERT INTO streams (stream_id, version)
        SELECT i.stream_id, i.cnt FROM unnest(p_stream_ids, p_expected, p_counts) AS i(stream_id, expected, cnt)
         WHERE i.expected = 0
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING stream_id
    )
    SELECT COALESCE(array_agg(created.stream_id), '{}') INTO inserted FROM created;
    IF cardinality(inserted) <> want_new THEN
      -- A concurrent writer created one of these streams first (we waited for its commit).
      SELECT i.stream_id, i.expected, s.version AS actual INTO conflict
        FROM unnest(p_stream_ids, p_expected) AS i(stream_id, expected)
        JOIN streams s ON s.stream_id = i.stream_id
       WHERE i.expected = 0 AND NOT (i.stream_id = ANY(inserted))
       LIMIT 1;
      RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'TSV01',
        DETAIL = json_build_object('streamId', conflict.stream_id, 'expected', 0, 'actual', conflict.actual)::text;
    END IF;
  END IF;
  RETURN QUERY
    INSERT INTO events (stream_id, version, type, schema_version, run_id, data)
    SELECT e.stream_id, e.version, e.type, e.schema_version, e.run_id, e.data
      FROM unnest(p_event_streams, p_event_versions, p_types, p_schema_versions, p_run_ids, p_data)
           WITH ORDINALITY AS e(stream_id, version, type, schema_version, run_id, data, ord)
     ORDER BY e.ord
    RETURNING events.global_position, events.transaction_id;
END $$;
--;;

-- Who holds a target: written by the holder of the advisory lock, read by the run that is refused.
CREATE TABLE target_locks (
  target_id text PRIMARY KEY,
  run_id text NOT NULL,
  backend_pid integer NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now()
);
--;;
`)

const projections = raw(`
${PROJECTION_TABLES.map(projectionTable).join("\n")}
${PROJECTION_TABLES.map((t) => projectionTable(`${t}_shadow`)).join("\n")}

-- One checkpoint per projection and side, moved by compare-and-set in the transaction that writes rows.
CREATE TABLE projection_checkpoints (
  name text NOT NULL,
  side text NOT NULL CHECK (side IN ('live', 'shadow')),
  transaction_id xid8 NOT NULL DEFAULT '0',
  position bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, side)
);
--;;
INSERT INTO projection_checkpoints (name, side)
  SELECT n, s FROM unnest(ARRAY['indicator_state', 'target_quota', 'target_last_run', 'run_summary']) AS n,
                   unnest(ARRAY['live', 'shadow']) AS s;
`)

export const MIGRATIONS: Record<string, Migration> = {
  "0001_event_log": eventLog,
  "0002_projections": projections
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS }

/** Applies every pending migration (run on start and by `tisync migrate`); returns the names applied. */
export const migrateToLatest = (db: Kysely<AnyTables>): Effect.Effect<ReadonlyArray<string>, EventStoreError> =>
  Effect.tryPromise({
    try: () => new Migrator({ db, provider }).migrateToLatest(),
    catch: (e) => new EventStoreError({ operation: "migrate", reason: scrubCredentials(String(e)) })
  }).pipe(
    Effect.flatMap(({ error, results }) =>
      error === undefined
        ? Effect.succeed((results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName))
        : Effect.fail(
            new EventStoreError({
              operation: "migrate",
              reason: scrubCredentials(error instanceof Error ? error.message : String(error))
            })
          )
    )
  )
