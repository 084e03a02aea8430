/**
 * Comparison of claims with reference values: one check per claim that has reference values for
 * the platform or that the policy requires.
 *
 * A claim that matches sets its trust claim to 2 (approved, recognized or genuine). A launch
 * measurement, register or signer that matches none sets `executables` to 33, which AR4SI
 * defines as an unrecognized runtime in the warning tier. A configuration value that matches
 * none sets `configuration` to 96 (unsupportable), a chip ID `instance-identity` to 97
 * (unrecognized instance), and a TCB value `hardware` to 96 (contraindicated).
 *
 * @module
 */
import { claimAt, comparableText } from './claim-path.js'
import { isValidAt, type ReferenceValue } from './reference-values.js'
import { TRUST_VALUE, type TrustClaimName } from './trust-vector.js'
import type { AppraisalCheck, AppraisalInput, TrustEffect } from './types.js'

/** The trustworthiness claim one kind of claim informs, and the values a match and a mismatch give it. */
interface ClaimKind {
  readonly trustClaim: TrustClaimName
  readonly match: number
  readonly mismatch: number
}

const EXECUTABLES: ClaimKind = {
  trustClaim: 'executables',
  match: TRUST_VALUE.APPROVED_RUNTIME,
  mismatch: TRUST_VALUE.UNRECOGNIZED_RUNTIME,
}
const CONFIGURATION: ClaimKind = {
  trustClaim: 'configuration',
  match: TRUST_VALUE.APPROVED_CONFIG,
  mismatch: TRUST_VALUE.UNSUPPORTABLE_CONFIG,
}
const INSTANCE: ClaimKind = {
  trustClaim: 'instance-identity',
  match: TRUST_VALUE.RECOGNIZED_INSTANCE,
  mismatch: TRUST_VALUE.UNRECOGNIZED_INSTANCE,
}
const HARDWARE: ClaimKind = {
  trustClaim: 'hardware',
  match: TRUST_VALUE.GENUINE_HARDWARE,
  mismatch: TRUST_VALUE.CONTRAINDICATED_HARDWARE,
}

/** Claims that are not code, by kind. Every other claim counts as code (`executables`). */
const CLAIM_KINDS: { readonly [claim: string]: ClaimKind } = {
  'raw.hostData': CONFIGURATION,
  'raw.mrConfigId': CONFIGURATION,
  'raw.mrOwner': CONFIGURATION,
  'raw.mrOwnerConfig': CONFIGURATION,
  'raw.configId': CONFIGURATION,
  'raw.configSvn': CONFIGURATION,
  'raw.xfam': CONFIGURATION,
  'raw.tdAttributes': CONFIGURATION,
  'raw.attributes': CONFIGURATION,
  'raw.familyId': CONFIGURATION,
  'raw.imageId': CONFIGURATION,
  'raw.policy.value': CONFIGURATION,
  'raw.platformInfo.value': CONFIGURATION,
  'raw.vmpl': CONFIGURATION,
  platformId: INSTANCE,
  'raw.chipId': INSTANCE,
  'raw.currentTcb.bytes': HARDWARE,
  'raw.reportedTcb.bytes': HARDWARE,
  'raw.committedTcb.bytes': HARDWARE,
  'raw.launchTcb.bytes': HARDWARE,
}

/** Returns the AR4SI claim a reference value of this claim informs. */
export function trustClaimOf(claim: string): TrustClaimName {
  return (CLAIM_KINDS[claim] ?? EXECUTABLES).trustClaim
}

function matchEffect(claim: string): TrustEffect {
  const kind = CLAIM_KINDS[claim] ?? EXECUTABLES
  return { claim: kind.trustClaim, value: kind.match }
}

function mismatchEffect(claim: string): TrustEffect {
  const kind = CLAIM_KINDS[claim] ?? EXECUTABLES
  return { claim: kind.trustClaim, value: kind.mismatch }
}

/** Groups values by claim, in the order claims first appear. */
function byClaim(values: readonly ReferenceValue[]): Map<string, ReferenceValue[]> {
  const groups = new Map<string, ReferenceValue[]>()
  for (const value of values) {
    const group = groups.get(value.claim) ?? []
    group.push(value)
    groups.set(value.claim, group)
  }

  return groups
}

/** Returns the check for a claim that cannot be compared, and why. */
function notChecked(name: string, claim: string, detail: string, extra = {}): AppraisalCheck {
  return { name, status: 'not-checked', detail, claim, ...extra, trust: [] }
}

function compareClaim(
  input: AppraisalInput,
  claim: string,
  values: readonly ReferenceValue[],
  at: Date,
): AppraisalCheck {
  const name = `reference-value:${claim}`
  if (values.length === 0)
    return notChecked(name, claim, `no reference value for ${claim} of ${input.claims.platform}`)
  const valid = values.filter((value) => isValidAt(value, at))
  if (valid.length === 0) {
    const detail = `the ${values.length} reference values for ${claim} are outside their validity at ${at.toISOString()}`
    return notChecked(name, claim, detail)
  }
  const accepted = [...new Set(valid.flatMap((value) => value.values))]
  const actual = claimAt(input.claims, claim)
  const text = comparableText(actual)
  if (actual === undefined) return notChecked(name, claim, `the evidence has no claim ${claim}`)
  if (text === undefined)
    return notChecked(name, claim, `claim ${claim} is not text or an integer`, { actual })
  const base = { name, claim, expected: accepted, actual }
  const match = valid.find((value) => value.values.includes(text))
  if (match !== undefined) {
    const detail = `matches a reference value from ${match.provenance.source}`
    return { ...base, status: 'pass', detail, trust: [matchEffect(claim)] }
  }
  const detail = `matches none of the ${accepted.length} reference values`

  return { ...base, status: 'fail', detail, trust: [mismatchEffect(claim)] }
}

/**
 * Compares the claims with the reference values of their platform: one check per claim with
 * reference values, then one per required claim without any. Values outside their validity at
 * `at` are ignored; a claim left with none is not-checked.
 */
export function referenceValueChecks(
  input: AppraisalInput,
  values: readonly ReferenceValue[],
  required: readonly string[],
  at: Date,
): AppraisalCheck[] {
  const platform = input.claims.platform
  const groups = byClaim(values.filter((value) => value.platform === platform))
  for (const claim of required) if (!groups.has(claim)) groups.set(claim, [])

  return [...groups].map(([claim, group]) => compareClaim(input, claim, group, at))
}
