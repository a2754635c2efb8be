import { Schema } from "effect"
import { SourceIndicatorId } from "./Identifiers.js"

/** Where an indicator came from: `(system "threatconnect", ownerId, ownerName, indicatorId)`; ids are int64 strings. */
export const SourceRef = Schema.Struct({
  system: Schema.Literal("threatconnect"),
  ownerId: Schema.String,
  ownerName: Schema.String,
  indicatorId: SourceIndicatorId
})
export type SourceRef = typeof SourceRef.Type
