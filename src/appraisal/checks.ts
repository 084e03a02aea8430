/**
 * The checks of an appraisal that come from fixed policy fields: the verification verdict,
 * platform, simulation, debug, TCB status, advisories, minimum TCB and report data. Each returns
 * the check, or nothing when the policy does not ask for it.
 *
 * How outcomes map to the AR4SI vector (values from `TRUST_VALUE`):
 *
 * | check | pass | fail |
 * | --- | --- | --- |
 * | verification | hardware 2 | by failure code: debug → runtime-opaque 96, TCB → hardware 96, report data → instance-identity 97, reference measurement → executables 96, collateral → hardware 96, any other → hardware 99 |
 * | platform | none | hardware 96 |
 * | simulated | none (hardware 32 when allowed) | hardware 96 |
 * | debug | none (configuration 32 when a debug TEE is allowed) | runtime-opaque 96 |
 * | tcb-status | hardware 2 for UpToDate, 32 for another accepted status | hardware 96 |
 * | advisories | none, or hardware 32 when accepted advisories apply | hardware 96 |
 * | min-tcb | hardware 2 | hardware 96 |
 * | report-data | none | instance-identity 97 |
 *
 * @module
 */
import { fromHex } from '../core/bytes.js'
import type { ErrorCode } from '../core/errors.js'
import type { ClaimValue } from '../core/types.js'
import { type Policy, SIMULATED_PLATFORMS } from './policy.js'
import { TRUST_VALUE } from './trust-vector.js'
import type { AppraisalCheck, AppraisalInput, TrustEffect } from './types.js'

type CheckResult = AppraisalCheck | undefined

const HARDWARE_GENUINE: TrustEffect = { claim: 'hardware', value: TRUST_VALUE.GENUINE_HARDWARE }
const HARDWARE_UNSAFE: TrustEffect = { claim: 'hardware', value: TRUST_VALUE.UNSAFE_HARDWARE }
const HARDWARE_REJECTED: TrustEffect = {
  claim: 'hardware',
  value: TRUST_VALUE.CONTRAINDICATED_HARDWARE,
}
const CRYPTO_FAILED: TrustEffect = {
  claim: 'hardware',
  value: TRUST_VALUE.CRYPTO_VALIDATION_FAILED,
}

/** The trust claim a failed verification check sets, by its code. Other codes set `CRYPTO_FAILED`. */
const FAILURE_TRUST: Partial<Record<ErrorCode, TrustEffect>> = {
  ERR_VERIFY_DEBUG: { claim: 'runtime-opaque', value: TRUST_VALUE.VISIBLE_MEMORY },
  ERR_VERIFY_TCB: HARDWARE_REJECTED,
  ERR_VERIFY_REPORT_DATA: {
    claim: 'instance-identity',
    value: TRUST_VALUE.UNRECOGNIZED_INSTANCE,
  },
  ERR_VERIFY_MEASUREMENT: {
    claim: 'executables',
    value: TRUST_VALUE.CONTRAINDICATED_RUNTIME,
  },
  ERR_COLLATERAL_EXPIRED: HARDWARE_REJECTED,
  ERR_COLLATERAL_MISMATCH: HARDWARE_REJECTED,
  ERR_COLLATERAL_UNAVAILABLE: HARDWARE_REJECTED,
}

/** Checks the verification verdict. Its failed checks determine which trust claims it lowers. */
export function verificationCheck(input: AppraisalInput): AppraisalCheck {
  const name = 'verification'
  if (input.verdict === undefined) {
    const detail = 'no verification verdict was given: appraise a VerificationResult'
    return { name, status: 'not-checked', detail, trust: [] }
  }
  const checks = input.checks ?? []
  if (input.verdict === 'valid') {
    const detail = 'every verification check passed'
    return { name, status: 'pass', detail, actual: 'valid', trust: [HARDWARE_GENUINE] }
  }
  if (input.verdict === 'indeterminate') {
    const skipped = checks.filter((c) => c.status === 'skipped').map((c) => c.name)
    const detail = `checks that ran passed, but these could not run: ${skipped.join(', ') || 'unknown'}`
    return { name, status: 'not-checked', detail, actual: 'indeterminate', trust: [] }
  }
  const failed = checks.filter((c) => c.status === 'fail')
  const trust = failed.map((c) => (c.code === undefined ? undefined : FAILURE_TRUST[c.code]))
  const effects = trust.map((effect) => effect ?? CRYPTO_FAILED)
  const names = failed.map((c) => (c.code === undefined ? c.name : `${c.name} (${c.code})`))
  const detail = `verification failed: ${names.join(', ') || 'no failed check was given'}`

  return {
    name,
    status: 'fail',
    detail,
    actual: 'invalid',
    trust: effects.length > 0 ? effects : [CRYPTO_FAILED],
  }
}

