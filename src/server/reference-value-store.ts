/**
 * Reference values stored by the service: the database-backed `ReferenceValueStore` that
 * `/v1/verify` and `/v1/appraise` read and the admin API writes.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import {
  normalizeReferenceValue,
  type ReferenceValue,
  type ReferenceValueStore,
} from '../appraisal/reference-values.js'
import { writeAudit } from '../kbs/audit.js'
import type { Store } from '../store/open.js'
import type { ReferenceValueTable } from '../store/schema.js'

/**
 * Rows per INSERT statement. PostgreSQL takes at most 65535 bound parameters in one statement,
 * and each row binds five.
 */
const INSERT_BATCH_ROWS = 1000

/** A stored reference value with its ID and who added it. */
export interface StoredReferenceValue {
  readonly id: string
  readonly value: ReferenceValue
  readonly createdAt: string
  readonly createdBy: string
}

function toStored(row: ReferenceValueTable): StoredReferenceValue {
  return {
    id: row.id,
    value: JSON.parse(row.document) as ReferenceValue,
    createdAt: row.created_at,
    createdBy: row.created_by,
  }
}

/** Reference values in the store. Values are normalized (hex in lower case) when added. */
export class StoreReferenceValues implements ReferenceValueStore {
  readonly #store: Store

  constructor(store: Store) {
    this.#store = store
  }

  async find(platform: string): Promise<readonly ReferenceValue[]> {
    const rows = await this.#store.db
      .selectFrom('reference_value')
      .selectAll()
      .where('platform', '=', platform)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map((row) => toStored(row).value)
  }

  async list(): Promise<readonly ReferenceValue[]> {
    return (await this.entries()).map((entry) => entry.value)
  }

  async add(values: readonly ReferenceValue[]): Promise<void> {
    await this.insert(values, 'library', new Date())
  }

  /** Lists stored values with their IDs, for one platform or all, oldest first. */
  async entries(platform?: string): Promise<StoredReferenceValue[]> {
    let query = this.#store.db.selectFrom('reference_value').selectAll()
    if (platform !== undefined) query = query.where('platform', '=', platform)
    const rows = await query.orderBy('created_at').orderBy('id').execute()
    return rows.map(toStored)
  }

  /**
   * Adds values in one transaction and returns them with their new IDs. The caller validates
   * them first (`parseReferenceValuesJson`).
   */
  async insert(
    values: readonly ReferenceValue[],
    actor: string,
    at: Date,
  ): Promise<StoredReferenceValue[]> {
    const createdAt = at.toISOString()
    const stored = values.map((value) => ({
      id: randomUUID(),
      value: normalizeReferenceValue(value),
      createdAt,
      createdBy: actor,
    }))
    if (stored.length === 0) return stored
    const rows = stored.map((entry) => ({
      id: entry.id,
      platform: entry.value.platform,
      document: JSON.stringify(entry.value),
      created_at: createdAt,
      created_by: actor,
    }))
    await this.#store.db.transaction().execute(async (transaction) => {
      for (let start = 0; start < rows.length; start += INSERT_BATCH_ROWS) {
        const batch = rows.slice(start, start + INSERT_BATCH_ROWS)
        await transaction.insertInto('reference_value').values(batch).execute()
      }
      for (const entry of stored)
        await writeAudit(transaction, {
          at,
          action: 'add-reference-value',
          decision: 'allow',
          reason: `reference value for ${entry.value.platform} ${entry.value.claim} added`,
          policyId: entry.id,
          actor,
        })
    })

    return stored
  }

  /** Deletes the value with this ID, with an audit record. Returns whether there was one. */
  async delete(id: string, actor: string, at: Date): Promise<boolean> {
    return this.#store.db.transaction().execute(async (transaction) => {
      const result = await transaction
        .deleteFrom('reference_value')
        .where('id', '=', id)
        .executeTakeFirst()
      if (result.numDeletedRows === 0n) return false
      await writeAudit(transaction, {
        at,
        action: 'delete-reference-value',
        decision: 'allow',
        reason: `reference value ${id} deleted`,
        policyId: id,
        actor,
      })
      return true
    })
  }
}
