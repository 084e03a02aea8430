/**
 * Appraisal: judges verified claims against a policy and reference values, and sums the outcome
 * up as an AR4SI trustworthiness vector and status. Pure and synchronous.
 *
 * @module
 */
import { ConfigError } from '../core/errors.js'
import type { ClaimValue } from '../core/types.js'
import {
  advisoriesCheck,
  debugCheck,
  minimumTcbChecks,
  platformCheck,
  reportDataCheck,
  simulatedCheck,
  tcbStatusCheck,
  verificationCheck,
} from './checks.js'
import { type Policy, validatePolicy } from './policy.js'
import { referenceValueChecks } from './reference-checks.js'
import { normalizeReferenceValue, type ReferenceValue } from './reference-values.js'
import { evaluateRule } from './rules.js'
import {
  emptyTrustVector,
  isMoreSevere,
  TRUST_CLAIMS,
  type TrustTier,
  type TrustVector,
  tierOf,
  vectorTier,
} from './trust-vector.js'
import type { AppraisalCheck, AppraisalInput, AppraisalResult } from './types.js'

/** Options of `appraise`. */
export interface AppraiseOptions {
  /**
   * Reference values, such as those of a `ReferenceValueStore`, compared without regard to the
   * case of hex digits. Absent: only the policy's.
   */
  readonly referenceValues?: readonly ReferenceValue[]
  /**
   * The instant reference values are judged at. Absent: the input's `verifiedAt`; without either,
   * `appraise` throws, because validity windows need an explicit time.
   */
  readonly at?: Date
}

/** The value a failed rule gives its trust claim: 96 is contraindicated in every AR4SI claim. */
const RULE_FAILURE_VALUE = 96

function ruleChecks(policy: Policy, input: AppraisalInput): AppraisalCheck[] {
  const bindings = {
    claims: input.claims as unknown as ClaimValue,
    tcbStatus: input.tcbStatus ?? null,
    advisories: input.advisories ?? [],
  }
  return (policy.rules ?? []).map((rule) => {
    const outcome = evaluateRule(rule.expression, bindings)
    const claim = rule.trustClaim ?? 'configuration'
    const trust = outcome.status === 'fail' ? [{ claim, value: RULE_FAILURE_VALUE }] : []
    const detail =
      rule.description === undefined ? outcome.detail : `${rule.description}: ${outcome.detail}`
    return { name: `rule:${rule.name}`, status: outcome.status, detail, trust }
  })
}

/**
 * Sets each trustworthiness claim from the checks: the most severe tier any check gives it, and
 * within a tier the highest value. A claim no check sets stays 0 (no claim).
 */
function trustVectorOf(checks: readonly AppraisalCheck[]): TrustVector {
  const vector: Record<string, number> = { ...emptyTrustVector() }
  for (const check of checks) {
    for (const effect of check.trust) {
      const current = vector[effect.claim] ?? 0
      const tier = tierOf(effect.value)
      const currentTier = tierOf(current)
      if (isMoreSevere(tier, currentTier) || (tier === currentTier && effect.value > current))
        vector[effect.claim] = effect.value
    }
  }

  return Object.fromEntries(TRUST_CLAIMS.map((name) => [name, vector[name] ?? 0])) as TrustVector
}

/**
 * Derives the status: the most severe tier of the vector, but never affirming while a check
 * failed or could not run, because neither is a reason to trust the evidence.
 */
function statusOf(vector: TrustVector, checks: readonly AppraisalCheck[]): TrustTier {
  const tier = vectorTier(vector)
  if (isMoreSevere(tier, 'affirming')) return tier
  if (checks.some((check) => check.status === 'fail')) return 'warning'
  if (tier === 'affirming' && checks.some((check) => check.status === 'not-checked'))
    return 'warning'

  return tier
}

function appraisalTime(input: AppraisalInput, options: AppraiseOptions): Date {
  if (options.at !== undefined) return options.at
  if (input.verifiedAt !== undefined) return new Date(input.verifiedAt)
  throw new ConfigError(
    'ERR_CONFIG_INVALID',
    'appraise needs a time: pass options.at, or a verification result with verifiedAt',
  )
}

/**
 * Appraises verified evidence against a policy. Runs, in this order: `verification`,
 * `platform`, `simulated`, `debug`, `tcb-status`, `advisories`, `min-tcb:<component>`,
 * `report-data`, `reference-value:<claim>` and `rule:<name>`. A check the policy does not ask for
 * is left out; one whose data is missing is `not-checked`, never `pass`. A "no" is a result:
 * failed checks and a `contraindicated` or `warning` status.
 *
 * The policy is validated first, so a policy built in code gets the same checks as one read
 * from a file.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` for a malformed policy; ConfigError
 *   `ERR_CONFIG_INVALID` when no appraisal time is known.
 */
export function appraise(
  input: AppraisalInput,
  policy: Policy,
  options: AppraiseOptions = {},
): AppraisalResult {
  const checked = validatePolicy(policy)
  const at = appraisalTime(input, options)
  const supplied = (options.referenceValues ?? []).map(normalizeReferenceValue)
  const values = [...supplied, ...(checked.referenceValues?.values ?? [])]
  const required = checked.referenceValues?.require ?? []
  const checks = [
    verificationCheck(input),
    platformCheck(checked, input),
    simulatedCheck(checked, input),
    debugCheck(checked, input),
    tcbStatusCheck(checked, input),
    advisoriesCheck(checked, input),
    ...minimumTcbChecks(checked, input),
    reportDataCheck(checked, input),
    ...referenceValueChecks(input, values, required, at),
    ...ruleChecks(checked, input),
  ].filter((check): check is AppraisalCheck => check !== undefined)
  const trustVector = trustVectorOf(checks)

  return {
    policyId: checked.id,
    platform: input.claims.platform,
    status: statusOf(trustVector, checks),
    trustVector,
    checks,
    appraisedAt: at.toISOString(),
    claims: input.claims,
    ...(input.tcbStatus === undefined ? {} : { tcbStatus: input.tcbStatus }),
    advisories: input.advisories ?? [],
  }
}
