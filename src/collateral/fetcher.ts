/**
 * Obtains collateral items: from the cache while they are fresh, else from the network, sharing
 * one fetch among concurrent requests for the same item. An expired copy is served only when the
 * caller allows stale collateral by name and the network cannot give a fresh one.
 *
 * @module
 */
import { ConfigError } from '../core/errors.js'
import type { CollateralRecord, CollateralStore } from '../store/collateral-cache.js'
import { CollateralFetchError } from './fetch-error.js'
import type { CollateralSources, PlannedItem } from './plan.js'

/** How long an item without a next-update time (a CRL that names none) is served from cache. */
const DEFAULT_FRESHNESS_MS = 24 * 60 * 60 * 1000

/** Source of an obtained item. */
export type ItemOrigin = 'cache' | 'network' | 'stale-cache'

/** An obtained item. */
export interface ObtainedItem {
  readonly record: CollateralRecord
  readonly origin: ItemOrigin
  /** For a stale copy: why no fresh one could be had. */
  readonly warning?: CollateralFetchError
}

/** Options of a fetcher. */
export interface CollateralFetcherOptions {
  /** The services to fetch from. Required unless `offline`. */
  readonly sources?: CollateralSources
  /** Store of fetched items. Absent: nothing is kept between calls. */
  readonly cache?: CollateralStore
  /** Never use the network: only cached items are served. Default: false. */
  readonly offline?: boolean
  /**
   * Serve a cached item past its next-update time when no fresh one can be fetched. Default:
   * false, so an expired item is unavailable. The verifier still judges the item at its own time.
   */
  readonly allowStaleCollateral?: boolean
  /** Fetch every item even when the cache contains a fresh copy. Default: false. */
  readonly refresh?: boolean
  /** The current time, for freshness. Default: the system clock. */
  readonly clock?: () => Date
}

/** Obtains planned items through the cache. */
export class CollateralFetcher {
  readonly #options: CollateralFetcherOptions
  readonly #clock: () => Date
  readonly #inFlight = new Map<string, Promise<ObtainedItem>>()

  /** @throws ConfigError `ERR_CONFIG_INVALID` without sources when not offline. */
  constructor(options: CollateralFetcherOptions) {
    if (options.sources === undefined && options.offline !== true) {
      throw new ConfigError(
        'ERR_CONFIG_INVALID',
        'a collateral fetcher needs sources unless offline',
      )
    }
    this.#options = options
    this.#clock = options.clock ?? (() => new Date())
  }

  /** Whether this fetcher never uses the network. */
  get offline(): boolean {
    return this.#options.offline === true
  }

  /**
   * Returns the item from the cache or the network. Concurrent calls for one key share one
   * fetch.
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE` when no usable copy can be had.
   */
  obtain(item: PlannedItem): Promise<ObtainedItem> {
    const pending = this.#inFlight.get(item.key)
    if (pending !== undefined) return pending
    const promise = this.#obtain(item).finally(() => this.#inFlight.delete(item.key))
    this.#inFlight.set(item.key, promise)
    return promise
  }

  async #obtain(item: PlannedItem): Promise<ObtainedItem> {
    if (item.unavailable !== undefined) {
      throw new CollateralFetchError(`${item.label} cannot be fetched: ${item.unavailable}`, {
        reason: 'unfetchable',
      })
    }
    const { cache, sources } = this.#options
    const stored = await cache?.get(item.key)
    const now = this.#clock()
    if (stored !== undefined && this.#options.refresh !== true && now < stored.freshUntil) {
      return { record: stored, origin: 'cache' }
    }

    if (sources === undefined || this.offline) {
      const error = this.#offlineError(item, stored)
      if (stored !== undefined && this.#options.allowStaleCollateral === true) {
        return { record: stored, origin: 'stale-cache', warning: error }
      }
      throw error
    }

    let record: CollateralRecord
    try {
      const fetched = await item.fetch(sources)
      record = {
        key: item.key,
        url: fetched.url,
        body: fetched.body,
        ...(fetched.issuerChain === undefined ? {} : { issuerChain: fetched.issuerChain }),
        fetchedAt: now,
        freshUntil: fetched.freshUntil ?? new Date(now.getTime() + DEFAULT_FRESHNESS_MS),
      }
    } catch (error) {
      const stale = stored !== undefined && this.#options.allowStaleCollateral === true
      if (stale && error instanceof CollateralFetchError) {
        return { record: stored, origin: 'stale-cache', warning: error }
      }
      throw error
    }
    await cache?.put(record)

    return { record, origin: 'network' }
  }

  #offlineError(item: PlannedItem, stored: CollateralRecord | undefined): CollateralFetchError {
    const detail =
      stored === undefined
        ? 'it is not in the cache'
        : `its cached copy expired at ${stored.freshUntil.toISOString()} and stale collateral was not allowed`
    return new CollateralFetchError(`${item.label} is unavailable offline: ${detail}`, {
      reason: 'offline',
      ...(stored === undefined ? {} : { url: stored.url }),
    })
  }
}
