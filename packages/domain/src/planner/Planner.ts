import { DateTime, Either } from "effect"
import { canonicalJson } from "../CanonicalJson.js"
import type { DefenderPayload } from "../DefenderPayload.js"
import { normalizeIndicatorValue } from "../defender/IndicatorValueRules.js"
import type { Rank, RevokeReason } from "../Events.js"
import { StreamId } from "../Identifiers.js"
import type { IndicatorKey } from "../IndicatorKey.js"
import { DefenderIndicatorType, isFileIndicatorType } from "../IndicatorType.js"
import { DEFENDER_INDICATOR_LIMIT } from "../Policy.js"
import type { IndicatorStateRow, IndicatorStatus } from "../projections/ProjectionRows.js"
import { quotaCapacity } from "../projections/QuotaProjection.js"
import { type FilterMismatch, policyMismatches } from "../source/SourceFilter.js"
import type { SourceDeletion, SourceIndicator } from "../SourceIndicator.js"
import type { SourceRef } from "../SourceRef.js"
import {
  expirationFor,
  formatExpiration,
  type KeyMapping,
  keyValueOf,
  mapSourceIndicator,
  type RecordMapping,
  sourceValuesOf
} from "./IndicatorMapping.js"
import type {
  DeferItem,
  DuplicateItem,
  ExpireItem,
  ForeignIndicator,
  Plan,
  PlanInput,
  PlanItemBase,
  RejectItem,
  RetryItem,
  RevokeItem,
  SelectItem,
  SubmitItem,
  UnchangedItem
} from "./Plan.js"
import { compareIntegerStrings, compareKeys, compareRankedKeys, compareRanks, compareText, rankOfRow } from "./Ranking.js"

/**
 * The planner of DESIGN §3 ("Rules the planner implements"): a pure, deterministic function from what
 * the source returned, what tisync knows (the indicator_state rows), what Defender holds from other
 * apps, the policy and the clock, to the explicit sets of writes a run carries out.
 *
 * Decisions where the design is silent (each is also said where it is made):
 * - A policy that selects nothing (no TQL, and no owner or no type) sends nothing and revokes nothing
 *   by selection, on incremental AND full runs: an empty owner list is far more likely a configuration
 *   slip than a wish to wipe the tenant (`tisync revoke --all` does that on purpose). Deletions and
 *   deactivations in ThreatConnect are still revoked, and the capacity is still honoured.
 * - `indicatorReserveCount` above 15,000 pauses sending: no create, update, renewal or retry, and no
 *   eviction either (the seed app simply sends nothing); deselections and deletions are still revoked.
 * - Capacity is honoured whether or not `evict` is set: when it shrinks below what tisync holds (the
 *   reserve was raised, another app added indicators), the lowest-ranked live ones are revoked
 *   (`evicted`). `evict` only decides whether a new higher-ranked record may displace a live one.
 * - The renewal window is capped at half the expiration period, so a fresh renewal is never due again
 *   at once (with `expirationDays: 3, renewWithinDays: 5` every run would otherwise renew everything).
 * - A key another app already holds (any action) is a duplicate and never sent, unless tisync already
 *   holds it live: then both stay (Defender lets the same value carry several actions).
 * - A live key tisync submitted by hand (`tisync submit`, no source record) is never revoked, evicted or
 *   renewed by the planner; it takes a slot of the capacity and is swept when it expires.
 * - A key whose record did not come back and whose payload tisync does not hold (deferred, selected)
 *   waits for its record (the next full run, or its next change): `IndicatorDeferred` carries no payload.
 */

const DAY_MS = 24 * 60 * 60 * 1000
const keyIdOf = (indicatorType: string, value: string): string => `${indicatorType}\u0000${value}`

const epochOf = (iso: string | null | undefined): number | null => {
  if (iso === null || iso === undefined) return null
  const t = DateTime.make(iso)
  return t._tag === "Some" ? DateTime.toEpochMillis(t.value) : null
}

