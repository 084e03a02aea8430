/**
 * Appraisal policies stored by the service, by ID, for `/v1/verify` and the admin API.
 *
 * @module
 */
import { type Policy, validatePolicy } from '../appraisal/policy.js'
import { writeAudit } from '../kbs/audit.js'
import type { Store } from '../store/open.js'

/** A stored policy with who stored it and when. */
export interface StoredPolicy {
  readonly policy: Policy
  readonly updatedAt: string
  readonly updatedBy: string
}

/** Reads and writes policies in the store. Every write is one transaction with its audit record. */
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
   * after the write and its audit record are committed.
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
      await writeAudit(transaction, {
        at,
        action: 'set-policy',
        decision: 'allow',
        reason: `policy ${checked.id} stored`,
        policyId: checked.id,
        actor,
      })
    })

    return { policy: checked, updatedAt: row.updated_at, updatedBy: actor }
  }

  /** Deletes the policy stored under `id`, with an audit record. Returns whether there was one. */
  async delete(id: string, actor: string, at: Date): Promise<boolean> {
    return this.#store.db.transaction().execute(async (transaction) => {
      const result = await transaction.deleteFrom('policy').where('id', '=', id).executeTakeFirst()
      if (result.numDeletedRows === 0n) return false
      await writeAudit(transaction, {
        at,
        action: 'delete-policy',
        decision: 'allow',
        reason: `policy ${id} deleted`,
        policyId: id,
        actor,
      })
      return true
    })
  }
}
