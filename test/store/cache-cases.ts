/**
 * Collateral cache cases that every store engine must pass: records round-trip byte for byte,
 * replace each other by key, survive reopening, and a new store opened twice at once migrates
 * once. Each engine's test file calls `describeCollateralCache` with its own way to make stores.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CollateralCache, type CollateralRecord } from '../../src/store/collateral-cache.js'
import { openStore, type Store } from '../../src/store/open.js'

/** How the cases reach one engine. */
export interface StoreEngine {
  /** Returns the location of a store that has not been opened yet and contains no records. */
  newLocation(): Promise<string>
}

export function record(
  key: string,
  body: number[],
  fresh = '2030-01-01T00:00:00.000Z',
): CollateralRecord {
  return {
    key,
    url: `https://pcs.test/${key}`,
    body: new Uint8Array(body),
    issuerChain: new TextEncoder().encode('-----BEGIN CERTIFICATE-----\n'),
    fetchedAt: new Date('2026-01-01T00:00:00.000Z'),
    freshUntil: new Date(fresh),
  }
}

/** Registers the shared cases under `describe(name)`. */
export function describeCollateralCache(name: string, engine: StoreEngine): void {
  async function withStore(use: (store: Store) => Promise<void>): Promise<void> {
    const store = await openStore(await engine.newLocation())
    try {
      await use(store)
    } finally {
      await store.close()
    }
  }

  describe(name, () => {
    it('returns a record byte for byte', () =>
      withStore(async (store) => {
        const cache = new CollateralCache(store)
        const stored = record('intel/tcb-info/tdx/00906ed50000', [0x7b, 0x00, 0xff, 0x22])
        await cache.put(stored)
        assert.deepEqual(await cache.get(stored.key), stored)
      }))

    it('keeps a record without issuer chain as such', () =>
      withStore(async (store) => {
        const cache = new CollateralCache(store)
        const { issuerChain: _, ...bare } = record('intel/root-ca-crl', [0x30, 0x00])
        await cache.put(bare)
        const read = await cache.get(bare.key)
        assert.equal(read?.issuerChain, undefined)
        assert.deepEqual(read?.body, bare.body)
      }))

    it('returns undefined for an unknown key', () =>
      withStore(async (store) => {
        assert.equal(await new CollateralCache(store).get('amd/vcek/none'), undefined)
      }))

    it('replaces a record stored under the same key', () =>
      withStore(async (store) => {
        const cache = new CollateralCache(store)
        await cache.put(record('k', [1], '2026-02-01T00:00:00.000Z'))
        await cache.put(record('k', [2, 3], '2026-03-01T00:00:00.000Z'))
        const read = await cache.get('k')
        assert.deepEqual(read?.body, new Uint8Array([2, 3]))
        assert.equal(read?.freshUntil.toISOString(), '2026-03-01T00:00:00.000Z')
        assert.deepEqual(await cache.keys(), ['k'])
      }))

    it('lists keys in code point order', () =>
      withStore(async (store) => {
        const cache = new CollateralCache(store)
        for (const key of ['b', 'a/x', 'B', 'a-x', 'a']) await cache.put(record(key, [0]))
        assert.deepEqual(await cache.keys(), ['B', 'a', 'a-x', 'a/x', 'b'])
      }))

    it('hands out copies the caller may change', () =>
      withStore(async (store) => {
        const cache = new CollateralCache(store)
        await cache.put(record('k', [1, 2]))
        const first = await cache.get('k')
        first?.body.fill(9)
        assert.deepEqual((await cache.get('k'))?.body, new Uint8Array([1, 2]))
      }))

    it('keeps records across reopening', async () => {
      const location = await engine.newLocation()
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

    it('migrates a new store opened twice at once', async () => {
      const location = await engine.newLocation()
      const stores = await Promise.all([openStore(location), openStore(location)])
      try {
        await new CollateralCache(stores[0]).put(record('k', [1]))
        const read = await new CollateralCache(stores[1]).get('k')
        assert.deepEqual(read?.body, new Uint8Array([1]))
      } finally {
        await Promise.all(stores.map((store) => store.close()))
      }
    })
  })
}