type RecordState =
  | { readonly _tag: "selected" }
  | { readonly _tag: "deselected"; readonly mismatches: ReadonlyArray<FilterMismatch> }
  | { readonly _tag: "deleted" }
  | { readonly _tag: "ignored" }

interface Claim {
  readonly mapping: RecordMapping
  readonly keyMapping: KeyMapping
}

interface Contender {
  readonly rank: Rank
  readonly source: SourceRef
  /** null: the row's current record, which was not read this run. */
  readonly claim: Claim | null
}

/** Rank first, then the older (smaller) ThreatConnect id, then the owner name: a total order on records. */
const compareContenders = (a: Contender, b: Contender): number =>
  compareRanks(a.rank, b.rank) ||
  compareIntegerStrings(a.source.indicatorId, b.source.indicatorId) ||
  compareText(a.source.ownerName, b.source.ownerName)

/** A key that wants to be live in Defender, before the capacity is applied. */
interface Desire {
  readonly id: string
  readonly base: PlanItemBase
  readonly key: IndicatorKey
  readonly row: IndicatorStateRow | undefined
  readonly rank: Rank
  readonly source: SourceRef | null
  /** The payload to hold: fresh from the record, or the stored / pending one; null when unknown. */
  readonly payload: DefenderPayload | null
  readonly payloadHash: string | null
  /** The payload comes from a record read this run. */
  readonly fresh: boolean
  /** The key holds a Defender slot now (live and not expiring, or mapped and unconfirmed). */
  readonly occupying: boolean
  /** Held but never written to by the planner (its current mapping is rejected, or no payload is known). */
  readonly frozen: boolean
}

const describeSource = (source: SourceRef): string => `${source.ownerName} (ThreatConnect id ${source.indicatorId})`

const mismatchText = (mismatches: ReadonlyArray<FilterMismatch>): string =>
  mismatches.length === 0 ? "policy" : mismatches.join(", ")

const isDefenderType = (t: string): t is DefenderIndicatorType => DefenderIndicatorType.literals.some((l) => l === t)

/** Foreign indicators by key (normalized the same way tisync's own keys are). */
const indexForeign = (foreign: ReadonlyArray<ForeignIndicator>): Map<string, ForeignIndicator> => {
  const out = new Map<string, ForeignIndicator>()
  const sorted = [...foreign].sort(
    (a, b) => compareIntegerStrings(a.defenderId, b.defenderId) || compareText(a.defenderId, b.defenderId)
  )
  for (const f of sorted) {
    if (!isDefenderType(f.indicatorType)) continue
    const normalized = normalizeIndicatorValue(f.indicatorType, f.value)
    const value = Either.isRight(normalized) ? normalized.right : f.value.trim()
    const id = keyIdOf(f.indicatorType, value)
    if (!out.has(id)) out.set(id, f)
  }
  return out
}

/** Deletions by (owner, key). */
const indexDeletions = (deletions: ReadonlyArray<SourceDeletion>): Map<string, Array<SourceDeletion>> => {
  const out = new Map<string, Array<SourceDeletion>>()
  for (const d of deletions) {
    for (const v of sourceValuesOf(d.type, d.summary, null) ?? []) {
      const id = `${d.ownerName}\u0000${keyIdOf(v.indicatorType, keyValueOf(v))}`
      const list = out.get(id) ?? []
      list.push(d)
      out.set(id, list)
    }
  }
  return out
}

/** One record per ThreatConnect id (the overlap of incremental windows repeats them): the latest. */
const latestRecords = (candidates: ReadonlyArray<SourceIndicator>): ReadonlyArray<SourceIndicator> => {
  const sorted = [...candidates].sort(
    (a, b) =>
      compareIntegerStrings(a.id, b.id) ||
      DateTime.toEpochMillis(b.lastModified) - DateTime.toEpochMillis(a.lastModified) ||
      compareText(canonicalJson(a), canonicalJson(b))
  )
  const out: Array<SourceIndicator> = []
  for (const r of sorted) if (out.length === 0 || out[out.length - 1]?.id !== r.id) out.push(r)
  return out
}

