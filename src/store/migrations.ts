/**
 * Schema migrations of the store, kept in code so that a packaged build needs no migration files.
 * Each migration is written once for both dialects; only the binary column type differs.
 *
 * @module
 */
import {
  type Expression,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely'
import { ConfigError } from '../core/errors.js'
import { createKbsTables } from './kbs-tables.js'

/** SQL engines the store runs on. */
export type StoreDialect = 'sqlite' | 'postgres'

/** Table names of Kysely's migration bookkeeping, prefixed so they sort beside ours. */
const MIGRATION_TABLE = 'confide_migration'
const MIGRATION_LOCK_TABLE = 'confide_migration_lock'

function binaryType(dialect: StoreDialect): 'blob' | 'bytea' {
  return dialect === 'postgres' ? 'bytea' : 'blob'
}

// Migrations take `Kysely<any>` because they run against the schema as it was, not as it is now.
// biome-ignore lint/suspicious/noExplicitAny: the Kysely convention for migrations
type AnyDatabase = Kysely<any>

/**
 * Returns the type of text key columns. On PostgreSQL it takes the "C" collation, so that keys
 * sort by code point as in SQLite, whatever locale the database was created with.
 */
function keyType(dialect: StoreDialect): 'text' | Expression<unknown> {
  return dialect === 'postgres' ? sql`text collate "C"` : 'text'
}

/** Returns the migrations in the order they apply. Names sort in that order, so never rename one. */
function storeMigrations(dialect: StoreDialect): Record<string, Migration> {
  const binary = binaryType(dialect)
  const key = keyType(dialect)
  return {
    '0001-collateral': {
      async up(db: AnyDatabase) {
        await db.schema
          .createTable('collateral')
          .ifNotExists()
          .addColumn('key', key, (column) => column.primaryKey())
          .addColumn('url', 'text', (column) => column.notNull())
          .addColumn('body', binary, (column) => column.notNull())
          .addColumn('issuer_chain', binary)
          .addColumn('fetched_at', 'text', (column) => column.notNull())
          .addColumn('fresh_until', 'text', (column) => column.notNull())
          .execute()
      },
    },
    '0002-kbs': { up: (db: AnyDatabase) => createKbsTables(db, { dialect, key, binary }) },
    '0003-service': {
      async up(db: AnyDatabase) {
        await db.schema
          .createTable('policy')
          .ifNotExists()
          .addColumn('id', key, (column) => column.primaryKey())
          .addColumn('document', 'text', (column) => column.notNull())
          .addColumn('updated_at', 'text', (column) => column.notNull())
          .addColumn('updated_by', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createTable('reference_value')
          .ifNotExists()
          .addColumn('id', key, (column) => column.primaryKey())
          .addColumn('platform', key, (column) => column.notNull())
          .addColumn('document', 'text', (column) => column.notNull())
          .addColumn('created_at', 'text', (column) => column.notNull())
          .addColumn('created_by', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createIndex('reference_value_platform')
          .ifNotExists()
          .on('reference_value')
          .columns(['platform', 'created_at'])
          .execute()
      },
    },
  }
}

/**
 * Brings the schema up to date. Two processes opening a new store at once may both run the same
 * migration. Every statement is idempotent (`IF NOT EXISTS`), so the loser of a race retries.
 * It retries at most once per migration. On SQLite, where Kysely takes no migration lock, it can
 * lose the race on each migration in turn while the winner is still applying the later ones.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when a migration still fails after those retries.
 */
export async function migrateStore(db: AnyDatabase, dialect: StoreDialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => storeMigrations(dialect) }
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  })
  let { error } = await migrator.migrateToLatest()
  const retries = Object.keys(storeMigrations(dialect)).length
  for (let retry = 0; retry < retries && error !== undefined; retry++)
    ({ error } = await migrator.migrateToLatest())
  if (error !== undefined) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError('ERR_CONFIG_INVALID', `store schema migration failed: ${reason}`, {
      cause: error,
    })
  }
}
