/**
 * Every Intel SGX and TDX case of the shared corpus, judged as its expect.json states. No expected
 * value is written here: the tables below only name where each expect.json key lives in a result.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { decodePem, fromHex } from '../../../src/core/bytes.js'
import type { ClaimValue, VerificationResult } from '../../../src/core/types.js'
import { INTEL_SGX_ROOT_CA_PEM } from '../../../src/platforms/dcap/anchors.js'
import { verifyEvidence } from '../../../src/verify.js'
import { bundleFromDir, type CorpusCase, corpusCases, readCaseFile } from '../../helpers/corpus.js'

/** expect.json claim keys and the raw claim each one names. */
const RAW_CLAIM: Record<string, string> = {
  mrenclave: 'mrEnclave',
  mrsigner: 'mrSigner',
  isvprodid: 'isvProdId',
  isvsvn: 'isvSvn',
  attributes: 'attributes',
  miscselect: 'miscSelect',
  cpusvn: 'cpuSvn',
  report_data: 'reportData',
  fmspc: 'fmspc',
  pce_id: 'pceId',
  pck_cpusvn_components: 'pckCpuSvnComponents',
  pck_pcesvn: 'pckPceSvn',
  qe_vendor_id: 'qeVendorId',
  tee_tcb_svn: 'teeTcbSvn',
  mrseam: 'mrSeam',
  mrsignerseam: 'mrSignerSeam',
  seam_attributes: 'seamAttributes',
  td_attributes: 'tdAttributes',
  xfam: 'xfam',
  mrtd: 'mrTd',
  mrconfigid: 'mrConfigId',
  mrowner: 'mrOwner',
  mrownerconfig: 'mrOwnerConfig',
  rtmr0: 'rtmr0',
  rtmr1: 'rtmr1',
  rtmr2: 'rtmr2',
  rtmr3: 'rtmr3',
  tee_tcb_svn2: 'teeTcbSvn2',
  mrservicetd: 'mrServiceTd',
}

/** builder_checks keys and the check each one corresponds to. */
const BUILDER_CHECK: Record<string, string> = {
  quote_sig: 'quote-signature',
  qe_report_sig: 'qe-report-signature',
  qe_report_data_binds_ak: 'qe-report-binding',
}

/** Reasons an expect.json gives for "invalid", and the check and code that must report them. */
const INVALID_REASONS: { pattern: RegExp; check?: string; code: string }[] = [
  {
    pattern: /quote signature|message digest using quote's signature/i,
    check: 'quote-signature',
    code: 'ERR_VERIFY_SIGNATURE',
  },
  { pattern: /PCK leaf certificate expired/i, check: 'pck-chain', code: 'ERR_VERIFY_EXPIRED' },
  {
    pattern: /validate (PCK leaf|Intermediate CA) certificate: .*ECDSA verification failure/i,
    check: 'pck-chain',
    code: 'ERR_VERIFY_SIGNATURE',
  },
  { pattern: /collateral expired/i, code: 'ERR_COLLATERAL_EXPIRED' },
  {
    pattern: /TCB level not supported|no matching tcbLevel/i,
    check: 'tcb-level',
    code: 'ERR_VERIFY_TCB',
  },
]

/** TCB statuses that make the verdict invalid. */
const REJECTING_STATUSES = new Set(['NoMatchingTcbLevel', 'Revoked', 'CollateralExpired'])

/** Collateral files without which a verdict can only be indeterminate. */
const COMPLETE_COLLATERAL = ['tcb_info.json', 'qe_identity.json', 'pck_crl.der', 'root_ca_crl.der']

function expectsInvalid(testCase: CorpusCase): boolean {
  const status = testCase.expect.expected.tcb_status
  return (
    testCase.expect.expected.verdict.startsWith('invalid') ||
    (typeof status === 'string' && REJECTING_STATUSES.has(status))
  )
}

/** Tells from the expected claims whether the case is a debug enclave or TD. */
function expectsDebug(testCase: CorpusCase): boolean {
  const claims = testCase.expect.claims ?? {}
  if (typeof claims.attributes === 'string')
    return ((fromHex(claims.attributes)[0] ?? 0) & 0x02) !== 0
  if (typeof claims.td_attributes === 'string')
    return ((fromHex(claims.td_attributes)[0] ?? 0) & 0x01) !== 0
  return false
}

function hasCompleteCollateral(testCase: CorpusCase): boolean {
  return COMPLETE_COLLATERAL.every((name) => existsSync(join(testCase.dir, 'collateral', name)))
}

