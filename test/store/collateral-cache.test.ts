/**
 * The store and its collateral cache on SQLite: records round-trip byte for byte, replace each
 * other by key, survive reopening, and the store opens where the environment points.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { sql } from 'kysely'
import { CollateralCache, type CollateralRecord } from '../../src/store/collateral-cache.js'
import { defaultStoreLocation, MEMORY_STORE, storeLocation } from '../../src/store/location.js'
import { openStore } from '../../src/store/open.js'

const scratch = mkdtempSync(join(tmpdir(), 'confide-store-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

function record(key: string, body: number[], fresh = '2030-01-01T00:00:00.000Z'): CollateralRecord {
  return {
    key,
    url: `https://pcs.test/${key}`,
    body: new Uint8Array(body),
    issuerChain: new TextEncoder().encode('-----BEGIN CERTIFICATE-----\n'),
    fetchedAt: new Date('2026-01-01T00:00:00.000Z'),
    freshUntil: new Date(fresh),
  }
}

describe('CollateralCache', () => {
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

  it('keeps a record without issuer chain as such', async () => {
    const store = await openStore(MEMORY_STORE)
    try {
      const cache = new CollateralCache(store)
      const { issuerChain: _, ...bare } = record('intel/root-ca-crl', [0x30, 0x00])
      await cache.put(bare)
      const read = await cache.get(bare.key)
      assert.equal(read?.issuerChain, undefined)
      assert.deepEqual(read?.body, bare.body)
    } finally {
      await store.close()
    }
  })

  it('returns undefined for an unknown key', async () => {
    const store = await openStore(MEMORY_STORE)
    try {
      assert.equal(await new CollateralCache(store).get('amd/vcek/none'), undefined)
    } finally {
      await store.close()
    }
  })

  it('replaces a record stored under the same key', async () => {
    const store = await openStore(MEMORY_STORE)
    try {
      const cache = new CollateralCache(store)
      await cache.put(record('k', [1], '2026-02-01T00:00:00.000Z'))
      await cache.put(record('k', [2, 3], '2026-03-01T00:00:00.000Z'))
      const read = await cache.get('k')
      assert.deepEqual(read?.body, new Uint8Array([2, 3]))
      assert.equal(read?.freshUntil.toISOString(), '2026-03-01T00:00:00.000Z')
      assert.deepEqual(await cache.keys(), ['k'])
    } finally {
      await store.close()
    }
  })

  it('hands out copies the caller may change', async () => {
    const store = await openStore(MEMORY_STORE)
    try {
      const cache = new CollateralCache(store)
      await cache.put(record('k', [1, 2]))
      const first = await cache.get('k')
      first?.body.fill(9)
      assert.deepEqual((await cache.get('k'))?.body, new Uint8Array([1, 2]))
    } finally {
      await store.close()
    }
  })

  it('keeps records across reopening the file', async () => {
    const location = join(scratch, 'reopen', 'confide.db')
    const first = await openStore(location)
    await new CollateralCache(first).put(record('intel/qe-identity/sgx', [4, 5, 6]))
    await first.close()

    const second = await openStore(location)
    try {
      const read = await new CollateralCache(second).get('intel/qe-identity/sgx')
      assert.deepEqual(read?.body, new Uint8Array([4, 5, 6]))
    } finally {
      await second.close()
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

  it('migrates a new file opened twice at once', async () => {
    const location = join(scratch, 'race.db')
    const stores = await Promise.all([openStore(location), openStore(location)])
    try {
      await new CollateralCache(stores[0]).put(record('k', [1]))
      assert.deepEqual((await new CollateralCache(stores[1]).get('k'))?.body, new Uint8Array([1]))
    } finally {
      await Promise.all(stores.map((store) => store.close()))
    }
  })

  it('rejects PostgreSQL URLs until pg is wired up', async () => {
    await assert.rejects(openStore('postgres://confide@db/confide'), { code: 'ERR_CONFIG_INVALID' })
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
