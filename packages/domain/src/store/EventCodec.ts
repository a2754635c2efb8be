import { Either, ParseResult, Schema } from "effect"
import {
  CURRENT_SCHEMA_VERSION,
  type DomainEvent,
  IndicatorDeferred,
  IndicatorExpired,
  IndicatorMapped,
  IndicatorRejected,
  IndicatorRejectedDuplicate,
  IndicatorRevoked,
  IndicatorSelected,
  IndicatorSubmitted,
  RunCompleted,
  RunFailed,
  RunStarted,
  type DomainEventType
} from "../Events.js"
import { encodeEventBody } from "./EventEncoders.js"

/** An event as it is written to the `events` table. */
export interface EncodedEvent {
  readonly type: DomainEventType
  readonly schemaVersion: number
  readonly runId: string | null
  /** JSON text of the encoded event (including `_tag`). */
  readonly data: string
}

export const encodeEvent = (event: DomainEvent): EncodedEvent => ({
  type: event._tag,
  schemaVersion: event.schemaVersion,
  runId: event.runId,
  data: JSON.stringify(encodeEventBody(event))
})

const decoders: Record<DomainEventType, (u: unknown) => Either.Either<DomainEvent, ParseResult.ParseError>> = {
  IndicatorSelected: Schema.decodeUnknownEither(IndicatorSelected),
  IndicatorMapped: Schema.decodeUnknownEither(IndicatorMapped),
  IndicatorSubmitted: Schema.decodeUnknownEither(IndicatorSubmitted),
  IndicatorRejectedDuplicate: Schema.decodeUnknownEither(IndicatorRejectedDuplicate),
  IndicatorRejected: Schema.decodeUnknownEither(IndicatorRejected),
  IndicatorDeferred: Schema.decodeUnknownEither(IndicatorDeferred),
  IndicatorExpired: Schema.decodeUnknownEither(IndicatorExpired),
  IndicatorRevoked: Schema.decodeUnknownEither(IndicatorRevoked),
  RunStarted: Schema.decodeUnknownEither(RunStarted),
  RunCompleted: Schema.decodeUnknownEither(RunCompleted),
  RunFailed: Schema.decodeUnknownEither(RunFailed)
}

const isKnownType = (type: string): type is DomainEventType => Object.hasOwn(decoders, type)

/**
 * Upcasters turn the stored JSON of an older schema version into the current shape before decoding.
 * None are needed yet: version 1 is the only one. Register `[type]: { [fromVersion]: upcast }` here.
 */
const upcasters: Partial<Record<DomainEventType, Record<number, (data: unknown) => unknown>>> = {}

const upcast = (type: DomainEventType, schemaVersion: number, data: unknown): unknown => {
  let current = data
  for (let v = schemaVersion; v < CURRENT_SCHEMA_VERSION; v++) {
    const step = upcasters[type]?.[v]
    if (step !== undefined) current = step(current)
  }
  return current
}

/** Decodes one stored row; `Left` carries the reason (the store names stream and position). */
export const decodeStoredEvent = (
  type: string,
  schemaVersion: number,
  data: unknown
): Either.Either<DomainEvent, string> => {
  if (!isKnownType(type)) return Either.left(`unknown event type ${JSON.stringify(type)}`)
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > CURRENT_SCHEMA_VERSION) {
    return Either.left(`unsupported schema version ${schemaVersion} for ${type}`)
  }
  const body = typeof data === "string" ? safeParse(data) : Either.right(data)
  return Either.flatMap(body, (json) =>
    Either.mapLeft(decoders[type](withTag(type, upcast(type, schemaVersion, json))), (e) =>
      ParseResult.TreeFormatter.formatErrorSync(e)
    )
  )
}

/** The `type` column is authoritative: the body gets its tag (copied only when it differs, the rare case). */
const withTag = (type: string, json: unknown): unknown =>
  typeof json === "object" && json !== null && !Array.isArray(json) && !("_tag" in json && json._tag === type)
    ? { ...json, _tag: type }
    : json

const safeParse = (text: string): Either.Either<unknown, string> =>
  Either.try({ try: (): unknown => JSON.parse(text), catch: () => "stored data is not JSON" })
