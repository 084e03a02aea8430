/**
 * Appraisal policies: plain data (JSON or YAML) that lists what a relying party accepts. This
 * module reads policy documents and checks them against `POLICY_SCHEMA`.
 *
 * @module
 */
import { parse as parseYaml } from 'yaml'
import { PolicyError } from '../core/errors.js'
import type { TcbStatus } from '../core/types.js'
import { validateJsonSchema } from './json-schema.js'
import {
  normalizeReferenceValue,
  type ReferenceValue,
  validityProblem,
} from './reference-values.js'
import { compileRule } from './rules.js'
import { POLICY_SCHEMA } from './schemas.js'
import type { TrustClaimName } from './trust-vector.js'

/** Requirements on the TCB. */
export interface TcbPolicy {
  /** TCB statuses accepted. Absent: the status is not checked. */
  readonly statuses?: readonly TcbStatus[]
  /** Advisory IDs accepted; any other advisory fails. Absent: advisories are not checked. */
  readonly advisories?: readonly string[]
  /**
   * Lowest accepted value of each component of `claims.tcb`: a number for a number claim, a list
   * compared item by item for a list claim or byte by byte for a hex claim. Absent: not checked.
   */
  readonly minimum?: { readonly [component: string]: number | readonly number[] }
}

/** Reference values a policy requires or carries. */
export interface ReferenceValuePolicy {
  /**
   * Claims that must match a reference value. A claim with no reference value for the platform
   * is not-checked, so the result is at best a warning. Absent: none is required.
   */
  readonly require?: readonly string[]
  /** Reference values carried in the policy, added to those given to `appraise`. Absent: none. */
  readonly values?: readonly ReferenceValue[]
}

/**
 * A CEL expression that must evaluate to true. It reads three variables: `claims` (the normalized
 * claims, with `claims.raw` containing the platform's own fields), `tcbStatus` (a string, or null
 * without one) and `advisories` (a list of strings).
 */
export interface PolicyRule {
  /** Names the rule; its check is `rule:<name>`. Unique within a policy. */
  readonly name: string
  readonly expression: string
  readonly description?: string
  /** The AR4SI claim a failure lowers to 96 (contraindicated). Absent: `configuration`. */
  readonly trustClaim?: TrustClaimName
}

/** An appraisal policy. Every field but `id` is optional, and each documents what absent means. */
export interface Policy {
  /** Names the policy in results (`ear.appraisal-policy-id`). */
  readonly id: string
  /** Platforms accepted, such as `tdx`. Absent: any platform that is not simulated. */
  readonly platforms?: readonly string[]
  /** Accept evidence from a simulated TEE (`SIMULATED_PLATFORMS`). Absent: false. */
  readonly allowSimulated?: boolean
  /** Accept a TEE in debug mode. Absent: false. */
  readonly allowDebug?: boolean
  /** Requirements on the TCB. Absent: nothing about the TCB is checked. */
  readonly tcb?: TcbPolicy
  /**
   * Report data the evidence must carry, hex; a shorter value is zero-padded on the right to the
   * claim size. Absent: not checked.
   */
  readonly reportData?: string
  /** Reference values to match. Absent: only those given to `appraise` are compared. */
  readonly referenceValues?: ReferenceValuePolicy
  /** CEL expressions that must evaluate to true. Absent: none. */
  readonly rules?: readonly PolicyRule[]
}

/**
 * Platform names of simulated TEEs, whose evidence proves nothing about hardware: confide's
 * `sim` and Trustee's `sample`.
 */
export const SIMULATED_PLATFORMS: readonly string[] = ['sim', 'sample']

/**
 * The strict default: no debug, no simulated TEE, TCB status UpToDate with no advisory, and a
 * reference value required for the launch measurement.
 */
export const DEFAULT_POLICY: Policy = {
  id: 'confide:default',
  allowDebug: false,
  allowSimulated: false,
  tcb: { statuses: ['UpToDate'], advisories: [] },
  referenceValues: { require: ['measurement'] },
}

function invalid(message: string): PolicyError {
  return new PolicyError('ERR_POLICY_INVALID', `policy is invalid: ${message}`)
}

function checkRules(rules: readonly PolicyRule[]): void {
  const names = new Set<string>()
  for (const rule of rules) {
    if (names.has(rule.name)) throw invalid(`two rules are named ${rule.name}`)
    names.add(rule.name)
    const problem = compileRule(rule.expression).error
    if (problem !== undefined) throw invalid(`rule ${rule.name}: ${problem}`)
  }
}

function checkReferenceValues(values: readonly ReferenceValue[]): ReferenceValue[] {
  return values.map((value) => {
    const problem = validityProblem(value)
    if (problem !== undefined) throw invalid(`reference value ${problem}`)
    const provenance = value.provenance ?? { source: 'policy' }
    return normalizeReferenceValue({ ...value, provenance })
  })
}

/**
 * Checks that a value is a policy: it must match `POLICY_SCHEMA`, its rules must be valid CEL
 * with unique names, and its reference values must carry valid times. Returns the policy with
 * its reference values normalized (hex in lower case; `{ source: 'policy' }` as the provenance
 * of those without one).
 *
 * @throws PolicyError `ERR_POLICY_INVALID` naming every field that breaks the schema.
 */
export function validatePolicy(value: unknown): Policy {
  const violations = validateJsonSchema(value, POLICY_SCHEMA)
  if (violations.length > 0) {
    throw invalid(violations.map((v) => `${v.path || '/'} ${v.message}`).join('; '))
  }
  const policy = value as Policy
  checkRules(policy.rules ?? [])
  const values = policy.referenceValues?.values
  if (values === undefined) return policy

  return {
    ...policy,
    referenceValues: { ...policy.referenceValues, values: checkReferenceValues(values) },
  }
}

/**
 * Reads a policy document in JSON or YAML (JSON is read as YAML 1.2, of which it is a subset).
 * Duplicate keys and YAML aliases beyond the parser's default limit are rejected.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` when the text is not JSON or YAML, or not a policy.
 */
export function parsePolicy(text: string): Policy {
  let document: unknown
  try {
    document = parseYaml(text, { uniqueKeys: true, prettyErrors: false })
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw invalid(`not JSON or YAML (${reason})`)
  }

  return validatePolicy(document)
}
