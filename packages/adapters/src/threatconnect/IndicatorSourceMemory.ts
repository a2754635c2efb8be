import { Context, DateTime, Effect, Layer, Ref, Stream } from "effect"
import {
  buildTql,
  IndicatorSource,
  SourceItem,
  SourceQueryError,
  type SourceDeletion,
  type SourceIndicator,
  type SourceIndicatorId,
  type SourceRecordRejected
} from "@tisync/domain"
import { evaluateTql, indicatorTqlLanguage, mentionsKeyword, parseTql, TqlParseError, type TqlScalar, type TqlSubject } from "./simulator/TqlEvaluator.js"

/**
 * The in-memory fake of `IndicatorSource`: records held as decoded `SourceIndicator`s, selected with the same
 * TQL the adapter sends (`buildTql`), parsed and evaluated by the simulator's TQL evaluator, so the fake and
 * the real adapter agree by construction. Only active records are listed (as ThreatConnect does) unless the
 * query mentions `indicatorActive`. One "request" is counted per stream run.
 */
export interface IndicatorSourceMemoryState {
  readonly records: ReadonlyMap<string, SourceIndicator>
  /** Records that fail decoding upstream, served (when modified since the watermark) as rejections. */
  readonly rejected: ReadonlyArray<{ readonly rejection: SourceRecordRejected; readonly lastModified: DateTime.Utc }>
  readonly deleted: ReadonlyArray<SourceDeletion>
}

export class IndicatorSourceMemoryControl extends Context.Tag("@tisync/adapters/IndicatorSourceMemoryControl")<
  IndicatorSourceMemoryControl,
  {
    /** Add or replace a record (its `lastModified` is taken as given). */
    readonly put: (record: SourceIndicator) => Effect.Effect<void>
    /** A record that cannot be decoded (raw id and reason), listed as of `lastModified`. */
    readonly putRejected: (rejection: SourceRecordRejected, lastModified: DateTime.Utc) => Effect.Effect<void>
    /** Delete a record: it leaves the listing and is reported by `deletions`. */
    readonly remove: (id: SourceIndicatorId, at: DateTime.Utc) => Effect.Effect<void>
    readonly reset: Effect.Effect<void>
    readonly state: Effect.Effect<IndicatorSourceMemoryState>
  }
>() {}

const empty: IndicatorSourceMemoryState = { records: new Map(), rejected: [], deleted: [] }

const subjectOf = (r: SourceIndicator): TqlSubject => ({
  field: (keyword): TqlScalar | ReadonlyArray<TqlScalar> | null => {
    switch (keyword) {
      case "id":
        return r.id
      case "owner":
        return r.ownerId
      case "ownername":
        return r.ownerName
      case "typename":
        return r.type
      case "summary":
        return r.summary
      case "rating":
        return r.rating
      case "confidence":
        return r.confidence
      case "threatassessscore":
        return r.threatAssessScore
      case "falsepositivecount":
        return r.falsePositives ?? 0
      case "dateadded":
        return DateTime.toEpochMillis(r.dateAdded)
      case "lastmodified":
        return DateTime.toEpochMillis(r.lastModified)
      case "indicatoractive":
        return r.active
      case "tag":
        return r.tags
      case "securitylabel":
        return r.securityLabels
      default:
        return null
    }
  },
  children: (sub) => {
    const names = sub === "hastag" ? r.tags : sub === "hassecuritylabel" ? r.securityLabels : []
    return names.map((name) => ({ field: (k) => (k === "name" ? name : null), children: () => [] }))
  }
})

const byLastModifiedThenId = (a: SourceIndicator, b: SourceIndicator): number => {
  const d = DateTime.toEpochMillis(a.lastModified) - DateTime.toEpochMillis(b.lastModified)
  if (d !== 0) return d
  return a.id.length !== b.id.length ? a.id.length - b.id.length : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

export const IndicatorSourceMemory: Layer.Layer<IndicatorSource | IndicatorSourceMemoryControl> = Layer.effectContext(
  Effect.gen(function* () {
    const state = yield* Ref.make(empty)
    const requests = yield* Ref.make(0)

    const indicators: typeof IndicatorSource.Service["indicators"] = ({ policy, since }) => {
      const query = buildTql(policy, since)
      if (query._tag === "MatchesNothing") return Stream.empty
      return Stream.unwrap(
        Effect.gen(function* () {
          yield* Ref.update(requests, (n) => n + 1)
          const expr = yield* Effect.try({
            try: () => parseTql(query.tql, indicatorTqlLanguage),
            catch: (e) =>
              new SourceQueryError({
                method: "GET",
                path: "/v3/indicators",
                tql: query.tql,
                serverMessage: e instanceof TqlParseError ? `Invalid TQL query: ${e.message}` : String(e)
              })
          })
          const onlyActive = !mentionsKeyword(expr, "indicatoractive")
          const s = yield* Ref.get(state)
          const selected = [...s.records.values()]
            .filter((r) => (!onlyActive || r.active) && evaluateTql(expr, subjectOf(r), indicatorTqlLanguage))
            .sort(byLastModifiedThenId)
            .map((indicator) => SourceItem.Indicator({ indicator }))
          const rejected = s.rejected
            .filter((r) => since === null || DateTime.greaterThanOrEqualTo(r.lastModified, since))
            .map((r) => SourceItem.Rejected({ rejection: r.rejection }))
          return Stream.fromIterable([...selected, ...rejected]).pipe(Stream.rechunk(1_000))
        })
      )
    }

    const deletions: typeof IndicatorSource.Service["deletions"] = (since) =>
      Stream.unwrap(
        Effect.gen(function* () {
          yield* Ref.update(requests, (n) => n + 1)
          const s = yield* Ref.get(state)
          const deleted = s.deleted.filter((d) => DateTime.greaterThanOrEqualTo(d.deletedAt, since))
          const deactivated: Array<SourceDeletion> = [...s.records.values()]
            .filter((r) => !r.active && DateTime.greaterThanOrEqualTo(r.lastModified, since))
            .sort(byLastModifiedThenId)
            .map((r) => ({ ownerName: r.ownerName, type: r.type, summary: r.summary, deletedAt: r.lastModified, reason: "deactivated", indicatorId: r.id }))
          return Stream.fromIterable([...deleted, ...deactivated]).pipe(Stream.rechunk(1_000))
        })
      )

    const source = IndicatorSource.of({ indicators, deletions, requestCount: Ref.get(requests) })
    const control = IndicatorSourceMemoryControl.of({
      put: (record) => Ref.update(state, (s) => ({ ...s, records: new Map(s.records).set(record.id, record) })),
      putRejected: (rejection, lastModified) => Ref.update(state, (s) => ({ ...s, rejected: [...s.rejected, { rejection, lastModified }] })),
      remove: (id, at) =>
        Ref.update(state, (s) => {
          const record = s.records.get(id)
          if (record === undefined) return s
          const records = new Map(s.records)
          records.delete(id)
          const deletion: SourceDeletion = { ownerName: record.ownerName, type: record.type, summary: record.summary, deletedAt: at, reason: "deleted" }
          return { ...s, records, deleted: [...s.deleted, deletion] }
        }),
      reset: Ref.set(state, empty),
      state: Ref.get(state)
    })
    return Context.make(IndicatorSource, source).pipe(Context.add(IndicatorSourceMemoryControl, control))
  })
)
