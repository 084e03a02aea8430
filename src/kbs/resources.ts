/**
 * Sealed resources and policies in the store. Each write runs in the caller's transaction, so
 * the broker commits it together with its audit record.
 *
 * @module
 */
import type { Kysely } from 'kysely'
import { type Policy, validatePolicy } from '../appraisal/policy.js'
import type { StoreDatabase } from '../store/schema.js'

type Database = Kysely<StoreDatabase>

/** Name under which the attestation policy is stored. */
const ATTESTATION_POLICY_NAME = 'default'

/** The author and time of a write. */
export interface WriteStamp {
  readonly at: Date
  readonly actor: string
}

/** Stores a sealed resource, replacing the one under the same path. */
export async function putResource(
  db: Database,
  path: string,
  sealed: Uint8Array,
  stamp: WriteStamp,
) {
  const row = {
    path,
    sealed: Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength),
    updated_at: stamp.at.toISOString(),
    updated_by: stamp.actor,
  }
  await db
    .insertInto('kbs_resource')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('path').doUpdateSet({
        sealed: row.sealed,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
      }),
    )
    .execute()
}

/** Returns the sealed bytes stored under a path (a copy), or undefined. */
export async function getResource(db: Database, path: string): Promise<Uint8Array | undefined> {
  const row = await db
    .selectFrom('kbs_resource')
    .select('sealed')
    .where('path', '=', path)
    .executeTakeFirst()

  return row === undefined ? undefined : new Uint8Array(row.sealed)
}

/** Deletes the resource under a path. Returns whether there was one. */
export async function deleteResource(db: Database, path: string): Promise<boolean> {
  const result = await db.deleteFrom('kbs_resource').where('path', '=', path).executeTakeFirst()

  return result.numDeletedRows > 0n
}

/** Stores the policy of a path (or `*`), replacing the one before. */
export async function putResourcePolicy(
  db: Database,
  path: string,
  policy: Policy,
  stamp: WriteStamp,
) {
  const row = {
    path,
    policy_id: policy.id,
    policy: JSON.stringify(policy),
    updated_at: stamp.at.toISOString(),
    updated_by: stamp.actor,
  }
  await db
    .insertInto('kbs_resource_policy')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('path').doUpdateSet({
        policy_id: row.policy_id,
        policy: row.policy,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
      }),
    )
    .execute()
}

/** Returns the policy stored for exactly this path (or `*`), or undefined. */
export async function getResourcePolicy(db: Database, path: string): Promise<Policy | undefined> {
  const row = await db
    .selectFrom('kbs_resource_policy')
    .select('policy')
    .where('path', '=', path)
    .executeTakeFirst()

  return row === undefined ? undefined : validatePolicy(JSON.parse(row.policy))
}

/** Deletes the policy of a path (or `*`). Returns whether there was one. */
export async function deleteResourcePolicy(db: Database, path: string): Promise<boolean> {
  const result = await db
    .deleteFrom('kbs_resource_policy')
    .where('path', '=', path)
    .executeTakeFirst()

  return result.numDeletedRows > 0n
}

/** Stores the attestation policy, replacing the one before. */
export async function putAttestationPolicy(db: Database, policy: Policy, stamp: WriteStamp) {
  const row = {
    name: ATTESTATION_POLICY_NAME,
    policy_id: policy.id,
    policy: JSON.stringify(policy),
    updated_at: stamp.at.toISOString(),
    updated_by: stamp.actor,
  }
  await db
    .insertInto('kbs_attestation_policy')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('name').doUpdateSet({
        policy_id: row.policy_id,
        policy: row.policy,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
      }),
    )
    .execute()
}

/** Returns the stored attestation policy, or undefined. */
export async function getAttestationPolicy(db: Database): Promise<Policy | undefined> {
  const row = await db
    .selectFrom('kbs_attestation_policy')
    .select('policy')
    .where('name', '=', ATTESTATION_POLICY_NAME)
    .executeTakeFirst()

  return row === undefined ? undefined : validatePolicy(JSON.parse(row.policy))
}
