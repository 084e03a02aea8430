/**
 * The shapes every platform produces: claims, checks and the verification result.
 *
 * @module
 */
import type { ErrorCode } from './errors.js'

/** A value that can appear in claims: JSON data, with bytes as lower-case hex strings. */
export type ClaimValue =
  | string
  | number
  | boolean
  | null
  | readonly ClaimValue[]
  | { readonly [key: string]: ClaimValue }

/**
 * The facts evidence states about the workload, in one shape for every platform.
 *
 * The neutral names come first, so a policy can be written once for several TEEs. `raw` contains
 * every field of the platform's own structure under the camelCase of its specification name,
 * with bytes as lower-case hex.
 */
export interface Claims {
  /** Platform that produced the evidence, such as `sgx` or `tdx`. */
  readonly platform: string
  /** The launch measurement: MRENCLAVE for SGX, MRTD for TDX. */
  readonly measurement?: string
  /** The identity that signed or owns the measured code: MRSIGNER for SGX. */
  readonly signer?: string
  /** The 64 bytes (or fewer, per platform) the workload bound into the evidence. */
  readonly reportData?: string
  /** Whether the TEE runs in a debug mode that lets the host read its memory. */
  readonly debug?: boolean
  /** Identifies the hardware platform, such as the FMSPC for Intel. */
  readonly platformId?: string
  /** Security version numbers that the TCB status is judged from. */
  readonly tcb?: { readonly [key: string]: ClaimValue }
  /** The platform's own fields by their specification names. */
  readonly raw: { readonly [key: string]: ClaimValue }
}

/** Outcome of one verification step. */
export type CheckStatus = 'pass' | 'fail' | 'skipped'

/** One step of a verification, in the order it ran. */
export interface Check {
  /** Stable name of the step, such as `pck-chain` or `quote-signature`. */
  readonly name: string
  readonly status: CheckStatus
  /** A description of what was checked and found, or of the reason the step was skipped. */
  readonly detail: string
  /** The error code of the failure. Present only when `status` is `fail`. */
  readonly code?: ErrorCode
}

/**
 * TCB status, in Intel's words. Other platforms map onto the same words.
 *
 * `NoMatchingTcbLevel` means no level of the TCB info applies to the platform (Intel: "TCB level
 * not supported"). `CollateralExpired` means the collateral that decides the status is past its
 * next-update time at the verification time.
 */
export type TcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked'
  | 'NoMatchingTcbLevel'
  | 'CollateralExpired'

/**
 * The verdict on a piece of evidence.
 *
 * - `valid`: every check ran and passed.
 * - `invalid`: at least one check failed.
 * - `indeterminate`: every check that ran passed, but some could not run (collateral missing).
 */
export type Verdict = 'valid' | 'invalid' | 'indeterminate'

/** Result of verifying one piece of evidence. */
export interface VerificationResult {
  readonly platform: string
  readonly verdict: Verdict
  /** The TCB status, where the platform has one and the collateral to judge it was given. */
  readonly tcbStatus?: TcbStatus
  /** Security advisory IDs that apply to the platform's TCB level, such as INTEL-SA-00615. */
  readonly advisories: readonly string[]
  readonly claims: Claims
  /** Every step, in the order it ran. */
  readonly checks: readonly Check[]
  /** Platform-specific detail of how the TCB status was reached. */
  readonly tcb?: { readonly [key: string]: ClaimValue }
  /** The instant certificates and collateral were judged at, as ISO-8601. */
  readonly verifiedAt: string
}