/** Checks the platform against the accepted list, when the policy has one. */
export function platformCheck(policy: Policy, input: AppraisalInput): CheckResult {
  if (policy.platforms === undefined) return undefined
  const name = 'platform'
  const platform = input.claims.platform
  const base = { name, claim: 'platform', expected: [...policy.platforms], actual: platform }
  if (policy.platforms.includes(platform)) {
    return { ...base, status: 'pass', detail: `${platform} is accepted`, trust: [] }
  }
  const detail = `${platform} is not among the accepted platforms (${policy.platforms.join(', ')})`

  return { ...base, status: 'fail', detail, trust: [HARDWARE_REJECTED] }
}

/** Rejects a simulated TEE unless the policy allows one. Always runs. */
export function simulatedCheck(policy: Policy, input: AppraisalInput): AppraisalCheck {
  const name = 'simulated'
  const platform = input.claims.platform
  const base = { name, claim: 'platform', actual: platform }
  if (!SIMULATED_PLATFORMS.includes(platform)) {
    return { ...base, status: 'pass', detail: `${platform} is not a simulated TEE`, trust: [] }
  }
  if (policy.allowSimulated === true) {
    const detail = `${platform} is a simulated TEE, allowed by the policy`
    return { ...base, status: 'pass', detail, trust: [HARDWARE_UNSAFE] }
  }
  const detail = `${platform} is a simulated TEE and the policy does not allow one`

  return { ...base, status: 'fail', detail, trust: [HARDWARE_REJECTED] }
}

/** Rejects a TEE in debug mode unless the policy allows it. Always runs. */
export function debugCheck(policy: Policy, input: AppraisalInput): AppraisalCheck {
  const name = 'debug'
  const allowed = policy.allowDebug === true
  const base = { name, claim: 'debug', expected: allowed ? [false, true] : false }
  const debug = input.claims.debug
  if (debug === undefined) {
    const detail = 'the evidence does not say whether the TEE runs in debug mode'
    return { ...base, status: 'not-checked', detail, trust: [] }
  }
  if (!debug)
    return { ...base, status: 'pass', detail: 'not in debug mode', actual: false, trust: [] }
  if (allowed) {
    const detail = 'in debug mode, allowed by the policy: the host can read its memory'
    const trust: TrustEffect[] = [{ claim: 'configuration', value: TRUST_VALUE.UNSAFE_CONFIG }]
    return { ...base, status: 'pass', detail, actual: true, trust }
  }
  const detail = 'in debug mode, which the policy does not allow: the host can read its memory'
  const trust: TrustEffect[] = [{ claim: 'runtime-opaque', value: TRUST_VALUE.VISIBLE_MEMORY }]

  return { ...base, status: 'fail', detail, actual: true, trust }
}

/** Checks the TCB status against the accepted ones, when the policy lists them. */
export function tcbStatusCheck(policy: Policy, input: AppraisalInput): CheckResult {
  const accepted = policy.tcb?.statuses
  if (accepted === undefined) return undefined
  const base = { name: 'tcb-status', claim: 'tcbStatus', expected: [...accepted] }
  const status = input.tcbStatus
  if (status === undefined) {
    const detail =
      'the evidence has no TCB status (the platform has none, or collateral is missing)'
    return { ...base, status: 'not-checked', detail, trust: [] }
  }
  if (!accepted.includes(status)) {
    const detail = `${status} is not an accepted TCB status (${accepted.join(', ')})`
    return { ...base, status: 'fail', detail, actual: status, trust: [HARDWARE_REJECTED] }
  }
  const upToDate = status === 'UpToDate'
  const detail = upToDate ? 'UpToDate' : `${status} is accepted, but the TCB has known issues`

  return {
    ...base,
    status: 'pass',
    detail,
    actual: status,
    trust: [upToDate ? HARDWARE_GENUINE : HARDWARE_UNSAFE],
  }
}

