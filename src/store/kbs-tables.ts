/**
 * The key broker's tables: sessions, sealed resources, policies and the audit log (migration
 * `0002-kbs`).
 *
 * @module
 */
import type { ColumnDataType, Expression, Kysely } from 'kysely'
import type { StoreDialect } from './migrations.js'

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was
type AnyDatabase = Kysely<any>

/** Column types that differ between the engines. */
export interface KbsColumnTypes {
  readonly dialect: StoreDialect
  /** Text key columns: "C" collation on PostgreSQL, so keys sort by code point. */
  readonly key: ColumnDataType | Expression<unknown>
  readonly binary: ColumnDataType
}

async function createPolicyTable(
  db: AnyDatabase,
  table: string,
  name: string,
  types: KbsColumnTypes,
) {
  await db.schema
    .createTable(table)
    .ifNotExists()
    .addColumn(name, types.key, (column) => column.primaryKey())
    .addColumn('policy_id', 'text', (column) => column.notNull())
    .addColumn('policy', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('updated_by', 'text', (column) => column.notNull())
    .execute()
}

async function createAuditTable(db: AnyDatabase, types: KbsColumnTypes): Promise<void> {
  const table = db.schema.createTable('kbs_audit').ifNotExists()
  const withId =
    types.dialect === 'postgres'
      ? table.addColumn('id', 'bigserial', (column) => column.primaryKey())
      : table.addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement())
  await withId
    .addColumn('at', 'text', (column) => column.notNull())
    .addColumn('action', 'text', (column) => column.notNull())
    .addColumn('decision', 'text', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('client_address', 'text')
    .addColumn('session_id', 'text')
    .addColumn('tee', 'text')
    .addColumn('resource', 'text')
    .addColumn('evidence_sha256', 'text')
    .addColumn('policy_id', 'text')
    .addColumn('actor', 'text')
    .execute()
  await db.schema.createIndex('kbs_audit_at').ifNotExists().on('kbs_audit').column('at').execute()
}

/** Creates the key broker's tables. Every statement is idempotent (`IF NOT EXISTS`). */
export async function createKbsTables(db: AnyDatabase, types: KbsColumnTypes): Promise<void> {
  await db.schema
    .createTable('kbs_session')
    .ifNotExists()
    .addColumn('id', types.key, (column) => column.primaryKey())
    .addColumn('tee', 'text', (column) => column.notNull())
    .addColumn('version', 'text', (column) => column.notNull())
    .addColumn('client_address', 'text', (column) => column.notNull())
    .addColumn('nonce', 'text', (column) => column.notNull())
    .addColumn('nonce_expires_at', 'text', (column) => column.notNull())
    .addColumn('nonce_used_at', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('attested_at', 'text')
    .addColumn('tee_pubkey', 'text')
    .addColumn('evidence_sha256', 'text')
    .addColumn('verification', 'text')
    .addColumn('token_sha256', types.key, (column) => column.unique())
    .addColumn('token_expires_at', 'text')
    .execute()
  await db.schema
    .createTable('kbs_resource')
    .ifNotExists()
    .addColumn('path', types.key, (column) => column.primaryKey())
    .addColumn('sealed', types.binary, (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('updated_by', 'text', (column) => column.notNull())
    .execute()
  await createPolicyTable(db, 'kbs_resource_policy', 'path', types)
  await createPolicyTable(db, 'kbs_attestation_policy', 'name', types)
  await createAuditTable(db, types)
}
