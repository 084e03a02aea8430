/**
 * The confide store: collateral cache today, over SQLite (better-sqlite3) or PostgreSQL (pg)
 * through Kysely. Node only.
 *
 * @module
 */
export {
  CollateralCache,
  type CollateralRecord,
  type CollateralStore,
} from './collateral-cache.js'
export { defaultStoreLocation, isStoreFile, MEMORY_STORE, storeLocation } from './location.js'
export { migrateStore, type StoreDialect } from './migrations.js'
export { openStore, type Store } from './open.js'
export type { CollateralTable, StoreDatabase } from './schema.js'
