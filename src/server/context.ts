/**
 * Services the route groups share: the store and its repositories, keys, metrics and the clock.
 *
 * @module
 */
import type { EarSigningKey } from '../appraisal/ear.js'
import type { CollateralFetcher } from '../collateral/fetcher.js'
import type { KbsBroker } from '../kbs/broker.js'
import type { Store } from '../store/open.js'
import type { AdminKey } from './admin-auth.js'
import type { ServerMetrics } from './metrics.js'
import type { PolicyStore } from './policy-store.js'
import type { StoreReferenceValues } from './reference-value-store.js'
import type { PlatformKeys } from './trusted-keys.js'

/** The state every route group reads. */
export interface RouteContext {
  readonly store: Store
  readonly policies: PolicyStore
  readonly referenceValues: StoreReferenceValues
  readonly signer: EarSigningKey
  readonly adminKeys: readonly AdminKey[]
  /** Returns the DER SPKIs trusted for `sim` evidence only. */
  readonly trustedSimKeys: () => Promise<readonly Uint8Array[]>
  /** Keys trusted for TPM and for Arm CCA evidence, each for its own platform only. */
  readonly trustedKeys: PlatformKeys
  readonly metrics: ServerMetrics
  readonly now: () => Date
  readonly collateral?: CollateralFetcher
  readonly broker?: KbsBroker
}

/** The verifier identity of the service's EARs (`ear.verifier-id`). */
export const SERVICE_VERIFIER = { build: 'confide 0.1.0', developer: 'confide' } as const
