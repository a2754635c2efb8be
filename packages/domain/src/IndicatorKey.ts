import { Schema } from "effect"
import { StreamId, TargetId } from "./Identifiers.js"
import { DefenderIndicatorType } from "./IndicatorType.js"
import { sha256Hex } from "./Sha256.js"

/** Identity of one exported indicator: `(targetId, indicatorType, normalizedValue)` (DESIGN §3 "Identity"). */
export const IndicatorKey = Schema.Struct({
  targetId: TargetId,
  indicatorType: DefenderIndicatorType,
  value: Schema.String.pipe(Schema.minLength(1))
})
export type IndicatorKey = typeof IndicatorKey.Type

/** Values longer than this are replaced by their SHA-256 in the stream id (URLs can be kilobytes). */
const MAX_VALUE_IN_STREAM_ID = 100

export const indicatorStreamId = (key: IndicatorKey): StreamId => {
  const value = key.value.length > MAX_VALUE_IN_STREAM_ID ? `sha256:${sha256Hex(key.value)}` : key.value
  return StreamId.make(`indicator-${key.targetId}-${key.indicatorType}-${value}`)
}

export const runStreamId = (targetId: TargetId, runId: string): StreamId => StreamId.make(`run-${targetId}-${runId}`)
