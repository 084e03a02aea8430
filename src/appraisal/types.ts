/**
 * The shapes of an appraisal: what it reads and what it returns.
 *
 * @module
 */
import type { Check, Claims, ClaimValue, TcbStatus, Verdict } from '../core/types.js'
import type { TrustClaimName, TrustTier, TrustVector } from './trust-vector.js'

/**
 * The input of an appraisal. A `VerificationResult` is one. Claims alone are one too, but then
 * the `verification` check is not-checked and the result is never affirming.
 */
export interface AppraisalInput {
  readonly claims: Claims
  /** The verdict of the verification. Absent: the verification is not-checked. */
  readonly verdict?: Verdict
  /** The verification's checks, whose codes explain an invalid verdict. */
  readonly checks?: readonly Check[]
  /** The TCB status. Absent: a policy on TCB statuses makes its check not-checked. */
  readonly tcbStatus?: TcbStatus
  /** Advisory IDs of the TCB level. Absent: a policy on advisories makes its check not-checked. */
  readonly advisories?: readonly string[]
  /** When the evidence was verified, ISO-8601. The default appraisal time. */
  readonly verifiedAt?: string
}

/** Outcome of one appraisal check. `not-checked` means data was missing; it never passes. */
export type AppraisalCheckStatus = 'pass' | 'fail' | 'not-checked'

/** The value a check gives one AR4SI trustworthiness claim. */
export interface TrustEffect {
  readonly claim: TrustClaimName
  readonly value: number
}

/** One check of an appraisal: what was compared, with what, and the outcome. */
export interface AppraisalCheck {
  /** Stable name, such as `debug`, `tcb-status` or `reference-value:measurement`. */
  readonly name: string
  readonly status: AppraisalCheckStatus
  /** A description of what was compared and found, or of what was missing. */
  readonly detail: string
  /** Dotted path of the claim the check read, when it read one. */
  readonly claim?: string
  /** The value or values the policy accepts. */
  readonly expected?: ClaimValue
  /** The value the evidence has. Absent when the evidence lacks it. */
  readonly actual?: ClaimValue
  /** The trustworthiness claims this outcome sets. Empty when it sets none. */
  readonly trust: readonly TrustEffect[]
}

/** Result of appraising one piece of evidence against a policy. */
export interface AppraisalResult {
  readonly policyId: string
  readonly platform: string
  /** The overall status (EAR `ear.status`). */
  readonly status: TrustTier
  readonly trustVector: TrustVector
  /** Every check the policy asked for, in a fixed order. */
  readonly checks: readonly AppraisalCheck[]
  /** The instant reference values were judged at, ISO-8601. */
  readonly appraisedAt: string
  /** The claims appraised, carried into the EAR as annotated evidence. */
  readonly claims: Claims
  readonly tcbStatus?: TcbStatus
  readonly advisories: readonly string[]
}
