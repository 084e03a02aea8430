/**
 * Opening the store: a SQLite file in the user's data folder by default, or a PostgreSQL database
 * named by a `postgres://` URL, which several `confide serve` replicas can share. Node only.
 *
 * @module
 */
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import { ConfigError } from '../core/errors.js'
import { isStoreFile, MEMORY_STORE } from './location.js'
import { migrateStore, type StoreDialect } from './migrations.js'
import type { StoreDatabase } from './schema.js'

/** Maximum wait for a PostgreSQL connection, in milliseconds. */
const CONNECT_TIMEOUT_MS = 10_000

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
    if (isStoreFile(location)) {
      mkdirSync(dirname(location), { recursive: true, mode: 0o700 })
      // The store contains sealed secrets and the audit log, so a new file is readable by its owner
      // only. SQLite gives its -wal and -shm files the mode of the database file.
      closeSync(openSync(location, 'a', 0o600))
    }
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

/** Returns the URL with its password replaced, for messages. */
function redactPassword(location: string): string {
  try {
    const url = new URL(location)
    if (url.password !== '') url.password = '***'
    return url.href
  } catch {
    return 'the configured PostgreSQL URL'
  }
}

/**
 * Connects to the PostgreSQL database at `location` through a `pg` pool. The `pg` package is
 * loaded here, so SQLite users never load it.
 */
async function openPostgres(location: string): Promise<Kysely<StoreDatabase>> {
  const { default: pg } = await import('pg')
  // A server that never responds fails the connection after this time instead of blocking the caller.
  const pool = new pg.Pool({
    connectionString: location,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  // An idle client that loses its connection emits 'error' on the pool, and an unhandled 'error'
  // event ends the process. The pool has already dropped that client, so there is nothing to do.
  pool.on('error', () => {})
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) })
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    await db.destroy()
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `store ${redactPassword(location)} cannot be opened: ${reason}`,
      { cause: error },
    )
  }

  return db
}

/**
 * Opens the store at `location` and brings its schema up to date. A file path or `:memory:`
 * opens SQLite, creating the file and its folder when absent. A `postgres://` or `postgresql://`
 * URL opens that PostgreSQL database, in the syntax of the `pg` package's connection strings.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a location that cannot be opened or connected to,
 *   for other database URLs, and when the schema migration fails.
 */
export async function openStore(location: string): Promise<Store> {
  const postgres = /^postgres(ql)?:\/\//i.test(location)
  if (!postgres && location !== MEMORY_STORE && !isStoreFile(location)) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `store ${location} is not a file path, :memory:, or a postgres:// URL`,
    )
  }

  const dialect: StoreDialect = postgres ? 'postgres' : 'sqlite'
  const db = postgres
    ? await openPostgres(location)
    : new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: openSqlite(location) }) })
  try {
    await migrateStore(db, dialect)
  } catch (error) {
    await db.destroy()
    throw error
  }

  return { db, dialect, location, close: () => db.destroy() }
}
