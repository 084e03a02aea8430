/**
 * Every SGX, TDX, SEV-SNP and Nitro case of the shared corpus, appraised twice: under the strict
 * default policy, and under a policy built by code from the case's own expect.json claims. The
 * expected status is derived from expect.json too; no value is typed here.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { appraise } from '../../src/appraisal/appraise.js'
import {
  DEFAULT_POLICY,
  type Policy,
  type PolicyRule,
  type TcbPolicy,
} from '../../src/appraisal/policy.js'
import type { ReferenceValue } from '../../src/appraisal/reference-values.js'
import type { TrustTier } from '../../src/appraisal/trust-vector.js'
import { fromHex } from '../../src/core/bytes.js'
import { ParseError } from '../../src/core/errors.js'
import type { TcbStatus, VerificationResult } from '../../src/core/types.js'
import { verifyEvidence } from '../../src/verify.js'
import { bundleFromDir, type CorpusCase, corpusCases, readCaseFile } from '../helpers/corpus.js'

/** Each corpus folder: its platform, evidence file and collateral folder. */
const FOLDERS = [
  { folder: 'intel-sgx', platform: 'sgx', evidence: 'quote.bin', collateral: 'collateral' },
  { folder: 'intel-tdx', platform: 'tdx', evidence: 'quote.bin', collateral: 'collateral' },
  { folder: 'amd-sev-snp', platform: 'snp', evidence: 'report.bin', collateral: 'certs' },
  {
    folder: 'aws-nitro',
    platform: 'nitro',
    evidence: 'attestation_doc.cose',
    collateral: undefined,
  },
] as const

type Folder = (typeof FOLDERS)[number]

/** expect.json claim names and the confide claim each names. */
const REFERENCE_CLAIMS: Readonly<Record<string, string>> = {
  mrenclave: 'measurement',
  mrsigner: 'signer',
  mrtd: 'measurement',
  mrseam: 'raw.mrSeam',
  mrconfigid: 'raw.mrConfigId',
  mrowner: 'raw.mrOwner',
  mrownerconfig: 'raw.mrOwnerConfig',
  xfam: 'raw.xfam',
  rtmr0: 'raw.rtmr0',
  rtmr1: 'raw.rtmr1',
  rtmr2: 'raw.rtmr2',
  rtmr3: 'raw.rtmr3',
  measurement: 'measurement',
  host_data: 'raw.hostData',
  id_key_digest: 'raw.idKeyDigest',
  author_key_digest: 'raw.authorKeyDigest',
  family_id: 'raw.familyId',
  image_id: 'raw.imageId',
  chip_id: 'raw.chipId',
  pcr0: 'measurement',
  pcr1: 'raw.pcrs.1',
  pcr2: 'raw.pcrs.2',
  pcr3: 'raw.pcrs.3',
  pcr4: 'raw.pcrs.4',
  pcr8: 'raw.pcrs.8',
}

/** TCB statuses with which the verification itself is invalid. */
const REJECTING_STATUSES = new Set(['NoMatchingTcbLevel', 'Revoked', 'CollateralExpired'])
/** Intel collateral without which the verdict can only be indeterminate. */
const COMPLETE_COLLATERAL = ['tcb_info.json', 'qe_identity.json', 'pck_crl.der', 'root_ca_crl.der']

function claimsOf(testCase: CorpusCase): Record<string, unknown> {
  return testCase.expect.claims ?? {}
}

function tcbStatusOf(testCase: CorpusCase): string | undefined {
  const status = testCase.expect.expected.tcb_status
  return typeof status === 'string' ? status : undefined
}

function advisoriesOf(testCase: CorpusCase): string[] | undefined {
  const ids = testCase.expect.expected.advisory_ids
  return Array.isArray(ids) ? (ids as string[]) : undefined
}

function isZeroHex(value: unknown): boolean {
  return typeof value === 'string' && /^(00)+$/.test(value)
}

/** Tells from expect.json claims whether the TEE runs in debug mode. */
function expectsDebug(testCase: CorpusCase, folder: Folder): boolean {
  const claims = claimsOf(testCase)
  if (folder.platform === 'nitro')
    return isZeroHex(claims.pcr0) && isZeroHex(claims.pcr1) && isZeroHex(claims.pcr2)
  if (folder.platform === 'snp') return ((BigInt(Number(claims.policy ?? 0)) >> 19n) & 1n) === 1n
  if (typeof claims.attributes === 'string')
    return ((fromHex(claims.attributes)[0] ?? 0) & 0x02) !== 0
  if (typeof claims.td_attributes === 'string')
    return ((fromHex(claims.td_attributes)[0] ?? 0) & 0x01) !== 0
  return false
}

function expectsInvalid(testCase: CorpusCase): boolean {
  const status = tcbStatusOf(testCase)
  return (
    testCase.expect.expected.verdict.startsWith('invalid') ||
    (status !== undefined && REJECTING_STATUSES.has(status))
  )
}

function expectsIndeterminate(testCase: CorpusCase, folder: Folder): boolean {
  if (folder.folder !== 'intel-sgx' && folder.folder !== 'intel-tdx') return false
  return !COMPLETE_COLLATERAL.every((name) => existsSync(join(testCase.dir, 'collateral', name)))
}

/** The status the strict default policy must give: nothing is affirmed without reference values. */
function defaultStatus(testCase: CorpusCase, folder: Folder): TrustTier {
  if (expectsInvalid(testCase) || expectsDebug(testCase, folder)) return 'contraindicated'
  const status = tcbStatusOf(testCase)
  if (status !== undefined && status !== 'UpToDate') return 'contraindicated'
  if ((advisoriesOf(testCase) ?? []).length > 0) return 'contraindicated'
  return 'warning'
}

