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
import { type PlatformKeys, trustedKeysFor } from './trusted-keys.js'

/** Collateral source, sim keys and metrics of the broker's evidence verification. */
export interface KbsVerifierOptions {
  /** Obtains the collateral the evidence needs. Absent: evidence is verified without collateral. */
  readonly collateral?: CollateralFetcher
  /** Returns the DER SPKIs trusted for `sim` evidence. Absent: none. */
  readonly trustedSimKeys?: () => Promise<readonly Uint8Array[]>
  /** Keys trusted for TPM and for Arm CCA evidence, each for its own platform. Absent: none. */
  readonly trustedKeys?: PlatformKeys
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
    const keys = await trustedKeysFor(platform, {
      sim: options.trustedSimKeys ?? (async () => []),
      platform: options.trustedKeys ?? {},
    })
    if (keys.length > 0) given = { ...given, trustedKeys: keys }
    const result = await verifyKbsEvidence(evidence, tee, given)
    options.metrics?.verifications.inc({ platform: result.platform, verdict: result.verdict })

    return result
  }
}