async function verifyCase(testCase: CorpusCase, allowDebug = false): Promise<VerificationResult> {
  const time = testCase.expect.verification_time
  assert.ok(time, 'every Intel case names a verification time')
  const collateralDir = join(testCase.dir, 'collateral')
  return verifyEvidence(readCaseFile(testCase, 'quote.bin'), {
    at: new Date(time),
    ...(existsSync(collateralDir) ? { collateral: bundleFromDir(collateralDir) } : {}),
    ...(allowDebug ? { allowDebug } : {}),
  })
}

function failed(result: VerificationResult): string[] {
  return result.checks
    .filter((check) => check.status === 'fail')
    .map((check) => `${check.name}:${check.code}`)
}

function assertClaims(testCase: CorpusCase, result: VerificationResult): void {
  for (const [key, expected] of Object.entries(testCase.expect.claims ?? {})) {
    if (key === 'pck_issuer') {
      // The expectation names the issuing CA by its CN; the claim is the whole name, CN first.
      const issuer = result.claims.raw.pckIssuer
      assert.equal(typeof issuer === 'string' ? issuer.split(',')[0] : issuer, expected, key)
      continue
    }
    const name = RAW_CLAIM[key]
    assert.ok(name !== undefined, `expect.json claim ${key} has no mapping to a confide claim`)
    assert.deepEqual(result.claims.raw[name], expected as ClaimValue, key)
  }
}

function assertTcb(testCase: CorpusCase, result: VerificationResult): void {
  const expected = testCase.expect.expected
  if (expected.tcb_status !== undefined) assert.equal(result.tcbStatus, expected.tcb_status)
  if (expected.advisory_ids !== undefined) {
    assert.deepEqual([...result.advisories].sort(), [...(expected.advisory_ids as string[])].sort())
  }
  if (expected.qe_tcb_status !== undefined)
    assert.equal(result.tcb?.qeStatus, expected.qe_tcb_status)
  const module = expected.tdx_module_identity as Record<string, unknown> | undefined
  if (module !== undefined) {
    assert.deepEqual(result.tcb?.tdxModule, {
      id: module.id,
      mrSignerMatch: module.mrsigner_match,
      attributesMatch: module.attributes_match,
      isvSvn: module.isvsvn,
      status: module.status,
    })
  }
}

function assertBuilderChecks(testCase: CorpusCase, result: VerificationResult): void {
  const builder = (testCase.expect.builder_checks ?? {}) as Record<string, unknown>
  for (const [key, check] of Object.entries(BUILDER_CHECK)) {
    if (typeof builder[key] !== 'boolean') continue
    const status = result.checks.find((c) => c.name === check)?.status
    assert.equal(status, builder[key] ? 'pass' : 'fail', `${check} against builder check ${key}`)
  }
}

for (const platform of ['intel-sgx', 'intel-tdx']) {
  describe(`corpus ${platform}`, () => {
    for (const testCase of corpusCases(platform)) {
      it(testCase.name, async () => {
        const debug = expectsDebug(testCase)
        const result = await verifyCase(testCase)

        assert.equal(result.platform, platform === 'intel-sgx' ? 'sgx' : 'tdx')
        assertClaims(testCase, result)
        assertTcb(testCase, result)
        assertBuilderChecks(testCase, result)

        if (expectsInvalid(testCase)) {
          assert.equal(result.verdict, 'invalid')
          const reason = INVALID_REASONS.find((r) =>
            r.pattern.test(testCase.expect.expected.verdict),
          )
          const status = testCase.expect.expected.tcb_status
          assert.ok(
            reason !== undefined || typeof status === 'string',
            'the expected reason is recognized',
          )
          if (reason !== undefined) {
            assert.ok(
              result.checks.some(
                (c) =>
                  c.status === 'fail' &&
                  c.code === reason.code &&
                  (reason.check === undefined || c.name === reason.check),
              ),
              `a check fails with ${reason.code}; failed: ${failed(result).join(', ')}`,
            )
          }
          return
        }

        if (debug) {
          // A debug enclave is rejected by default, for that reason alone.
          assert.deepEqual(failed(result), ['debug:ERR_VERIFY_DEBUG'])
        }
        const judged = debug ? await verifyCase(testCase, true) : result
        assert.deepEqual(failed(judged), [])
        assert.equal(judged.verdict, hasCompleteCollateral(testCase) ? 'valid' : 'indeterminate')
      })
    }
  })
}

describe('pinned Intel SGX Root CA', () => {
  it('equals the root in every corpus case', () => {
    const pinned = decodePem(INTEL_SGX_ROOT_CA_PEM)[0]?.der
    for (const testCase of [...corpusCases('intel-sgx'), ...corpusCases('intel-tdx')]) {
      const text = readFileSync(join(testCase.dir, 'trust', 'intel_sgx_root_ca.pem'), 'utf8')
      assert.deepEqual(decodePem(text)[0]?.der, pinned, testCase.name)
    }
  })
})
