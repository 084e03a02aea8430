/**
 * Table-driven policy tests: for every policy field, a policy, the claims it reads, and the
 * checks and status it must produce.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { appraise } from '../../src/appraisal/appraise.js'
import { DEFAULT_POLICY, type Policy } from '../../src/appraisal/policy.js'
import type { ReferenceValue } from '../../src/appraisal/reference-values.js'
import type { TrustTier } from '../../src/appraisal/trust-vector.js'
import type { AppraisalCheckStatus, AppraisalInput } from '../../src/appraisal/types.js'
import type { Claims } from '../../src/core/types.js'

const at = new Date('2026-01-13T00:00:00Z')
const MRTD = 'aa'.repeat(48)
const RTMR1 = 'bb'.repeat(48)

/** Claims as the TDX verifier produces them, cut down to what the policies read. */
const tdxClaims: Claims = {
  platform: 'tdx',
  measurement: MRTD,
  reportData: `${'12'.repeat(16)}${'00'.repeat(48)}`,
  debug: false,
  platformId: '90c06f000000',
  tcb: {
    sgxComponents: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
    pceSvn: 13,
    teeTcbSvn: '07010300000000000000000000000000',
  },
  raw: { mrTd: MRTD, rtmr0: '00'.repeat(48), rtmr1: RTMR1, xfam: 'e702060000000000', isvSvn: 3 },
}

const tdx: AppraisalInput = {
  claims: tdxClaims,
  verdict: 'valid',
  tcbStatus: 'UpToDate',
  advisories: [],
  checks: [],
}

const nitro: AppraisalInput = {
  claims: {
    platform: 'nitro',
    measurement: 'cc'.repeat(48),
    debug: false,
    raw: { pcrs: { 0: 'cc'.repeat(48), 8: 'dd'.repeat(48) }, nonce: '0101' },
  },
  verdict: 'valid',
  advisories: [],
  checks: [],
}

function referenceValue(
  claim: string,
  values: string[],
  extra: Partial<ReferenceValue> = {},
): ReferenceValue {
  return { platform: 'tdx', claim, values, provenance: { source: 'test' }, ...extra }
}

interface Case {
  readonly name: string
  readonly policy: Omit<Policy, 'id'>
  readonly input?: AppraisalInput
  readonly referenceValues?: readonly ReferenceValue[]
  /** Expected checks by name; checks not listed must not appear unless `partial`. */
  readonly checks: { readonly [name: string]: AppraisalCheckStatus }
  readonly status: TrustTier
  /** Expected values of trustworthiness claims that the case is about. */
  readonly trust?: { readonly [claim: string]: number }
}

/** The checks every policy gets: the verdict, simulation and debug. */
const ALWAYS = { verification: 'pass', simulated: 'pass', debug: 'pass' } as const

