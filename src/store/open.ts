/**
 * Opening the store: a SQLite file in the user's data folder by default. Node only.
 *
 * PostgreSQL is the planned second engine, for several `confide serve` replicas. The schema and
 * migrations already take the dialect into account. The connection is missing: the `pg` package
 * and a `PostgresDialect` built from the `postgres://` URL in `openStore`.
 *
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { ConfigError } from '../core/errors.js'
import { isStoreFile, MEMORY_STORE } from './location.js'
import { migrateStore, type StoreDialect } from './migrations.js'
import type { StoreDatabase } from './schema.js'

/** An open store. Close it when done so SQLite can checkpoint its write-ahead log. */
export interface Store {
  readonly db: Kysely<StoreDatabase>
  readonly dialect: StoreDialect
  /** The file path, `:memory:`, or a database URL. */
  readonly location: string
  close(): Promise<void>
}

function openSqlite(location: string): Database.Database {
  try {
    if (isStoreFile(location)) mkdirSync(dirname(location), { recursive: true, mode: 0o700 })
    const database = new Database(location)
    if (location !== MEMORY_STORE) database.pragma('journal_mode = WAL')
    // FULL makes every committed transaction durable across a power loss, not only the database.
    database.pragma('synchronous = FULL')
    return database
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError('ERR_CONFIG_INVALID', `store ${location} cannot be opened: ${reason}`, {
      cause: error,
    })
  }
}

/**
 * Opens the store at `location` (a file path or `:memory:`), creating the file and its folder
 * when absent, and brings its schema up to date.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a location that cannot be opened, and for database
 *   URLs: `postgres://` needs the `pg` package, which confide does not ship yet.
 */
export async function openStore(location: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      'PostgreSQL stores are not supported yet; give a SQLite file path or :memory:',
    )
  }
  if (location !== MEMORY_STORE && !isStoreFile(location)) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `store ${location} is not a file path, :memory: or a supported database URL`,
    )
  }
  const db = new Kysely<StoreDatabase>({
    dialect: new SqliteDialect({ database: openSqlite(location) }),
  })
  try {
    await migrateStore(db, 'sqlite')
  } catch (error) {
    await db.destroy()
    throw error
  }
  return { db, dialect: 'sqlite', location, close: () => db.destroy() }
}
