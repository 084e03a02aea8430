/**
 * The collateral cache: fetched collateral by what identifies it, kept until its next-update time.
 * Entries are replaced by newer fetches and never deleted, so an expired copy stays available to
 * callers that allow stale collateral.
 *
 * @module
 */
import type { Store } from './open.js'
import type { CollateralTable } from './schema.js'

/** One cached item. Byte fields belong to the caller: they are copies of the stored bytes. */
export interface CollateralRecord {
  /** Identity of the item, such as `intel/tcb-info/tdx/50806f000000`. */
  readonly key: string
  readonly url: string
  /** The response body exactly as received. */
  readonly body: Uint8Array
  /** PEM issuer chain from the response header, when the response had one. */
  readonly issuerChain?: Uint8Array
  readonly fetchedAt: Date
  /** Next-update time of the item: until then it is served without asking the network. */
  readonly freshUntil: Date
}

/** better-sqlite3 binds blobs only from Buffers. This views the same bytes without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function toRecord(row: CollateralTable): CollateralRecord {
  return {
    key: row.key,
    url: row.url,
    body: new Uint8Array(row.body),
    ...(row.issuer_chain === null ? {} : { issuerChain: new Uint8Array(row.issuer_chain) }),
    fetchedAt: new Date(row.fetched_at),
    freshUntil: new Date(row.fresh_until),
  }
}

/** The part of a cache that the collateral fetcher uses. */
export interface CollateralStore {
  /** Returns the record stored under `key`, fresh or not, or undefined. */
  get(key: string): Promise<CollateralRecord | undefined>
  /** Stores a record, replacing any record under the same key. */
  put(record: CollateralRecord): Promise<void>
}

/** Reads and writes collateral records in a store. */
export class CollateralCache implements CollateralStore {
  readonly #store: Store

  constructor(store: Store) {
    this.#store = store
  }

  /** Returns the record stored under `key`, fresh or not, or undefined. */
  async get(key: string): Promise<CollateralRecord | undefined> {
    const row = await this.#store.db
      .selectFrom('collateral')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst()
    return row === undefined ? undefined : toRecord(row)
  }

  /** Stores a record in one transaction, replacing any record under the same key. */
  async put(record: CollateralRecord): Promise<void> {
    const row = {
      key: record.key,
      url: record.url,
      body: asBuffer(record.body),
      issuer_chain: record.issuerChain === undefined ? null : asBuffer(record.issuerChain),
      fetched_at: record.fetchedAt.toISOString(),
      fresh_until: record.freshUntil.toISOString(),
    }
    await this.#store.db.transaction().execute(async (transaction) => {
      await transaction
        .insertInto('collateral')
        .values(row)
        .onConflict((conflict) =>
          conflict.column('key').doUpdateSet({
            url: row.url,
            body: row.body,
            issuer_chain: row.issuer_chain,
            fetched_at: row.fetched_at,
            fresh_until: row.fresh_until,
          }),
        )
        .execute()
    })
  }

  /** Lists the stored keys, in key order. */
  async keys(): Promise<string[]> {
    const rows = await this.#store.db
      .selectFrom('collateral')
      .select('key')
      .orderBy('key')
      .execute()
    return rows.map((row) => row.key)
  }
}
