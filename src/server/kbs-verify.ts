/**
 * The verification the key broker runs on attestation evidence in the service: the collateral
 * the evidence needs (through the store's cache, as `/v1/verify` obtains it), the local sim key
 * for sim evidence only, and the verification counters.
 *
 * @module
 */
import { fetchCollateral } from '../collateral/fetch-collateral.js'
import type { CollateralFetcher } from '../collateral/fetcher.js'
import type { VerifyOptions } from '../core/platform.js'
import type { KbsVerifyFunction } from '../kbs/broker.js'
import { kbsTeePlatform, verifyKbsEvidence } from '../kbs/evidence.js'
import type { ServerMetrics } from './metrics.js'

/** Collateral source, sim keys and metrics of the broker's evidence verification. */
export interface KbsVerifierOptions {
  /** Obtains the collateral the evidence needs. Absent: evidence is verified without collateral. */
  readonly collateral?: CollateralFetcher
  /** Returns the DER SPKIs trusted for `sim` evidence. Absent: none. */
  readonly trustedSimKeys?: () => Promise<readonly Uint8Array[]>
  /** Counts verifications and collateral items. Absent: nothing is counted. */
  readonly metrics?: ServerMetrics
}

/**
 * Returns the `verify` function for `KbsBroker`. Collateral that cannot be obtained leaves the
 * checks that need it skipped, so the result is indeterminate and no resource policy passes.
 */
export function createKbsVerifier(options: KbsVerifierOptions): KbsVerifyFunction {
  return async (evidence, tee, verifyOptions) => {
    const platform = kbsTeePlatform(tee)
    let given: VerifyOptions = verifyOptions
    if (options.collateral !== undefined && platform !== undefined) {
      const fetched = await fetchCollateral(evidence, {
        fetcher: options.collateral,
        platform,
        ...(verifyOptions.collateral === undefined ? {} : { collateral: verifyOptions.collateral }),
      })
      for (const outcome of fetched.outcomes)
        options.metrics?.collateralItems.inc({ origin: outcome.origin })
      given = { ...given, collateral: fetched.bundle }
    }
    // The local sim key is trusted for sim evidence only, never as a TPM or CCA key.
    const simKeys = tee === 'sim' ? ((await options.trustedSimKeys?.()) ?? []) : []
    if (simKeys.length > 0) given = { ...given, trustedKeys: simKeys }
    const result = await verifyKbsEvidence(evidence, tee, given)
    options.metrics?.verifications.inc({ platform: result.platform, verdict: result.verdict })

    return result
  }
}
