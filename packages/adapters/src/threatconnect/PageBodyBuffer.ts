/**
 * The bytes of one page body at a time, in one buffer reused from page to page of a listing.
 *
 * A full page is ~13 MB. A fresh buffer per page left every finished page's bytes to V8, which frees
 * external memory only when a full GC runs (up to seven dead pages, ~100 MB, were held at once), and each
 * 13 MB allocation counted as "external memory pressure" and started a full mark of the heap: one per page.
 * One buffer per listing, grown with headroom (pages of a listing differ in size by a few percent), is
 * allocated once or twice. Pages of a listing are read strictly one after the other (the next page is
 * requested only when every record of this one has been pulled), and `begin` starts a new generation, so a
 * page read from a buffer that has moved on is detected rather than decoded.
 */
export class PageBodyBuffer {
  private bytes: Buffer = Buffer.alloc(0)
  private size = 0
  private generation = 0

  /**
   * Start a body (an attempt at a page) of at most `limit` bytes; `expected`: its declared length, if any.
   * Returns its generation.
   */
  begin(expected: number | null, limit: number): number {
    this.size = 0
    this.generation++
    if (expected !== null && expected > this.bytes.length) this.reserve(expected, limit)
    return this.generation
  }

  /** Append a chunk; false (and nothing appended) when the body would exceed `limit` bytes. */
  append(chunk: Uint8Array, limit: number): boolean {
    const size = this.size + chunk.length
    if (size > limit) return false
    if (size > this.bytes.length) this.reserve(Math.max(size, 2 * this.bytes.length, 64 * 1024), limit)
    this.bytes.set(chunk, this.size)
    this.size = size
    return true
  }

  /** Room for `size` bytes and a quarter more (never above `limit`), keeping the current body. */
  private reserve(size: number, limit: number): void {
    const grown = Buffer.allocUnsafe(Math.min(limit, Math.ceil(size * 1.25)))
    this.bytes.copy(grown, 0, 0, this.size)
    this.bytes = grown
  }

  /** The current body (a view: valid until the next `begin`). */
  body(): Buffer {
    return this.bytes.subarray(0, this.size)
  }

  isCurrent(generation: number): boolean {
    return generation === this.generation
  }
}