/** Checks that every advisory of the TCB level is accepted, when the policy lists them. */
export function advisoriesCheck(policy: Policy, input: AppraisalInput): CheckResult {
  const accepted = policy.tcb?.advisories
  if (accepted === undefined) return undefined
  const base = { name: 'advisories', claim: 'advisories', expected: [...accepted] }
  const advisories = input.advisories
  if (advisories === undefined) {
    const detail = 'the evidence lists no advisories (collateral is missing)'
    return { ...base, status: 'not-checked', detail, trust: [] }
  }
  const rejected = advisories.filter((id) => !accepted.includes(id))
  if (rejected.length > 0) {
    const detail = `advisories not accepted: ${rejected.join(', ')}`
    return { ...base, status: 'fail', detail, actual: [...advisories], trust: [HARDWARE_REJECTED] }
  }
  const detail =
    advisories.length === 0 ? 'no advisory applies' : `accepted: ${advisories.join(', ')}`

  return {
    ...base,
    status: 'pass',
    detail,
    actual: [...advisories],
    trust: advisories.length === 0 ? [] : [HARDWARE_UNSAFE],
  }
}

/** Returns the numbers of a TCB claim: a number list, or the bytes of a hex string. */
function componentList(value: ClaimValue): readonly number[] | undefined {
  if (Array.isArray(value) && value.every((item) => typeof item === 'number')) {
    return value as readonly number[]
  }
  if (typeof value === 'string' && /^([0-9a-fA-F]{2})+$/.test(value)) return [...fromHex(value)]

  return undefined
}

/** Compares one component; returns why it is below the minimum or cannot be compared. */
function belowMinimum(actual: ClaimValue, minimum: number | readonly number[]): string | undefined {
  if (typeof minimum === 'number') {
    if (typeof actual !== 'number') return `${JSON.stringify(actual)} is not a number`
    return actual < minimum ? `${actual} is below ${minimum}` : undefined
  }
  const list = componentList(actual)
  if (list === undefined) return `${JSON.stringify(actual)} is not a list of numbers`
  if (list.length < minimum.length)
    return `it has ${list.length} items, fewer than the ${minimum.length} of the minimum`
  const index = minimum.findIndex((low, i) => (list[i] ?? 0) < low)
  if (index < 0) return undefined

  return `item ${index} is ${list[index]}, below ${minimum[index]}`
}

/** Compares each TCB component the policy names with its minimum. */
export function minimumTcbChecks(policy: Policy, input: AppraisalInput): AppraisalCheck[] {
  const minimum = policy.tcb?.minimum ?? {}
  return Object.entries(minimum).map(([component, low]) => {
    const name = `min-tcb:${component}`
    const base = { name, claim: `tcb.${component}`, expected: low as ClaimValue }
    const actual = input.claims.tcb?.[component]
    if (actual === undefined) {
      const detail = `the evidence has no TCB component ${component}`
      return { ...base, status: 'not-checked', detail, trust: [] }
    }
    const reason = belowMinimum(actual, low)
    if (reason !== undefined) {
      const detail = `${component}: ${reason}`
      return { ...base, status: 'fail', detail, actual, trust: [HARDWARE_REJECTED] }
    }
    const detail = `${component} is at or above the minimum`

    return { ...base, status: 'pass', detail, actual, trust: [HARDWARE_GENUINE] }
  })
}

/** Compares the report data with the policy's, zero-padded to the claim size. */
export function reportDataCheck(policy: Policy, input: AppraisalInput): CheckResult {
  if (policy.reportData === undefined) return undefined
  const name = 'report-data'
  const actual = input.claims.reportData
  const expected = policy.reportData.toLowerCase()
  const base = { name, claim: 'reportData', expected }
  if (actual === undefined) {
    const detail = 'the evidence has no report data (a Nitro document binds a nonce instead)'
    return { ...base, status: 'not-checked', detail, trust: [] }
  }
  const padded = expected.padEnd(actual.length, '0')
  if (padded === actual.toLowerCase()) {
    return { ...base, status: 'pass', detail: 'equals the expected value', actual, trust: [] }
  }
  const detail =
    expected.length > actual.length
      ? `the expected value is longer than the ${actual.length / 2}-byte report data`
      : 'differs from the expected value'
  const trust: TrustEffect[] = [
    { claim: 'instance-identity', value: TRUST_VALUE.UNRECOGNIZED_INSTANCE },
  ]

  return { ...base, status: 'fail', detail, actual, trust }
}