/** The status a policy written for the case must give. */
function ownStatus(testCase: CorpusCase, folder: Folder): TrustTier {
  if (expectsInvalid(testCase)) return 'contraindicated'
  if (expectsIndeterminate(testCase, folder) || expectsDebug(testCase, folder)) return 'warning'
  const status = tcbStatusOf(testCase)
  if (status !== undefined && status !== 'UpToDate') return 'warning'
  if ((advisoriesOf(testCase) ?? []).length > 0) return 'warning'
  return 'affirming'
}

/** Reference values for every claim of expect.json that names a measured value. */
function referenceValuesOf(testCase: CorpusCase, folder: Folder): ReferenceValue[] {
  return Object.entries(claimsOf(testCase)).flatMap(([key, value]) => {
    const claim = REFERENCE_CLAIMS[key]
    if (claim === undefined || typeof value !== 'string') return []
    return [
      {
        platform: folder.platform,
        claim,
        values: [value],
        provenance: { source: `${testCase.name}/expect.json` },
      },
    ]
  })
}

function tcbPolicyOf(testCase: CorpusCase): TcbPolicy {
  const claims = claimsOf(testCase)
  const status = tcbStatusOf(testCase)
  const advisories = advisoriesOf(testCase)
  const minimum: Record<string, number | number[]> = {}
  if (Array.isArray(claims.pck_cpusvn_components))
    minimum.sgxComponents = claims.pck_cpusvn_components as number[]
  if (typeof claims.pck_pcesvn === 'number') minimum.pceSvn = claims.pck_pcesvn
  if (typeof claims.tee_tcb_svn === 'string') minimum.teeTcbSvn = [...fromHex(claims.tee_tcb_svn)]
  return {
    ...(status === undefined ? {} : { statuses: [status as TcbStatus] }),
    ...(advisories === undefined ? {} : { advisories }),
    ...(Object.keys(minimum).length === 0 ? {} : { minimum }),
  }
}

function rulesOf(testCase: CorpusCase, folder: Folder): PolicyRule[] {
  const rules: PolicyRule[] = [
    { name: 'platform', expression: `claims.platform == '${folder.platform}'` },
  ]
  const nonce = claimsOf(testCase).nonce
  if (typeof nonce === 'string')
    rules.push({
      name: 'nonce',
      expression: `claims.raw.nonce == '${nonce}'`,
      trustClaim: 'instance-identity',
    })
  return rules
}

/** Writes a policy for one case from its expect.json claims. */
function policyFor(testCase: CorpusCase, folder: Folder): Policy {
  const reportData = claimsOf(testCase).report_data
  const values = referenceValuesOf(testCase, folder)
  return {
    id: `test:${testCase.name}`,
    platforms: [folder.platform],
    allowDebug: expectsDebug(testCase, folder),
    tcb: tcbPolicyOf(testCase),
    ...(typeof reportData === 'string' ? { reportData } : {}),
    referenceValues: { require: [...new Set(values.map((value) => value.claim))] },
    rules: rulesOf(testCase, folder),
  }
}

async function verifyCase(testCase: CorpusCase, folder: Folder): Promise<VerificationResult> {
  const time = testCase.expect.verification_time
  const collateral =
    folder.collateral === undefined ? undefined : join(testCase.dir, folder.collateral)
  return verifyEvidence(readCaseFile(testCase, folder.evidence), {
    at: time === null ? new Date() : new Date(time),
    // As `confide appraise` does: the policy, not the verification, decides about debug mode.
    allowDebug: true,
    ...(collateral !== undefined && existsSync(collateral)
      ? { collateral: bundleFromDir(collateral) }
      : {}),
  })
}

function summary(result: ReturnType<typeof appraise>): string {
  return result.checks.map((check) => `${check.name}:${check.status} ${check.detail}`).join('\n')
}

for (const folder of FOLDERS) {
  describe(`appraisal of corpus ${folder.folder}`, () => {
    for (const testCase of corpusCases(folder.folder)) {
      it(testCase.name, async () => {
        let verification: VerificationResult
        try {
          verification = await verifyCase(testCase, folder)
        } catch (error) {
          // Evidence that cannot be decoded is never appraised; its case must expect invalid.
          assert.ok(error instanceof ParseError, String(error))
          assert.ok(expectsInvalid(testCase), testCase.expect.expected.verdict)
          return
        }

        const strict = appraise(verification, DEFAULT_POLICY)
        assert.equal(strict.status, defaultStatus(testCase, folder), summary(strict))
        const measurement = strict.checks.find(
          (check) => check.name === 'reference-value:measurement',
        )
        assert.equal(measurement?.status, 'not-checked')

        const policy = policyFor(testCase, folder)
        const own = appraise(verification, policy, {
          referenceValues: referenceValuesOf(testCase, folder),
        })
        assert.equal(own.status, ownStatus(testCase, folder), summary(own))
        const references = own.checks.filter((check) => check.name.startsWith('reference-value:'))
        assert.ok(references.length > 0, 'the case has reference values')
        for (const check of references)
          assert.equal(check.status, 'pass', `${check.name}: ${check.detail}`)
        for (const check of own.checks.filter((c) => c.name.startsWith('rule:')))
          assert.equal(check.status, 'pass', `${check.name}: ${check.detail}`)
      })
    }
  })
}
