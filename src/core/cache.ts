/**
 * Memory for work that depends only on content: parsed collateral, decoded certificates and
 * verified signatures. Judgements that depend on time (validity, next-update, revocation dates)
 * are never cached; callers make them on every verification.
 *
 * @module
 */

const DEFAULT_MAX_ENTRIES = 2048

/**
 * A bounded map from content keys to values, evicting the least recently used, plus a table of
 * results keyed by pairs of objects (such as "this certificate's signature verifies with that
 * issuer").
 */
export class VerificationCache {
  readonly #entries = new Map<string, unknown>()
  readonly #pairs = new WeakMap<object, WeakMap<object, unknown>>()
  readonly #maxEntries: number

  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#maxEntries = maxEntries
  }

  /** Returns the value stored under `key`, creating and storing it first when absent. */
  async memo<T>(key: string, create: () => Promise<T> | T): Promise<T> {
    if (this.#entries.has(key)) {
      const value = this.#entries.get(key) as T
      this.#entries.delete(key)
      this.#entries.set(key, value)
      return value
    }
    const value = await create()
    this.#entries.set(key, value)
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
    return value
  }

  /** Returns the value stored for the pair `(first, second)`, creating it first when absent. */
  async memoPair<T>(first: object, second: object, create: () => Promise<T> | T): Promise<T> {
    let inner = this.#pairs.get(first)
    if (inner === undefined) {
      inner = new WeakMap()
      this.#pairs.set(first, inner)
    }
    if (inner.has(second)) return inner.get(second) as T
    const value = await create()
    inner.set(second, value)
    return value
  }

  /** Number of content-keyed entries held. */
  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
  }
}
