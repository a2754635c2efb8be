import { Schema } from "effect"

/**
 * Position in the global log: `(transaction_id, global_position)`. Readers order by this pair and only
 * read below the oldest running transaction, so a late commit is waited for, never skipped
 * (reference/architecture-anchors.md lessons 3-4). Both parts are kept as decimal strings: xid8 is
 * 64-bit and must never pass through a JS number.
 */
export const Checkpoint = Schema.Struct({
  transactionId: Schema.String.pipe(Schema.pattern(/^\d+$/)),
  position: Schema.String.pipe(Schema.pattern(/^\d+$/))
})
export type Checkpoint = typeof Checkpoint.Type

export const compareCheckpoints = (a: Checkpoint, b: Checkpoint): number => {
  const tx = BigInt(a.transactionId) - BigInt(b.transactionId)
  if (tx !== 0n) return tx < 0n ? -1 : 1
  const pos = BigInt(a.position) - BigInt(b.position)
  return pos === 0n ? 0 : pos < 0n ? -1 : 1
}
