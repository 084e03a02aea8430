/**
 * Tables of the confide store, typed for Kysely. Column names are the SQL names.
 *
 * @module
 */

/**
 * One collateral item as fetched: the response body byte for byte, with the issuer chain that
 * came in a response header. Times are ISO-8601 UTC text, so SQLite and PostgreSQL store and
 * compare them the same way.
 */
export interface CollateralTable {
  /** Identity of the item, such as `intel/tcb-info/tdx/50806f000000`. */
  key: string
  /** The URL the body was fetched from. */
  url: string
  body: Uint8Array
  /** PEM issuer chain from the response header, or null when the response had none. */
  issuer_chain: Uint8Array | null
  fetched_at: string
  /** The item's next-update time: until then it is served without asking the network. */
  fresh_until: string
}

/** Every table of the store. */
export interface StoreDatabase {
  collateral: CollateralTable
}
