/**
 * The contract every TEE platform implements, and the options a verification takes.
 *
 * @module
 */

import type { CryptoPort } from '../crypto/port.js'
import type { VerificationCache } from './cache.js'
import type { CollateralBundle } from './collateral-bundle.js'
import type { VerificationResult } from './types.js'

/** Options of a verification. Every field is optional, and an absent field means the strict default. */
export interface VerifyOptions {
  /** The instant certificates and collateral are judged at. Default: now. */
  readonly at?: Date
  /** Collateral for this evidence. Absent: checks that need it are skipped, never passed. */
  readonly collateral?: CollateralBundle
  /**
   * Trusted roots as DER certificates, replacing the roots pinned in the code for this platform.
   * Absent: the pinned vendor roots.
   */
  readonly trustAnchors?: readonly Uint8Array[]
  /**
   * Public keys trusted directly, not through a certificate: DER SubjectPublicKeyInfo, or a
   * TPM2B_PUBLIC for a TPM attestation key. The TPM reads them as trusted attestation keys and
   * Arm CCA as trusted platform attestation keys (CPAKs); other platforms ignore them. Absent:
   * those platforms skip the check that needs a trusted key, which makes the verdict
   * indeterminate.
   */
  readonly trustedKeys?: readonly Uint8Array[]
  /**
   * The report data the evidence must carry. A shorter value is zero-padded on the right to the
   * platform's report-data size. Absent: report data is not compared.
   */
  readonly expectedReportData?: Uint8Array
  /**
   * The nonce the evidence must carry, byte for byte. Absent: the nonce is not compared. Only
   * platforms whose evidence has a nonce field read it (Nitro, at present).
   */
  readonly expectedNonce?: Uint8Array
  /**
   * The user data the evidence must carry, byte for byte. Absent: user data is not compared. Only
   * platforms whose evidence has a user data field read it (Nitro, at present).
   */
  readonly expectedUserData?: Uint8Array
  /** Accept a TEE in debug mode. Default: false, so debug evidence is invalid. */
  readonly allowDebug?: boolean
}

/** The options a platform receives, with the defaults filled in. */
export interface VerifyContext extends VerifyOptions {
  readonly at: Date
  readonly crypto: CryptoPort
  readonly cache: VerificationCache
}

/** An expected value a caller can ask a verification to compare. */
export type Expectation = 'expectedReportData' | 'expectedNonce' | 'expectedUserData'

/** One TEE platform: detects, parses and verifies its evidence. */
export interface Platform<TEvidence = unknown> {
  /** Short name used on the command line and in results, such as `sgx`. */
  readonly name: string
  /** Human-readable name, such as `Intel SGX`. */
  readonly title: string
  /**
   * The expected values this platform's evidence has a field for. A verification asked to compare
   * any other is rejected rather than passed without the comparison.
   */
  readonly expectations: readonly Expectation[]
  /** Tells cheaply whether the bytes look like this platform's evidence. Returns false rather than throwing. */
  sniff(bytes: Uint8Array): boolean
  /** Decodes evidence. Pure: no crypto, no I/O. Throws ParseError. */
  parse(bytes: Uint8Array): TEvidence
  /** Verifies parsed evidence. Returns a result for any verdict; throws only when it cannot judge. */
  verify(evidence: TEvidence, context: VerifyContext): Promise<VerificationResult>
}
