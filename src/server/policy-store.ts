/**
 * Appraisal policies stored by the service, by ID, for `/v1/verify` and the admin API.
 *
 * @module
 */
import { type Policy, validatePolicy } from '../appraisal/policy.js'
import type { Store } from '../store/open.js'

/** A stored policy with who stored it and when. */
export interface StoredPolicy {
  readonly policy: Policy
  readonly updatedAt: string
  readonly updatedBy: string
}

/** Reads and writes policies in the store. Every write is one transaction. */
export class PolicyStore {
  readonly #store: Store

  constructor(store: Store) {
    this.#store = store
  }

  /** Returns the policy stored under `id`, or undefined. */
  async get(id: string): Promise<StoredPolicy | undefined> {
    const row = await this.#store.db
      .selectFrom('policy')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    if (row === undefined) return undefined

    return {
      policy: JSON.parse(row.document) as Policy,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    }
  }

  /** Lists the stored policies in ID order. */
  async list(): Promise<StoredPolicy[]> {
    const rows = await this.#store.db.selectFrom('policy').selectAll().orderBy('id').execute()
    return rows.map((row) => ({
      policy: JSON.parse(row.document) as Policy,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    }))
  }

  /**
   * Validates a policy and stores it under its ID, replacing any policy with that ID. Returns
   * after the write is committed.
   *
   * @throws PolicyError `ERR_POLICY_INVALID` for a malformed policy.
   */
  async put(policy: unknown, actor: string, at: Date): Promise<StoredPolicy> {
    const checked = validatePolicy(policy)
    const row = {
      id: checked.id,
      document: JSON.stringify(checked),
      updated_at: at.toISOString(),
      updated_by: actor,
    }
    await this.#store.db.transaction().execute(async (transaction) => {
      await transaction
        .insertInto('policy')
        .values(row)
        .onConflict((conflict) =>
          conflict.column('id').doUpdateSet({
            document: row.document,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
          }),
        )
        .execute()
    })

    return { policy: checked, updatedAt: row.updated_at, updatedBy: actor }
  }

  /** Deletes the policy stored under `id`. Returns whether there was one. */
  async delete(id: string): Promise<boolean> {
    const result = await this.#store.db.deleteFrom('policy').where('id', '=', id).executeTakeFirst()
    return result.numDeletedRows > 0n
  }
}
