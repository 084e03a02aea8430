import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { EXIT } from '../../../src/cli/exit-codes.js'
import { runVerify } from '../../../src/cli/verify.js'
import { fromHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { nvidiaPlatform } from '../../../src/platforms/nvidia/index.js'
import { platformRegistry, verifyEvidence } from '../../../src/verify.js'
import { bundleFromDir, type CorpusCase, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const crypto = createNodeCrypto()
const platform = nvidiaPlatform()

/** Checks that need collateral missing from the corpus: OCSP responses and RIMs. */
const COLLATERAL_CHECKS = ['device-ocsp', 'driver-rim', 'vbios-rim', 'rim-ocsp', 'measurements']

/** expect.json claim names and the raw claim each one is. */
const CLAIM_NAMES: Readonly<Record<string, string>> = {
  request_nonce: 'requestNonce',
  response_nonce: 'responseNonce',
  num_measurement_blocks: 'numberOfBlocks',
  measurement_record_length: 'measurementRecordLength',
  opaque_data_length: 'opaqueLength',
}

interface BuilderChecks {
  readonly spdm_signature_valid: boolean
  readonly chain_subjects_leaf_first: readonly string[]
}

function claimsOf(testCase: CorpusCase): Record<string, unknown> {
  const claims = testCase.expect.claims
  assert.ok(claims !== undefined, 'expect.json has no claims')
  return claims
}

async function verifyCase(testCase: CorpusCase, withNonce = true): Promise<VerificationResult> {
  const bytes = readCaseFile(testCase, 'attestation_report.hex')
  assert.equal(platform.sniff(bytes), true, 'sniff rejects the report')
  const nonce = String(claimsOf(testCase).request_nonce)
  return platform.verify(platform.parse(bytes), {
    at: new Date(testCase.expect.verification_time ?? Number.NaN),
    collateral: bundleFromDir(testCase.dir),
    crypto,
    cache: new VerificationCache(),
    ...(withNonce ? { expectedNonce: fromHex(nonce) } : {}),
  })
}

function statusOf(result: VerificationResult, name: string): string | undefined {
  return result.checks.find((check) => check.name === name)?.status
}

/** Returns the checks that the reason of an "invalid: ..." verdict points at. */
function checksNamedBy(reason: string): string[] {
  const names: string[] = []
  if (/chain/i.test(reason)) names.push('device-chain')
  if (/FwId/i.test(reason)) names.push('fwid')
  return names
}

describe('nvidia corpus', () => {
  for (const testCase of corpusCases('nvidia-gpu')) {
    const expected = testCase.expect.expected.verdict
    const builder = testCase.expect.builder_checks as BuilderChecks

    it(`${testCase.name} gives ${expected.split(/[:;( ]/)[0]}`, async () => {
      const result = await verifyCase(testCase)
      const failed = result.checks.filter((c) => c.status === 'fail').map((c) => c.name)
      if (expected.startsWith('valid')) {
        // The corpus has no OCSP responses or RIMs, so only those checks may be left undone.
        assert.deepEqual(failed, [], JSON.stringify(result.checks, null, 1))
        const skipped = result.checks.filter((c) => c.status === 'skipped').map((c) => c.name)
        assert.deepEqual(skipped, COLLATERAL_CHECKS)
        assert.equal(result.verdict, 'indeterminate')
      } else {
        assert.match(expected, /^invalid/)
        assert.equal(result.verdict, 'invalid')
        for (const name of checksNamedBy(expected)) assert.ok(failed.includes(name), name)
      }
    })

    it(`${testCase.name} matches the builder's signature check`, async () => {
      const result = await verifyCase(testCase)
      const expectedStatus = builder.spdm_signature_valid ? 'pass' : 'fail'
      assert.equal(statusOf(result, 'spdm-signature'), expectedStatus)
    })

    it(`${testCase.name} gives the expected claims`, async () => {
      const result = await verifyCase(testCase)
      for (const [key, value] of Object.entries(claimsOf(testCase))) {
        const name = CLAIM_NAMES[key]
        assert.ok(name !== undefined, `no claim is mapped for ${key}`)
        assert.equal(result.claims.raw[name], value, `claim ${name} (${key})`)
      }
      const fwid = testCase.expect.expected_fwid
      if (typeof fwid === 'string') assert.equal(result.claims.raw.fwid, fwid)
    })

    it(`${testCase.name} counts the certificates of its chain`, () => {
      const chain = bundleFromDir(testCase.dir).text('cert_chain.pem') ?? ''
      const count = chain.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0
      assert.equal(count, builder.chain_subjects_leaf_first.length)
    })

    it(`${testCase.name} parses to its stated size`, () => {
      const format = testCase.expect.format as { parsed_end: number; trailing_bytes: number }
      const report = platform.parse(readCaseFile(testCase, 'attestation_report.hex'))
      assert.equal(report.trailingBytes, format.trailing_bytes)
      assert.equal(report.signedBytes.length + 96, format.parsed_end)
    })
  }

  it('fails the nonce check with another nonce', async () => {
    const testCase = corpusCases('nvidia-gpu').find((c) => c.name === 'h100-nvtrust-sample')
    assert.ok(testCase)
    const nonce = fromHex(String(claimsOf(testCase).response_nonce))
    const result = await platform.verify(
      platform.parse(readCaseFile(testCase, 'attestation_report.hex')),
      {
        at: new Date(testCase.expect.verification_time ?? Number.NaN),
        collateral: bundleFromDir(testCase.dir),
        crypto,
        cache: new VerificationCache(),
        expectedNonce: nonce,
      },
    )
    const check = result.checks.find((c) => c.name === 'nonce')
    assert.equal(check?.status, 'fail')
    assert.equal(check?.code, 'ERR_VERIFY_BINDING')
  })

  it('is detected by verifyEvidence from the hex text', async () => {
    const testCase = corpusCases('nvidia-gpu')[0]
    assert.ok(testCase)
    const bytes = readCaseFile(testCase, 'attestation_report.hex')
    assert.equal(platformRegistry().detect(bytes).name, 'nvidia')
    const result = await verifyEvidence(bytes, {
      at: new Date(testCase.expect.verification_time ?? Number.NaN),
      collateral: bundleFromDir(testCase.dir),
    })
    assert.equal(result.platform, 'nvidia')
    assert.equal(statusOf(result, 'spdm-signature'), 'pass')
  })

  it('is judged by confide verify with --collateral', async () => {
    const testCase = corpusCases('nvidia-gpu').find(
      (c) => c.name === 'h100-trustee-coco-trailing-byte',
    )
    assert.ok(testCase)
    let output = ''
    const code = await runVerify(
      [join(testCase.dir, 'attestation_report.hex')],
      {
        collateral: testCase.dir,
        at: testCase.expect.verification_time ?? '',
        nonce: String(claimsOf(testCase).request_nonce),
        offline: true,
        json: true,
      },
      (text) => {
        output += text
      },
    )
    const result = JSON.parse(output) as VerificationResult
    assert.equal(code, EXIT.INDETERMINATE)
    assert.equal(result.platform, 'nvidia')
    assert.equal(statusOf(result, 'nonce'), 'pass')
  })
})
