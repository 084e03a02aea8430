/**
 * The fetcher's use of the cache: fresh items come from the store, expired ones are fetched again,
 * stale copies are served only when allowed by name, offline never fetches, and concurrent
 * requests for one item share one fetch.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CollateralFetchError } from '../../src/collateral/fetch-error.js'
import { CollateralFetcher, type CollateralFetcherOptions } from '../../src/collateral/fetcher.js'
import type { CollateralSources, FetchedItem, PlannedItem } from '../../src/collateral/plan.js'
import { unavailableItem } from '../../src/collateral/plan.js'
import { CollateralCache } from '../../src/store/collateral-cache.js'
import { MEMORY_STORE } from '../../src/store/location.js'
import { openStore } from '../../src/store/open.js'

const scratch = mkdtempSync(join(tmpdir(), 'confide-fetcher-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

/** Sources the fake items never touch; the fetcher only passes them on. */
const sources = {} as CollateralSources

const JAN = new Date('2026-01-01T00:00:00Z')
const FEB = new Date('2026-02-01T00:00:00Z')
const MAR = new Date('2026-03-01T00:00:00Z')

/** An item whose fetch returns `body` fresh until `freshUntil`, or fails, and counts its calls. */
function fakeItem(options: {
  body?: number[]
  freshUntil?: Date
  fail?: boolean
  delayMs?: number
}) {
  const item = {
    calls: 0,
    key: 'test/item',
    label: 'test item',
    optional: false,
    async fetch(): Promise<FetchedItem> {
      item.calls++
      if (options.delayMs !== undefined) await new Promise((r) => setTimeout(r, options.delayMs))
      if (options.fail === true) {
        throw new CollateralFetchError('GET https://pcs.test/item failed: HTTP 503', {
          reason: 'status',
          status: 503,
        })
      }
      return {
        url: 'https://pcs.test/item',
        body: new Uint8Array(options.body ?? [1]),
        ...(options.freshUntil === undefined ? {} : { freshUntil: options.freshUntil }),
      }
    },
    files: () => [],
  }
  return item satisfies PlannedItem
}

async function withCache<T>(run: (cache: CollateralCache) => Promise<T>): Promise<T> {
  const store = await openStore(MEMORY_STORE)
  try {
    return await run(new CollateralCache(store))
  } finally {
    await store.close()
  }
}

function fetcher(
  cache: CollateralCache,
  now: Date,
  options: Partial<CollateralFetcherOptions> = {},
) {
  return new CollateralFetcher({ sources, cache, clock: () => now, ...options })
}

