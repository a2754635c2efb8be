import { Schema } from "effect"

/** A Defender tenant this installation syncs into (DESIGN §3 "Target"). */
export const TargetId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    message: () => "a target id is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
  }),
  Schema.brand("TargetId")
)
export type TargetId = typeof TargetId.Type
export const DEFAULT_TARGET_ID: TargetId = TargetId.make("default")

/** UUIDv7 (time-ordered) as produced by the IdGenerator port. */
export const RunId = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, {
    message: () => "a run id is a lower-case UUIDv7"
  }),
  Schema.brand("RunId")
)
export type RunId = typeof RunId.Type

/**
 * ThreatConnect ids are int64. JSON numbers above 2^53 lose precision in JavaScript, so they are
 * carried as decimal strings end to end (reference/threatconnect-api.md §6.1).
 */
export const SourceIndicatorId = Schema.String.pipe(
  Schema.pattern(/^-?\d{1,20}$/, { message: () => "a ThreatConnect id is an integer" }),
  Schema.brand("SourceIndicatorId")
)
export type SourceIndicatorId = typeof SourceIndicatorId.Type

/** Name of an event stream: `indicator-<target>-<type>-<value>` or `run-<target>-<runId>`. */
export const StreamId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200), Schema.brand("StreamId"))
export type StreamId = typeof StreamId.Type
