/**
 * Collateral planning. Each platform with collateral has a planner that reads the evidence with
 * the platform's own parsers and lists the items missing from what the caller already has.
 * Planners are pure, and the items they return carry their own fetch functions.
 *
 * @module
 */
import type { CollateralBundle } from '../core/collateral-bundle.js'
import type { HttpClient } from './http.js'
import type { KdsClient } from './kds.js'
import type { PcsClient } from './pcs.js'

/** The services items are fetched from. */
export interface CollateralSources {
  /** For services without a client of their own; the same time limits, retries and proxy. */
  readonly http: HttpClient
  readonly pcs: PcsClient
  readonly kds: KdsClient
  /** NVIDIA's RIM service and OCSP responder base URLs. Absent: NVIDIA's own. */
  readonly nvidia?: { readonly rimUrl: string; readonly ocspUrl: string }
}

/** One item as fetched, before the cache adds its key and fetch time. */
export interface FetchedItem {
  readonly url: string
  /** The body to keep, exactly as received for signed JSON. */
  readonly body: Uint8Array
  /** PEM issuer chain from a response header. */
  readonly issuerChain?: Uint8Array
  /** Next-update time (TCB info, QE identity, CRL) or expiry (certificate). Absent: one day. */
  readonly freshUntil?: Date
}

/** The bytes a bundle needs from an item, fetched or cached. */
export interface ItemContent {
  readonly body: Uint8Array
  readonly issuerChain?: Uint8Array
}

/** One item a piece of evidence needs. */
export interface PlannedItem {
  /** Identity of the item in the cache, such as `intel/tcb-info/tdx/50806f000000`. */
  readonly key: string
  /** Name of the item in progress and error messages. */
  readonly label: string
  /** Whether verification can go on without it (its check then reports what was not checked). */
  readonly optional: boolean
  /** Reason no service serves the item. When set, `fetch` is never called. */
  readonly unavailable?: string
  /** Fetches the item. @throws CollateralFetchError */
  fetch(sources: CollateralSources): Promise<FetchedItem>
  /** Returns the bundle files of the item, by path. */
  files(content: ItemContent): [string, Uint8Array][]
}

/** Lists what one kind of evidence needs. */
export interface CollateralPlanner {
  /** Names of the platforms this planner reads evidence of, such as `sgx` and `tdx`. */
  readonly platforms: readonly string[]
  /**
   * Returns the items the evidence needs that `have` lacks. Pure. Evidence that verification
   * would judge invalid on its own (an unreadable PCK certificate, say) gives items marked
   * `unavailable` rather than an error.
   *
   * @throws ParseError when the evidence itself cannot be decoded.
   */
  plan(bytes: Uint8Array, have: CollateralBundle): PlannedItem[]
}

/** Returns an item no service serves, which fails with `reason` when asked for. */
export function unavailableItem(key: string, label: string, reason: string): PlannedItem {
  return {
    key,
    label,
    optional: false,
    unavailable: reason,
    fetch: () => Promise.reject(new Error(`${label} cannot be fetched: ${reason}`)),
    files: () => [],
  }
}