/** Revoked to make room: still selected, waiting for capacity like a deferred key. */
const isEvicted = (row: IndicatorStateRow): boolean => row.status === "revoked" && row.reason === "evicted"

// Plan items copy the base fields one by one rather than spreading `base`: V8 builds a spread-then-extend
// literal property by property, and ~60,000 of them per initial run showed in the profile.
const sortByKey = <A extends PlanItemBase>(items: Array<A>, then: (a: A, b: A) => number = () => 0): Array<A> =>
  items.sort((a, b) => compareKeys(a.key, b.key) || then(a, b))

export const plan = (input: PlanInput): Plan => {
  const { mode, policy, targetId, now } = input
  const nowMs = DateTime.toEpochMillis(now)
  const notes: Array<string> = []

  const selected: Array<SelectItem> = []
  const create: Array<SubmitItem> = []
  const update: Array<SubmitItem> = []
  const renew: Array<SubmitItem> = []
  const revoke: Array<RevokeItem> = []
  const reject: Array<RejectItem> = []
  const duplicate: Array<DuplicateItem> = []
  const defer: Array<DeferItem> = []
  const expire: Array<ExpireItem> = []
  const retry: Array<RetryItem> = []
  const unchanged: Array<UnchangedItem> = []
  const touched = new Set<string>()

  // --- what tisync knows --------------------------------------------------------------------------
  const rows = new Map<string, IndicatorStateRow>()
  let otherTargets = 0
  for (const row of input.current) {
    if (row.targetId !== targetId) {
      otherTargets++
      continue
    }
    const id = keyIdOf(row.indicatorType, row.value)
    const known = rows.get(id)
    if (known === undefined || row.version > known.version) rows.set(id, row)
  }
  if (otherTargets > 0) notes.push(`${otherTargets} state rows of other targets were ignored`)

  // --- does the policy select anything? -----------------------------------------------------------
  const selectsNothing = policy.tql === null && (policy.owners.length === 0 || policy.indicatorTypes.length === 0)
  if (selectsNothing) {
    notes.push(
      policy.owners.length === 0
        ? "no owners configured and no tql: nothing is selected (set owners or tql in the policy); indicators already in Defender are kept"
        : "no indicator types configured and no tql: nothing is selected (set indicatorTypes or tql in the policy); indicators already in Defender are kept"
    )
  }

  // --- quota (DESIGN §3 "Quota") ------------------------------------------------------------------
  const limit = DEFENDER_INDICATOR_LIMIT
  const reserve = policy.indicatorReserveCount
  const foreignCount = input.foreign.length
  const capacity = quotaCapacity(limit, reserve, foreignCount)
  const reserveGuard = reserve > limit
  if (reserveGuard) {
    notes.push(
      `indicatorReserveCount ${reserve} is above Defender's limit of ${limit}: capacity is 0 and nothing is sent (indicators already in Defender are kept)`
    )
  }
  const sendingDisabled = selectsNothing || reserveGuard

  // --- renewal window -----------------------------------------------------------------------------
  const renewWindowMs = (indicatorType: DefenderIndicatorType): number => {
    const days = isFileIndicatorType(indicatorType) ? policy.expirationDays.file : policy.expirationDays.network
    return Math.min(policy.renewWithinDays * DAY_MS, (days * DAY_MS) / 2)
  }
  if (
    policy.renewWithinDays > 0 &&
    policy.renewWithinDays * 2 > Math.min(policy.expirationDays.file, policy.expirationDays.network)
  ) {
    notes.push(
      `renewWithinDays ${policy.renewWithinDays} is more than half the expiration period: indicators are renewed in the last half of it instead`
    )
  }
  const newExpiration = (payload: DefenderPayload): DefenderPayload => ({
    ...payload,
    expirationTime: formatExpiration(expirationFor(policy, payload.indicatorType, now))
  })

  // --- what the source said -----------------------------------------------------------------------
  const deletionIndex = indexDeletions(input.deletions)
  const deletedAfter = (ownerName: string, id: string, indicatorId: string, lastModifiedMs: number | null): boolean =>
    (deletionIndex.get(`${ownerName}\u0000${id}`) ?? []).some(
      (d) =>
        (d.indicatorId === undefined || d.indicatorId === indicatorId) &&
        (lastModifiedMs === null || DateTime.toEpochMillis(d.deletedAt) >= lastModifiedMs)
    )

  const recordStates = new Map<string, RecordState>()
  const claimsByKey = new Map<string, Array<Claim>>()
  const unsupported = new Map<string, number>()
  let networkDowngraded = false
  for (const record of latestRecords(input.candidates)) {
    if (sourceValuesOf(record.type, record.summary, record.fileHashes) === null) {
      unsupported.set(record.type, (unsupported.get(record.type) ?? 0) + 1)
      continue
    }
    const mismatches = policyMismatches(policy, record)
    const state: RecordState = mismatches.includes("inactive")
      ? { _tag: "deleted" }
      : selectsNothing
        ? { _tag: "ignored" }
        : mismatches.length > 0
          ? { _tag: "deselected", mismatches }
          : { _tag: "selected" }
    recordStates.set(record.id, state)
    if (state._tag !== "selected") continue
    // Only selected records are mapped (payloads and hashes cost; a deselection needs the record id only).
    const mapping = mapSourceIndicator(targetId, record, policy, now)
    for (const keyMapping of mapping.keys) {
      if (!keyMapping.typeSelected) continue
      const id = keyIdOf(keyMapping.key.indicatorType, keyMapping.key.value)
      if (deletedAfter(record.ownerName, id, record.id, DateTime.toEpochMillis(record.lastModified))) continue
      if (policy.action === "BlockAndRemediate" && !isFileIndicatorType(keyMapping.key.indicatorType)) {
        networkDowngraded = true
      }
      const list = claimsByKey.get(id) ?? []
      list.push({ mapping, keyMapping })
      claimsByKey.set(id, list)
    }
  }
  if (unsupported.size > 0) {
    const list = [...unsupported.entries()].sort(([a], [b]) => compareText(a, b)).map(([t, n]) => `${t} (${n})`)
    notes.push(`records of types Defender has no indicator type for were skipped: ${list.join(", ")}`)
  }
  if (networkDowngraded) {
    notes.push("action BlockAndRemediate applies to files only: IP, domain and URL indicators are sent as Block")
  }

  const foreignByKey = indexForeign(input.foreign)

  /** Why the row's record no longer holds the key, or null when it still may. */
  const goneReason = (
    row: IndicatorStateRow,
    source: SourceRef,
    id: string,
    claims: ReadonlyArray<Claim>
  ): { readonly reason: RevokeReason; readonly detail: string } | null => {
    if (claims.some((c) => c.mapping.source.indicatorId === source.indicatorId)) return null
    if (deletedAfter(source.ownerName, id, source.indicatorId, null)) {
      return { reason: "deleted-in-source", detail: `deleted in ThreatConnect (${describeSource(source)})` }
    }
    const state = recordStates.get(source.indicatorId)
    switch (state?._tag) {
      case "deleted":
        return { reason: "deleted-in-source", detail: `deactivated in ThreatConnect (${describeSource(source)})` }
      case "deselected":
        return {
          reason: "deselected",
          detail: `${describeSource(source)} no longer matches the policy: ${mismatchText(state.mismatches)}`
        }
      case "selected":
        return {
          reason: "deselected",
          detail: `${describeSource(source)} no longer yields ${row.indicatorType} ${row.value} under the policy`
        }
      case "ignored":
        return null
      case undefined:
        return mode === "full" && !selectsNothing
          ? { reason: "deselected", detail: `${describeSource(source)} was not returned by a full run` }
          : null
    }
  }

  // --- per key: who wins it, and what it wants ----------------------------------------------------
  const desires: Array<Desire> = []
  /** Keys given a new IndicatorSelected this run (it moves a revoked or expired row to `selected`). */
  const reselected = new Set<string>()
  const liveAfter = new Set<string>()
  let waitingForRecord = 0
  const allIds = [...new Set([...rows.keys(), ...claimsByKey.keys()])].sort(compareText)

  for (const id of allIds) {
    const row = rows.get(id)
    const claims = claimsByKey.get(id) ?? []
    const firstClaim = claims[0]
    const key: IndicatorKey =
      row !== undefined
        ? { targetId, indicatorType: row.indicatorType, value: row.value }
        : (firstClaim?.keyMapping.key ?? { targetId, indicatorType: "IpAddress", value: id })
    const streamId = row !== undefined ? StreamId.make(row.streamId) : (firstClaim?.keyMapping.streamId ?? StreamId.make(id))
    const base: PlanItemBase = { key, streamId, expectedVersion: row?.version ?? 0 }

    // Expiry sweep: Defender dropped it at its expiration time (reference/defender-api.md §3.4).
    const expiresAtMs = epochOf(row?.expiresAt)
    const expiring = row !== undefined && row.status === "live" && expiresAtMs !== null && expiresAtMs <= nowMs
    if (expiring && row !== undefined && expiresAtMs !== null) {
      expire.push({ key: base.key, streamId: base.streamId, expectedVersion: base.expectedVersion, defenderId: row.defenderId, expiredAt: DateTime.unsafeMake(expiresAtMs) })
      touched.add(id)
    }
    const occupying =
      row !== undefined && !expiring && (row.status === "live" || row.pending !== null)
    if (row !== undefined && row.status === "live" && !expiring) liveAfter.add(id)

    const source = row?.source ?? null
    const gone = row !== undefined && source !== null ? goneReason(row, source, id, claims) : null
    const holderStillCounts =
      row !== undefined &&
      source !== null &&
      gone === null &&
      !claims.some((c) => c.mapping.source.indicatorId === source.indicatorId) &&
      // An evicted key is still selected: it only waits for room (its record keeps the key).
      (occupying ||
        expiring ||
        row.status === "selected" ||
        row.status === "deferred" ||
        isEvicted(row))

    const contenders: Array<Contender> = claims.map((claim) => ({
      rank: claim.mapping.rank,
      source: claim.mapping.source,
      claim
    }))
    if (holderStillCounts && row !== undefined && source !== null) {
      contenders.push({ rank: rankOfRow(row.rank), source, claim: null })
    }
    contenders.sort(compareContenders)
    const winner = contenders[0]

    if (winner === undefined) {
      if (row === undefined) continue
      if (source === null && occupying) {
        // Submitted by hand: held, never touched by the planner.
        desires.push({ id, base, key, row, rank: rankOfRow(row.rank), source, payload: null, payloadHash: null, fresh: false, occupying, frozen: true })
        continue
      }
      if (gone !== null && (occupying || row.status === "selected" || row.status === "deferred")) {
        // Live ones are deleted; never-sent ones only get the event (defenderId null: no call).
        revoke.push({
          key: base.key, streamId: base.streamId, expectedVersion: base.expectedVersion,
          reason: gone.reason,
          defenderId: occupying ? row.defenderId : null,
          action: occupying ? row.action : null,
          detail: gone.detail
        })
        liveAfter.delete(id)
        touched.add(id)
      }
      continue
    }

    // The losers: recorded once (the row remembers them in duplicateSources).
    for (const loser of contenders.slice(1)) {
      if (row !== undefined && row.duplicateSources.includes(loser.source.indicatorId)) continue
      duplicate.push({
        key: base.key, streamId: base.streamId, expectedVersion: base.expectedVersion,
        source: loser.source,
        claimedBy: "source",
        holder: describeSource(winner.source),
        reason: `${key.indicatorType} ${key.value} is also selected from ${describeSource(winner.source)}, which ranks higher`
      })
      touched.add(id)
    }

    const rank = winner.rank
    if (winner.claim === null) {
      // The current record keeps the key; it was not read this run.
      if (row === undefined) continue
      const pending = row.pending
      if (pending !== null && occupying) {
        desires.push({ id, base, key, row, rank, source, payload: pending.payload, payloadHash: pending.payloadHash, fresh: false, occupying, frozen: false })
      } else if ((occupying || expiring) && row.payload !== null && row.payloadHash !== null) {
        desires.push({ id, base, key, row, rank, source, payload: row.payload, payloadHash: row.payloadHash, fresh: false, occupying, frozen: false })
      } else if (occupying) {
        desires.push({ id, base, key, row, rank, source, payload: null, payloadHash: null, fresh: false, occupying, frozen: true })
      } else if (!expiring) {
        waitingForRecord++
      }
      continue
    }

    const { mapping, keyMapping } = winner.claim
    if (row === undefined || row.contentHash !== keyMapping.contentHash || row.source?.indicatorId !== mapping.source.indicatorId) {
      reselected.add(id)
      selected.push({
        key: base.key, streamId: base.streamId, expectedVersion: base.expectedVersion,
        source: mapping.source,
        sourceLastModified: mapping.record.lastModified,
        rank: mapping.rank,
        contentHash: keyMapping.contentHash
      })
      touched.add(id)
    }

    const outcome = keyMapping.outcome
    if (outcome._tag === "Rejected") {
      const recorded = `${outcome.reasonCode}: ${outcome.reason}`
      if (!(row !== undefined && row.reason === recorded && (row.status === "rejected" || row.status === "live"))) {
        reject.push({ key: base.key, streamId: base.streamId, expectedVersion: base.expectedVersion, source: mapping.source, reasonCode: outcome.reasonCode, reason: outcome.reason })
        touched.add(id)
      }
      // A live one stays as Defender accepted it: it keeps its slot and is not written to.
      if (occupying) {
        desires.push({ id, base, key, row, rank, source: mapping.source, payload: null, payloadHash: null, fresh: false, occupying, frozen: true })
      }
      continue
    }

    const foreign = foreignByKey.get(id)
    if (foreign !== undefined && !occupying) {
      const holder = foreign.createdBy ?? "another app"
      const reason = `Defender already holds ${key.indicatorType} ${key.value} from ${holder} (Defender id ${foreign.defenderId}${foreign.action === null ? "" : `, action ${foreign.action}`}); it is not overwritten`
      // Recorded once; a key evicted earlier is not sent either way and stays as it is (like a deferral),
      // unless a new IndicatorSelected moves it out of `revoked`.
      const recorded =
        row !== undefined &&
        ((row.status === "duplicate" && row.reason === reason) || (isEvicted(row) && !reselected.has(id)))
      if (!recorded) {
        duplicate.push({ key: base.key, streamId: base.streamId, expectedVersion: base.expectedVersion, source: mapping.source, claimedBy: "defender", holder, reason })
        touched.add(id)
      }
      continue
    }

    desires.push({
      id,
      base,
      key,
      row,
      rank,
      source: mapping.source,
      payload: outcome.payload,
      payloadHash: outcome.payloadHash,
      fresh: true,
      occupying,
      frozen: false
    })
  }

  // --- capacity: keep the top ranked, defer (or evict) the rest -----------------------------------
  const manual = desires.filter((d) => d.source === null && d.frozen)
  const ranked = desires.filter((d) => !(d.source === null && d.frozen)).sort(compareRankedKeys)
  const plannerCapacity = Math.max(0, capacity - manual.length)
  const keep = new Set<string>()
  if (reserveGuard) {
    for (const d of ranked) if (d.occupying) keep.add(d.id)
  } else if (policy.evict) {
    for (const d of ranked.slice(0, plannerCapacity)) keep.add(d.id)
  } else {
    const holding = ranked.filter((d) => d.occupying).slice(0, plannerCapacity)
    for (const d of holding) keep.add(d.id)
    const room = plannerCapacity - holding.length
    for (const d of ranked.filter((x) => !x.occupying).slice(0, room)) keep.add(d.id)
  }

  const capacityText = `capacity ${capacity} = ${limit} - reserve ${reserve} - foreign ${foreignCount}`
  const deferReason = reserveGuard
    ? `indicatorReserveCount ${reserve} is above Defender's limit of ${limit}: nothing is sent`
    : `no quota left under the reserve: ranked below the top ${plannerCapacity} (${capacityText})`
  let evicted = 0

  const submit = (d: Desire, intent: SubmitItem["intent"], payload: DefenderPayload, payloadHash: string, replaces: SubmitItem["replaces"] = null): SubmitItem => ({
    key: d.base.key, streamId: d.base.streamId, expectedVersion: d.base.expectedVersion,
    intent,
    payload,
    payloadHash,
    source: d.source,
    rank: d.rank,
    defenderId: intent === "create" ? null : (d.row?.defenderId ?? null),
    replaces
  })

  /** An expiration that has passed or falls within the renewal window. */
  const dueAt = (at: number | null, indicatorType: DefenderIndicatorType): boolean =>
    at !== null && (at <= nowMs || (policy.renewWithinDays > 0 && at - nowMs <= renewWindowMs(indicatorType)))
  const renewDue = (row: IndicatorStateRow): boolean => dueAt(epochOf(row.expiresAt), row.indicatorType)

  /** The write that brings a confirmed live row to `payload`, or null when it already holds it. */
  const liveWrite = (d: Desire, row: IndicatorStateRow, payload: DefenderPayload, payloadHash: string): void => {
    if (row.action !== null && row.action !== payload.action) {
      // Defender's identity is value+type+action: delete the old one, create the new one.
      revoke.push({
        key: d.base.key, streamId: d.base.streamId, expectedVersion: d.base.expectedVersion,
        reason: "action-changed",
        defenderId: row.defenderId,
        action: row.action,
        detail: `action ${row.action} -> ${payload.action}`
      })
      create.push(submit(d, "create", payload, payloadHash, { defenderId: row.defenderId, action: row.action }))
    } else if (row.payloadHash !== payloadHash) {
      update.push(submit(d, "update", payload, payloadHash))
    } else if (renewDue(row)) {
      renew.push(submit(d, "renew", d.fresh ? payload : newExpiration(payload), payloadHash))
    } else {
      return
    }
    touched.add(d.id)
  }

  for (const d of ranked) {
    const row = d.row
    if (!keep.has(d.id)) {
      if (d.occupying && row !== undefined) {
        revoke.push({
          key: d.base.key, streamId: d.base.streamId, expectedVersion: d.base.expectedVersion,
          reason: "evicted",
          defenderId: row.defenderId,
          action: row.action,
          detail: `ranked below the top ${plannerCapacity} (${capacityText})`
        })
        evicted++
        liveAfter.delete(d.id)
        touched.add(d.id)
      } else if (!(row !== undefined && (row.status === "deferred" || (isEvicted(row) && !reselected.has(d.id))))) {
        defer.push({ key: d.base.key, streamId: d.base.streamId, expectedVersion: d.base.expectedVersion, source: d.source, rank: d.rank, capacity, reason: deferReason })
        touched.add(d.id)
      }
      continue
    }
    if (sendingDisabled || d.frozen || d.payload === null || d.payloadHash === null) continue
    liveAfter.add(d.id)
    if (!d.occupying || row === undefined) {
      // A stored payload (the record was not read) carries its old expiration: a create starts a new one.
      create.push(submit(d, "create", d.fresh ? d.payload : newExpiration(d.payload), d.payloadHash))
      touched.add(d.id)
      continue
    }
    const pending = row.pending
    if (pending === null) {
      liveWrite(d, row, d.payload, d.payloadHash)
      continue
    }
    // Mapped in an earlier run, never confirmed: finish it, unless the wanted payload changed since or
    // the pending expiration has passed or is due for renewal (then it is mapped again with a new one).
    const stale = dueAt(epochOf(pending.payload.expirationTime), row.indicatorType)
    if (pending.payloadHash === d.payloadHash && !stale) {
      retry.push({
        key: d.base.key, streamId: d.base.streamId, expectedVersion: d.base.expectedVersion,
        intent: pending.intent,
        payload: pending.payload,
        payloadHash: pending.payloadHash,
        defenderId: row.defenderId,
        mappedInRun: pending.runId
      })
      touched.add(d.id)
      continue
    }
    const payload = d.fresh ? d.payload : newExpiration(d.payload)
    if (row.status === "live" && row.defenderId !== null) {
      const before = update.length + renew.length + create.length
      liveWrite(d, row, payload, d.payloadHash)
      if (update.length + renew.length + create.length === before) {
        renew.push(submit(d, "renew", newExpiration(payload), d.payloadHash))
        touched.add(d.id)
      }
    } else {
      create.push(submit(d, "create", payload, d.payloadHash))
      touched.add(d.id)
    }
  }

  if (evicted > 0) notes.push(`${evicted} live indicators were evicted to stay within ${capacityText}`)
  if (defer.length > 0) notes.push(`${defer.length} indicators were deferred: ${capacityText}`)
  if (waitingForRecord > 0) {
    notes.push(
      `${waitingForRecord} selected indicators not in Defender wait for their record to be read again (run with --full)`
    )
  }

  // --- everything the run looked at and left alone ------------------------------------------------
  for (const id of allIds) {
    if (touched.has(id)) continue
    const row = rows.get(id)
    const claims = claimsByKey.get(id) ?? []
    const active: ReadonlyArray<IndicatorStatus> = ["live", "selected", "deferred"]
    if (claims.length === 0 && (row === undefined || (!active.includes(row.status) && row.pending === null))) continue
    const first = claims[0]
    const key: IndicatorKey =
      row !== undefined
        ? { targetId, indicatorType: row.indicatorType, value: row.value }
        : (first?.keyMapping.key ?? { targetId, indicatorType: "IpAddress", value: id })
    const streamId = row !== undefined ? StreamId.make(row.streamId) : (first?.keyMapping.streamId ?? StreamId.make(id))
    unchanged.push({ key, streamId, expectedVersion: row?.version ?? 0, status: row?.status ?? "selected" })
  }

  for (const c of create) liveAfter.add(keyIdOf(c.key.indicatorType, c.key.value))
  for (const r of retry) liveAfter.add(keyIdOf(r.key.indicatorType, r.key.value))
  const bySource = <A extends { readonly source: SourceRef | null }>(a: A, b: A): number =>
    compareIntegerStrings(a.source?.indicatorId ?? "0", b.source?.indicatorId ?? "0") ||
    compareText(a.source?.ownerName ?? "", b.source?.ownerName ?? "")

  return {
    targetId,
    mode,
    selected: sortByKey(selected),
    create: sortByKey(create),
    update: sortByKey(update),
    renew: sortByKey(renew),
    revoke: sortByKey(revoke),
    reject: sortByKey(reject),
    duplicate: sortByKey(duplicate, bySource),
    defer: sortByKey(defer),
    expire: sortByKey(expire),
    retry: sortByKey(retry),
    unchanged: sortByKey(unchanged),
    notes,
    quota: { limit, reserve, foreign: foreignCount, live: liveAfter.size, capacity }
  }
}

/** Is this plan free of Defender writes (what an immediate re-run must plan)? */
export const planHasNoWrites = (p: Plan): boolean =>
  p.create.length === 0 && p.update.length === 0 && p.renew.length === 0 && p.revoke.length === 0 && p.retry.length === 0

