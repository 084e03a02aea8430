/**
 * Azure confidential VM evidence. No real Azure capture is in the corpus, so every case here is
 * generated (see test/helpers/fake-tpm-azure.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import { ParseError } from '../../../src/core/errors.js'
import type { VerifyOptions } from '../../../src/core/platform.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { hasSubmods } from '../../../src/platforms/composite/result.js'
import { tpmPlatform } from '../../../src/platforms/tpm/index.js'
import { verifyEvidence } from '../../../src/verify.js'
import { createAk, DEFAULT_NONCE } from '../../helpers/fake-tpm.js'
import {
  type AzureSpec,
  azureSnpCollateral,
  azureSnpEvidence,
  azureTdxCollateral,
  azureTdxEvidence,
  createAzureSnpPki,
  createTestIntelPki,
  runtimeDataFor,
  TEST_AT,
} from '../../helpers/fake-tpm-azure.js'

const platform = tpmPlatform()
const crypto = createNodeCrypto()
const snpPki = createAzureSnpPki()
const intelPki = createTestIntelPki()

async function verifySnp(
  spec: AzureSpec = {},
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const { bytes } = azureSnpEvidence(snpPki, spec)
  return platform.verify(platform.parse(bytes), {
    at: TEST_AT,
    crypto,
    cache: new VerificationCache(),
    trustAnchors: [snpPki.amd.ark.der],
    collateral: azureSnpCollateral(snpPki),
    ...options,
  })
}

async function verifyTdx(
  spec: AzureSpec = {},
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const { bytes } = azureTdxEvidence(intelPki, spec)
  return platform.verify(platform.parse(bytes), {
    at: TEST_AT,
    crypto,
    cache: new VerificationCache(),
    trustAnchors: [intelPki.root.der],
    collateral: azureTdxCollateral(intelPki),
    ...options,
  })
}

function failures(result: VerificationResult): string[] {
  return result.checks
    .filter((check) => check.status === 'fail')
    .map((check) => `${check.name}:${check.code}`)
}

function statusOf(result: VerificationResult, name: string): string | undefined {
  return result.checks.find((check) => check.name === name)?.status
}

const CHECKS = [
  'hardware-report',
  'runtime-data',
  'attestation-key',
  'quote-signature',
  'nonce',
  'pcr-digest',
]

describe('Azure vTPM on SEV-SNP', () => {
  it('accepts a quote bound through the HCL report', async () => {
    const result = await verifySnp({}, { expectedNonce: DEFAULT_NONCE })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.deepEqual(
      result.checks.map((check) => check.name),
      CHECKS,
    )
    assert.ok(hasSubmods(result))
    assert.equal(result.submods.snp?.verdict, 'valid')
    assert.equal(result.claims.measurement, result.submods.snp?.claims.measurement)
    assert.equal(result.claims.raw.hardware, 'snp')
    assert.equal((result.claims.raw.hclRuntimeData as { keys: unknown[] }).keys.length, 2)
  })

  it('rejects a report that does not bind the runtime data', async () => {
    const result = await verifySnp({ reportData: new Uint8Array(64).fill(1) })
    assert.deepEqual(failures(result), [
      'hardware-report:ERR_VERIFY_BINDING',
      'runtime-data:ERR_VERIFY_BINDING',
    ])
  })

  it('rejects a quote signed by a key other than HCLAkPub', async () => {
    const result = await verifySnp({ runtimeAk: createAk('rsa') })
    assert.deepEqual(failures(result), ['quote-signature:ERR_VERIFY_SIGNATURE'])
  })

  it('rejects runtime data without HCLAkPub', async () => {
    const result = await verifySnp({ runtimeAk: null })
    assert.deepEqual(failures(result), ['attestation-key:ERR_VERIFY_BINDING'])
    assert.equal(statusOf(result, 'quote-signature'), 'skipped')
  })

  it('rejects runtime data that is not JSON', async () => {
    const result = await verifySnp({ runtimeData: new TextEncoder().encode('not json') })
    assert.deepEqual(failures(result), ['attestation-key:ERR_VERIFY_BINDING'])
  })

  it('rejects a replayed quote', async () => {
    const result = await verifySnp({}, { expectedNonce: new Uint8Array(32).fill(1) })
    assert.deepEqual(failures(result), ['nonce:ERR_VERIFY_BINDING'])
  })

  it('rejects PCR values that do not give the digest', async () => {
    const pcrs = Array.from({ length: 24 }, () => new Uint8Array(32))
    const result = await verifySnp({ pcrs })
    assert.deepEqual(failures(result), ['pcr-digest:ERR_VERIFY_BINDING'])
  })

  it('rejects a report chained to another AMD root', async () => {
    const other = createAzureSnpPki()
    const result = await verifySnp({}, { trustAnchors: [other.amd.ark.der] })
    assert.ok(hasSubmods(result))
    const failed = result.submods.snp?.checks.find((check) => check.status === 'fail')
    assert.equal(failed?.name, 'certificate-chain')
    assert.deepEqual(failures(result), [`hardware-report:${failed?.code}`])
  })

  it('is indeterminate without the ASK and ARK', async () => {
    const result = await verifySnp({}, { collateral: new CollateralBundle([]) })
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(statusOf(result, 'hardware-report'), 'skipped')
  })

  it('prefers the caller VCEK over the one the evidence carries', async () => {
    const other = createAzureSnpPki()
    const collateral = new CollateralBundle([
      ...[...['ask_ark.pem']].map(
        (name) => [name, azureSnpCollateral(snpPki).get(name)!] as [string, Uint8Array],
      ),
      ['vcek.der', other.vcek.der],
    ])
    const result = await verifySnp({}, { collateral })
    assert.equal(failures(result)[0], 'hardware-report:ERR_VERIFY_SIGNATURE')
  })

  it('is detected from its bytes', async () => {
    const { bytes } = azureSnpEvidence(snpPki)
    const result = await verifyEvidence(bytes, {
      at: TEST_AT,
      trustAnchors: [snpPki.amd.ark.der],
      collateral: azureSnpCollateral(snpPki),
    })
    assert.equal(result.platform, 'tpm')
    assert.equal(result.verdict, 'valid')
  })
})

describe('Azure vTPM on TDX', () => {
  it('accepts a quote bound through the TD quote', async () => {
    const result = await verifyTdx({}, { expectedNonce: DEFAULT_NONCE })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.equal(result.tcbStatus, 'UpToDate')
    assert.deepEqual(
      result.checks.map((check) => check.name),
      CHECKS,
    )
    assert.ok(hasSubmods(result))
    assert.equal(result.submods.tdx?.platform, 'tdx')
  })

  it('rejects a TD quote that does not bind the runtime data', async () => {
    const result = await verifyTdx({ reportData: new Uint8Array(64).fill(2) })
    assert.deepEqual(failures(result), ['runtime-data:ERR_VERIFY_BINDING'])
  })

  it('rejects a quote signed by a key other than HCLAkPub', async () => {
    const result = await verifyTdx({ runtimeAk: createAk('rsa') })
    assert.deepEqual(failures(result), ['quote-signature:ERR_VERIFY_SIGNATURE'])
  })

  it('is indeterminate without Intel collateral', async () => {
    const result = await verifyTdx({}, { collateral: new CollateralBundle([]) })
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(statusOf(result, 'hardware-report'), 'skipped')
  })
})

describe('Azure evidence parsing', () => {
  it('rejects an SEV-SNP form carrying a TDX HCL report', () => {
    const tdx = JSON.parse(new TextDecoder().decode(azureTdxEvidence(intelPki).bytes)) as Record<
      string,
      unknown
    >
    const snp = JSON.parse(new TextDecoder().decode(azureSnpEvidence(snpPki).bytes)) as Record<
      string,
      unknown
    >
    snp.report = tdx.hcl_report
    assert.throws(() => platform.parse(new TextEncoder().encode(JSON.stringify(snp))), ParseError)
  })

  it('rejects an HCL report of another type', () => {
    const { bytes } = azureSnpEvidence(snpPki, {
      edit: (json) => {
        const report = json.report as number[]
        report[0x4c8] = 3
      },
    })
    assert.throws(
      () => platform.parse(bytes),
      (error: unknown) =>
        error instanceof ParseError && error.code === 'ERR_PARSE_UNSUPPORTED_TEE_TYPE',
    )
  })

  it('keeps the runtime data as hex when it is not JSON', async () => {
    const runtimeData = Uint8Array.of(1, 2, 3)
    const result = await verifySnp({ runtimeData })
    assert.equal(result.claims.raw.hclRuntimeData, '010203')
    assert.ok(runtimeDataFor(null).length > 0)
  })
})