const CASES: readonly Case[] = [
  {
    name: 'empty policy affirms valid evidence',
    policy: {},
    checks: ALWAYS,
    status: 'affirming',
    trust: { hardware: 2 },
  },
  {
    name: 'claims without a verdict are not affirmed',
    policy: {},
    input: { claims: tdxClaims },
    checks: { ...ALWAYS, verification: 'not-checked' },
    status: 'none',
  },
  {
    name: 'indeterminate verification alone concludes nothing',
    policy: {},
    input: {
      ...tdx,
      verdict: 'indeterminate',
      checks: [{ name: 'tcb-info', status: 'skipped', detail: 'no collateral' }],
    },
    checks: { ...ALWAYS, verification: 'not-checked' },
    status: 'none',
  },
  {
    name: 'invalid signature is contraindicated',
    policy: {},
    input: {
      ...tdx,
      verdict: 'invalid',
      checks: [
        { name: 'quote-signature', status: 'fail', detail: 'x', code: 'ERR_VERIFY_SIGNATURE' },
      ],
    },
    checks: { ...ALWAYS, verification: 'fail' },
    status: 'contraindicated',
    trust: { hardware: 99 },
  },
  {
    name: 'invalid TCB lowers hardware to 96',
    policy: {},
    input: {
      ...tdx,
      verdict: 'invalid',
      checks: [{ name: 'tcb-level', status: 'fail', detail: 'x', code: 'ERR_VERIFY_TCB' }],
    },
    checks: { ...ALWAYS, verification: 'fail' },
    status: 'contraindicated',
    trust: { hardware: 96 },
  },
  {
    name: 'platforms accepts a listed platform',
    policy: { platforms: ['sgx', 'tdx'] },
    checks: { ...ALWAYS, platform: 'pass' },
    status: 'affirming',
  },
  {
    name: 'platforms rejects an unlisted platform',
    policy: { platforms: ['snp'] },
    checks: { ...ALWAYS, platform: 'fail' },
    status: 'contraindicated',
    trust: { hardware: 96 },
  },
  {
    name: 'simulated TEE is rejected by default',
    policy: {},
    input: { ...tdx, claims: { ...tdxClaims, platform: 'sample' } },
    checks: { ...ALWAYS, simulated: 'fail' },
    status: 'contraindicated',
  },
  {
    name: 'allowSimulated gives a warning',
    policy: { allowSimulated: true },
    input: { ...tdx, claims: { ...tdxClaims, platform: 'sim' } },
    checks: ALWAYS,
    status: 'warning',
    trust: { hardware: 32 },
  },
  {
    name: 'debug TEE is rejected by default',
    policy: {},
    input: { ...tdx, claims: { ...tdxClaims, debug: true } },
    checks: { ...ALWAYS, debug: 'fail' },
    status: 'contraindicated',
    trust: { 'runtime-opaque': 96 },
  },
  {
    name: 'allowDebug accepts a debug TEE with a warning',
    policy: { allowDebug: true },
    input: { ...tdx, claims: { ...tdxClaims, debug: true } },
    checks: ALWAYS,
    status: 'warning',
    trust: { configuration: 32 },
  },
  {
    name: 'unknown debug state is not-checked',
    policy: {},
    input: { ...nitro, claims: { platform: 'nitro', raw: {} } },
    checks: { ...ALWAYS, debug: 'not-checked' },
    status: 'warning',
  },
  {
    name: 'tcb statuses accept UpToDate',
    policy: { tcb: { statuses: ['UpToDate'] } },
    checks: { ...ALWAYS, 'tcb-status': 'pass' },
    status: 'affirming',
  },
  {
    name: 'tcb statuses reject OutOfDate',
    policy: { tcb: { statuses: ['UpToDate'] } },
    input: { ...tdx, tcbStatus: 'OutOfDate' },
    checks: { ...ALWAYS, 'tcb-status': 'fail' },
    status: 'contraindicated',
    trust: { hardware: 96 },
  },
  {
    name: 'accepted SWHardeningNeeded is a warning',
    policy: { tcb: { statuses: ['UpToDate', 'SWHardeningNeeded'] } },
    input: { ...tdx, tcbStatus: 'SWHardeningNeeded' },
    checks: { ...ALWAYS, 'tcb-status': 'pass' },
    status: 'warning',
    trust: { hardware: 32 },
  },
  {
    name: 'missing TCB status is not-checked',
    policy: { tcb: { statuses: ['UpToDate'] } },
    input: nitro,
    checks: { ...ALWAYS, 'tcb-status': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'advisories reject an unlisted advisory',
    policy: { tcb: { advisories: ['INTEL-SA-00615'] } },
    input: { ...tdx, advisories: ['INTEL-SA-00615', 'INTEL-SA-00289'] },
    checks: { ...ALWAYS, advisories: 'fail' },
    status: 'contraindicated',
  },
  {
    name: 'accepted advisories are a warning',
    policy: { tcb: { advisories: ['INTEL-SA-00615'] } },
    input: { ...tdx, advisories: ['INTEL-SA-00615'] },
    checks: { ...ALWAYS, advisories: 'pass' },
    status: 'warning',
  },
  {
    name: 'advisories pass when none applies',
    policy: { tcb: { advisories: [] } },
    checks: { ...ALWAYS, advisories: 'pass' },
    status: 'affirming',
  },
  {
    name: 'missing advisories are not-checked',
    policy: { tcb: { advisories: [] } },
    input: { claims: tdxClaims, verdict: 'valid' },
    checks: { ...ALWAYS, advisories: 'not-checked' },
    status: 'warning',
  },
  {
    name: 'minimum passes number, list and hex components',
    policy: { tcb: { minimum: { pceSvn: 13, sgxComponents: [3, 3, 2, 2], teeTcbSvn: [7, 1] } } },
    checks: {
      ...ALWAYS,
      'min-tcb:pceSvn': 'pass',
      'min-tcb:sgxComponents': 'pass',
      'min-tcb:teeTcbSvn': 'pass',
    },
    status: 'affirming',
  },
  {
    name: 'minimum fails a low number',
    policy: { tcb: { minimum: { pceSvn: 14 } } },
    checks: { ...ALWAYS, 'min-tcb:pceSvn': 'fail' },
    status: 'contraindicated',
  },
  {
    name: 'minimum fails a low list item',
    policy: { tcb: { minimum: { sgxComponents: [3, 4] } } },
    checks: { ...ALWAYS, 'min-tcb:sgxComponents': 'fail' },
    status: 'contraindicated',
  },
  {
    name: 'minimum fails a low hex byte',
    policy: { tcb: { minimum: { teeTcbSvn: [7, 2] } } },
    checks: { ...ALWAYS, 'min-tcb:teeTcbSvn': 'fail' },
    status: 'contraindicated',
  },
  {
    name: 'minimum fails a type mismatch',
    policy: { tcb: { minimum: { pceSvn: [13] } } },
    checks: { ...ALWAYS, 'min-tcb:pceSvn': 'fail' },
    status: 'contraindicated',
  },
  {
    name: 'minimum of a missing component is not-checked',
    policy: { tcb: { minimum: { microcode: 200 } } },
    checks: { ...ALWAYS, 'min-tcb:microcode': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'report data passes when zero-padded',
    policy: { reportData: '12'.repeat(16) },
    checks: { ...ALWAYS, 'report-data': 'pass' },
    status: 'affirming',
  },
  {
    name: 'report data fails when different',
    policy: { reportData: '13'.repeat(16) },
    checks: { ...ALWAYS, 'report-data': 'fail' },
    status: 'contraindicated',
    trust: { 'instance-identity': 97 },
  },
  {
    name: 'report data is not-checked without the claim',
    policy: { reportData: '12' },
    input: nitro,
    checks: { ...ALWAYS, 'report-data': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'reference values match measurement and RTMR',
    policy: {
      referenceValues: {
        require: ['measurement'],
        values: [referenceValue('measurement', [MRTD.toUpperCase()])],
      },
    },
    referenceValues: [referenceValue('raw.rtmr1', ['00', RTMR1])],
    checks: {
      ...ALWAYS,
      'reference-value:raw.rtmr1': 'pass',
      'reference-value:measurement': 'pass',
    },
    status: 'affirming',
    trust: { executables: 2 },
  },
  {
    name: 'unrecognized measurement is a warning',
    policy: {},
    referenceValues: [referenceValue('measurement', ['ff'.repeat(48)])],
    checks: { ...ALWAYS, 'reference-value:measurement': 'fail' },
    status: 'warning',
    trust: { executables: 33 },
  },
  {
    name: 'configuration mismatch is contraindicated',
    policy: {},
    referenceValues: [referenceValue('raw.xfam', ['0000000000000000'])],
    checks: { ...ALWAYS, 'reference-value:raw.xfam': 'fail' },
    status: 'contraindicated',
    trust: { configuration: 96 },
  },
  {
    name: 'unrecognized platform ID lowers instance identity',
    policy: {},
    referenceValues: [referenceValue('platformId', ['00606a000000'])],
    checks: { ...ALWAYS, 'reference-value:platformId': 'fail' },
    status: 'contraindicated',
    trust: { 'instance-identity': 97 },
  },
  {
    name: 'recognized platform ID affirms instance identity',
    policy: {},
    referenceValues: [referenceValue('platformId', ['90C06F000000'])],
    checks: { ...ALWAYS, 'reference-value:platformId': 'pass' },
    status: 'affirming',
    trust: { 'instance-identity': 2 },
  },
  {
    name: 'required claim without values is not-checked',
    policy: { referenceValues: { require: ['measurement'] } },
    referenceValues: [{ ...referenceValue('measurement', [MRTD]), platform: 'sgx' }],
    checks: { ...ALWAYS, 'reference-value:measurement': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'expired reference values are not-checked',
    policy: {},
    referenceValues: [referenceValue('measurement', [MRTD], { notAfter: '2025-12-31T23:59:59Z' })],
    checks: { ...ALWAYS, 'reference-value:measurement': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'reference values before notBefore are not-checked',
    policy: {},
    referenceValues: [referenceValue('measurement', [MRTD], { notBefore: '2026-02-01T00:00:00Z' })],
    checks: { ...ALWAYS, 'reference-value:measurement': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'reference value of a missing claim is not-checked',
    policy: {},
    referenceValues: [referenceValue('raw.rtmr3', ['00'.repeat(48)])],
    checks: { ...ALWAYS, 'reference-value:raw.rtmr3': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'reference value compares integers as decimal',
    policy: {},
    referenceValues: [referenceValue('raw.isvSvn', ['3'])],
    checks: { ...ALWAYS, 'reference-value:raw.isvSvn': 'pass' },
    status: 'affirming',
  },
  {
    name: 'nitro PCR reference value matches',
    policy: {},
    input: nitro,
    referenceValues: [
      {
        platform: 'nitro',
        claim: 'raw.pcrs.8',
        values: ['dd'.repeat(48)],
        provenance: { source: 'eif build' },
      },
    ],
    checks: { ...ALWAYS, 'reference-value:raw.pcrs.8': 'pass' },
    status: 'affirming',
  },
  {
    name: 'rule that holds passes',
    policy: {
      rules: [{ name: 'isv', expression: 'claims.raw.isvSvn >= 3 && claims.platform == "tdx"' }],
    },
    checks: { ...ALWAYS, 'rule:isv': 'pass' },
    status: 'affirming',
  },
  {
    name: 'rule that fails lowers its trust claim',
    policy: {
      rules: [{ name: 'isv', expression: 'claims.raw.isvSvn >= 4', trustClaim: 'executables' }],
    },
    checks: { ...ALWAYS, 'rule:isv': 'fail' },
    status: 'contraindicated',
    trust: { executables: 96 },
  },
  {
    name: 'rule reading a missing claim is not-checked',
    policy: { rules: [{ name: 'owner', expression: "claims.raw.mrOwner == ''" }] },
    checks: { ...ALWAYS, 'rule:owner': 'not-checked' },
    status: 'warning',
  },
  {
    name: 'rule with a non-boolean result fails',
    policy: { rules: [{ name: 'number', expression: 'claims.raw.isvSvn' }] },
    checks: { ...ALWAYS, 'rule:number': 'fail' },
    status: 'contraindicated',
    trust: { configuration: 96 },
  },
  {
    name: 'rule with a type error fails',
    policy: { rules: [{ name: 'types', expression: "claims.raw.isvSvn > 'a'" }] },
    checks: { ...ALWAYS, 'rule:types': 'fail' },
    status: 'contraindicated',
  },
  {
    name: 'rule sees the TCB status and advisories',
    policy: {
      rules: [{ name: 'tcb', expression: "tcbStatus == 'UpToDate' && size(advisories) == 0" }],
    },
    checks: { ...ALWAYS, 'rule:tcb': 'pass' },
    status: 'affirming',
  },
  {
    name: 'default policy without reference values is a warning',
    policy: DEFAULT_POLICY,
    checks: {
      ...ALWAYS,
      'tcb-status': 'pass',
      advisories: 'pass',
      'reference-value:measurement': 'not-checked',
    },
    status: 'warning',
  },
  {
    name: 'default policy with the measurement affirms',
    policy: DEFAULT_POLICY,
    referenceValues: [referenceValue('measurement', [MRTD])],
    checks: {
      ...ALWAYS,
      'tcb-status': 'pass',
      advisories: 'pass',
      'reference-value:measurement': 'pass',
    },
    status: 'affirming',
  },
]

describe('appraise', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      const policy: Policy = { ...testCase.policy, id: 'test:policy' }
      const result = appraise(testCase.input ?? tdx, policy, {
        at,
        ...(testCase.referenceValues === undefined
          ? {}
          : { referenceValues: testCase.referenceValues }),
      })
      const checks = Object.fromEntries(result.checks.map((check) => [check.name, check.status]))
      assert.deepEqual(checks, testCase.checks, JSON.stringify(result.checks, null, 1))
      assert.equal(result.status, testCase.status)
      for (const [claim, value] of Object.entries(testCase.trust ?? {}))
        assert.equal(result.trustVector[claim as keyof typeof result.trustVector], value, claim)
      assert.equal(result.policyId, 'test:policy')
    })
  }

  it('never passes a check that lacks data', () => {
    for (const testCase of CASES) {
      const result = appraise(
        { claims: { platform: 'tdx', raw: {} } },
        { ...testCase.policy, id: 'p' },
        { at },
      )
      // The platform is present, so the checks that read only the platform may pass.
      const dataChecks = result.checks.filter((check) => check.claim !== 'platform')
      for (const check of dataChecks)
        assert.notEqual(check.status, 'pass', `${testCase.name}: ${check.name}`)
    }
  })

  it('reports expected and actual values', () => {
    const result = appraise(
      tdx,
      { id: 'p', referenceValues: { values: [referenceValue('raw.rtmr1', ['00'])] } },
      { at },
    )
    const check = result.checks.find((c) => c.name === 'reference-value:raw.rtmr1')
    assert.deepEqual(check?.expected, ['00'])
    assert.equal(check?.actual, RTMR1)
    assert.equal(check?.claim, 'raw.rtmr1')
  })

  it('lists all eight trustworthiness claims', () => {
    const result = appraise(tdx, { id: 'p' }, { at })
    assert.equal(Object.keys(result.trustVector).length, 8)
  })

  it('takes the time from verifiedAt', () => {
    const result = appraise({ ...tdx, verifiedAt: '2026-01-13T00:00:00.000Z' }, { id: 'p' })
    assert.equal(result.appraisedAt, '2026-01-13T00:00:00.000Z')
  })

  it('rejects an appraisal without a time', () => {
    assert.throws(() => appraise(tdx, { id: 'p' }), { code: 'ERR_CONFIG_INVALID' })
  })

  it('rejects a malformed policy with a PolicyError', () => {
    const bad = { id: 'p', allowDebug: 'yes' } as unknown as Policy
    assert.throws(() => appraise(tdx, bad, { at }), {
      name: 'PolicyError',
      code: 'ERR_POLICY_INVALID',
    })
  })
})