describe('CollateralFetcher', () => {
  it('fetches a missing item and stores it', async () => {
    await withCache(async (cache) => {
      const item = fakeItem({ body: [7], freshUntil: FEB })
      const obtained = await fetcher(cache, JAN).obtain(item)
      assert.equal(obtained.origin, 'network')
      assert.equal(item.calls, 1)
      assert.deepEqual((await cache.get('test/item'))?.body, new Uint8Array([7]))
      assert.equal((await cache.get('test/item'))?.fetchedAt.toISOString(), JAN.toISOString())
    })
  })

  it('serves a fresh item from the cache', async () => {
    await withCache(async (cache) => {
      const item = fakeItem({ freshUntil: FEB })
      await fetcher(cache, JAN).obtain(item)
      const again = await fetcher(cache, new Date('2026-01-31T23:59:59Z')).obtain(item)
      assert.equal(again.origin, 'cache')
      assert.equal(item.calls, 1)
    })
  })

  it('fetches again once the next-update time has passed', async () => {
    await withCache(async (cache) => {
      const item = fakeItem({ freshUntil: FEB })
      await fetcher(cache, JAN).obtain(item)
      const again = await fetcher(cache, FEB).obtain(item)
      assert.equal(again.origin, 'network')
      assert.equal(item.calls, 2)
    })
  })

  it('keeps an item without next-update time for one day', async () => {
    await withCache(async (cache) => {
      const item = fakeItem({})
      await fetcher(cache, JAN).obtain(item)
      assert.equal(
        (await cache.get('test/item'))?.freshUntil.toISOString(),
        '2026-01-02T00:00:00.000Z',
      )
    })
  })

  it('fails for an expired item whose refetch fails', async () => {
    await withCache(async (cache) => {
      await fetcher(cache, JAN).obtain(fakeItem({ freshUntil: FEB }))
      await assert.rejects(fetcher(cache, MAR).obtain(fakeItem({ fail: true })), {
        code: 'ERR_COLLATERAL_UNAVAILABLE',
        reason: 'status',
      })
    })
  })

  it('serves a stale copy when allowed and the refetch fails', async () => {
    await withCache(async (cache) => {
      await fetcher(cache, JAN).obtain(fakeItem({ body: [5], freshUntil: FEB }))
      const stale = await fetcher(cache, MAR, { allowStaleCollateral: true }).obtain(
        fakeItem({ fail: true }),
      )
      assert.equal(stale.origin, 'stale-cache')
      assert.deepEqual(stale.record.body, new Uint8Array([5]))
      assert.equal(stale.warning?.status, 503)
    })
  })

  it('prefers a fresh fetch to a stale copy', async () => {
    await withCache(async (cache) => {
      await fetcher(cache, JAN).obtain(fakeItem({ body: [5], freshUntil: FEB }))
      const fresh = await fetcher(cache, MAR, { allowStaleCollateral: true }).obtain(
        fakeItem({ body: [6], freshUntil: new Date('2026-04-01T00:00:00Z') }),
      )
      assert.equal(fresh.origin, 'network')
      assert.deepEqual(fresh.record.body, new Uint8Array([6]))
    })
  })

  it('fetches a fresh item again on refresh', async () => {
    await withCache(async (cache) => {
      const item = fakeItem({ freshUntil: FEB })
      await fetcher(cache, JAN).obtain(item)
      const again = await fetcher(cache, JAN, { refresh: true }).obtain(item)
      assert.equal(again.origin, 'network')
      assert.equal(item.calls, 2)
    })
  })

  it('shares one fetch among concurrent requests', async () => {
    await withCache(async (cache) => {
      const item = fakeItem({ freshUntil: FEB, delayMs: 50 })
      const shared = fetcher(cache, JAN)
      const results = await Promise.all(Array.from({ length: 8 }, () => shared.obtain(item)))
      assert.equal(item.calls, 1)
      assert.ok(results.every((result) => result.record.key === 'test/item'))
      assert.equal((await shared.obtain(item)).origin, 'cache')
    })
  })

  it('never fetches offline', async () => {
    await withCache(async (cache) => {
      const item = fakeItem({ freshUntil: FEB })
      const offline = new CollateralFetcher({ cache, offline: true, clock: () => JAN })
      await assert.rejects(offline.obtain(item), { reason: 'offline' })
      assert.equal(item.calls, 0)
    })
  })

  it('serves fresh cached items offline, stale ones only when allowed', async () => {
    await withCache(async (cache) => {
      await fetcher(cache, JAN).obtain(fakeItem({ freshUntil: FEB }))
      const item = fakeItem({})
      const fresh = new CollateralFetcher({ cache, offline: true, clock: () => JAN })
      assert.equal((await fresh.obtain(item)).origin, 'cache')
      const late = new CollateralFetcher({ cache, offline: true, clock: () => MAR })
      await assert.rejects(late.obtain(item), { reason: 'offline' })
      const allowed = new CollateralFetcher({
        cache,
        offline: true,
        allowStaleCollateral: true,
        clock: () => MAR,
      })
      assert.equal((await allowed.obtain(item)).origin, 'stale-cache')
      assert.equal(item.calls, 0)
    })
  })

  it('serves from a reopened store without the network', async () => {
    const location = join(scratch, 'reopen.db')
    const first = await openStore(location)
    await fetcher(new CollateralCache(first), JAN).obtain(fakeItem({ body: [9], freshUntil: FEB }))
    await first.close()

    const second = await openStore(location)
    try {
      const cache = new CollateralCache(second)
      const offline = new CollateralFetcher({ cache, offline: true, clock: () => JAN })
      const obtained = await offline.obtain(fakeItem({}))
      assert.equal(obtained.origin, 'cache')
      assert.deepEqual(obtained.record.body, new Uint8Array([9]))
    } finally {
      await second.close()
    }
  })

  it('reports an item no service serves without fetching', async () => {
    await withCache(async (cache) => {
      const item = unavailableItem('amd/vlek', 'VLEK', 'only the cloud provider has it')
      await assert.rejects(fetcher(cache, JAN).obtain(item), { reason: 'unfetchable' })
    })
  })

  it('lets errors other than fetch failures through, even with stale allowed', async () => {
    await withCache(async (cache) => {
      await fetcher(cache, JAN).obtain(fakeItem({ freshUntil: FEB }))
      const broken = { ...fakeItem({}), fetch: () => Promise.reject(new TypeError('bug')) }
      await assert.rejects(
        fetcher(cache, MAR, { allowStaleCollateral: true }).obtain(broken),
        TypeError,
      )
    })
  })

  it('needs sources unless offline', () => {
    assert.throws(() => new CollateralFetcher({}), { code: 'ERR_CONFIG_INVALID' })
  })
})
