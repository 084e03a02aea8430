/**
 * A bounded cache of evidence verifications, keyed by the evidence digest, so a client that
 * reconnects to the same peer does not verify the same quote on every handshake.
 *
 * @module
 */
import type { VerificationResult } from '../core/types.js'

/** Default number of entries kept. */
export const DEFAULT_RATLS_CACHE_ENTRIES = 256
/** Default time an entry stays usable, in seconds. */
export const DEFAULT_RATLS_CACHE_TTL_SECONDS = 300

/** Options of a cache. */
export interface RatlsCacheOptions {
  /** Entries kept before the least recently used is evicted. Default: 256. */
  readonly maxEntries?: number
  /**
   * Seconds a result stays usable, measured in verification time (`at`), so time-dependent checks
   * (certificate and collateral validity) are at most this stale. Default: 300.
   */
  readonly ttlSeconds?: number
}

interface Entry {
  readonly result: VerificationResult
  readonly at: number
}

/**
 * Verification results by evidence digest. One cache must serve one set of verification options
 * (trusted keys, collateral, allowDebug): the key is the evidence alone.
 */
export class RatlsCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #ttlMs: number

  constructor(options: RatlsCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_RATLS_CACHE_ENTRIES
    this.#ttlMs = (options.ttlSeconds ?? DEFAULT_RATLS_CACHE_TTL_SECONDS) * 1000
  }

  /** Returns the result stored for `digest` if it was made within the TTL of `at`. */
  get(digest: string, at: Date): VerificationResult | undefined {
    const entry = this.#entries.get(digest)
    if (entry === undefined) return undefined
    if (Math.abs(at.getTime() - entry.at) > this.#ttlMs) {
      this.#entries.delete(digest)
      return undefined
    }
    this.#entries.delete(digest)
    this.#entries.set(digest, entry)

    return entry.result
  }

  /** Stores a result made at `at`, evicting the least recently used entry when full. */
  set(digest: string, at: Date, result: VerificationResult): void {
    this.#entries.delete(digest)
    this.#entries.set(digest, { result, at: at.getTime() })
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
  }

  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
  }
}
