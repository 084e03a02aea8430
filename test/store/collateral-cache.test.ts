/**
 * The store and its collateral cache on SQLite: the cases shared with PostgreSQL, the write-ahead
 * log, and where the store opens by default.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { sql } from 'kysely'
import { CollateralCache } from '../../src/store/collateral-cache.js'
import { defaultStoreLocation, MEMORY_STORE, storeLocation } from '../../src/store/location.js'
import { openStore } from '../../src/store/open.js'
import { describeCollateralCache, record } from './cache-cases.js'

const scratch = mkdtempSync(join(tmpdir(), 'confide-store-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

let stores = 0

describeCollateralCache('CollateralCache on SQLite', {
  newLocation: async () => {
    stores += 1
    return join(scratch, `store-${stores}`, 'confide.db')
  },
})

describe('CollateralCache on SQLite in memory', () => {
  it('returns a record byte for byte', async () => {
    const store = await openStore(MEMORY_STORE)
    try {
      const cache = new CollateralCache(store)
      const stored = record('intel/tcb-info/tdx/00906ed50000', [0x7b, 0x00, 0xff, 0x22])
      await cache.put(stored)
      assert.deepEqual(await cache.get(stored.key), stored)
    } finally {
      await store.close()
    }
  })
})

describe('openStore', () => {
  it('creates the file with a write-ahead log', async () => {
    const store = await openStore(join(scratch, 'wal', 'nested', 'confide.db'))
    try {
      const { rows } = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(store.db)
      assert.equal(rows[0]?.journal_mode, 'wal')
      assert.equal(store.dialect, 'sqlite')
    } finally {
      await store.close()
    }
  })

  it('creates the file and its log readable by the owner only', async () => {
    const location = join(scratch, 'private', 'confide.db')
    const store = await openStore(location)
    try {
      await new CollateralCache(store).put(record('intel/qe-identity/tdx', [1]))
      assert.equal(statSync(location).mode & 0o777, 0o600)
      assert.equal(statSync(`${location}-wal`).mode & 0o777, 0o600)
    } finally {
      await store.close()
    }
  })

  it('rejects other URLs', async () => {
    await assert.rejects(openStore('mysql://db/confide'), { code: 'ERR_CONFIG_INVALID' })
  })

  it('rejects a location it cannot open', async () => {
    await assert.rejects(openStore(scratch), { code: 'ERR_CONFIG_INVALID' })
  })
})

describe('defaultStoreLocation', () => {
  it('uses an absolute XDG_DATA_HOME', () => {
    assert.equal(
      defaultStoreLocation({ XDG_DATA_HOME: '/data', HOME: '/home/u' }),
      '/data/confide/confide.db',
    )
  })

  it('ignores a relative XDG_DATA_HOME', () => {
    const location = defaultStoreLocation({ XDG_DATA_HOME: 'data' })
    assert.ok(location.endsWith(join('.local', 'share', 'confide', 'confide.db')), location)
  })
})

describe('storeLocation', () => {
  it('prefers the given location, then CONFIDE_STORE, then the default', () => {
    const env = { CONFIDE_STORE: '/env.db', XDG_DATA_HOME: '/data' }
    assert.equal(storeLocation('/given.db', env), '/given.db')
    assert.equal(storeLocation(undefined, env), '/env.db')
    assert.equal(storeLocation(undefined, { XDG_DATA_HOME: '/data' }), '/data/confide/confide.db')
  })
})
