/**
 * The store and its collateral cache on PostgreSQL: the cases shared with SQLite, run against a
 * throwaway cluster (`ThrowawayCluster`) listening on 127.0.0.1 only, stopped at the end.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { openStore } from '../../src/store/open.js'
import { findPostgresBin, freePort, ThrowawayCluster } from '../helpers/postgres.js'
import { describeCollateralCache } from './cache-cases.js'

const bin = findPostgresBin()
const skip =
  bin === undefined ? 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin' : false

describe('PostgreSQL store', { skip }, () => {
  const cluster = bin === undefined ? undefined : new ThrowawayCluster(bin)
  before(() => cluster?.start())
  after(() => cluster?.stop())

  describeCollateralCache('CollateralCache on PostgreSQL', {
    newLocation: async () => {
      if (cluster === undefined) throw new Error('no cluster')
      return cluster.newDatabase()
    },
  })

  describe('openStore', () => {
    it('opens a postgresql:// URL with bytea columns', async () => {
      const location = (await cluster?.newDatabase())?.replace(/^postgres:/, 'postgresql:')
      assert.ok(location !== undefined)
      const store = await openStore(location)
      try {
        assert.equal(store.dialect, 'postgres')
        const { rows } = await sql<{ type: string }>`
          select data_type as type from information_schema.columns
          where table_name = 'collateral' and column_name = 'body'`.execute(store.db)
        assert.equal(rows[0]?.type, 'bytea')
      } finally {
        await store.close()
      }
    })
  })
})

describe('openStore with a PostgreSQL URL', () => {
  it('rejects a server it cannot reach', async () => {
    const port = await freePort()
    await assert.rejects(
      openStore(`postgres://confide:secret@127.0.0.1:${port}/confide`),
      (error) => {
        assert.equal((error as { code?: unknown }).code, 'ERR_CONFIG_INVALID')
        assert.doesNotMatch((error as Error).message, /secret/)
        return true
      },
    )
  })
})
