import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { concatBytes, fromHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { tpmPlatform } from '../../../src/platforms/tpm/index.js'
import { verifyEvidence } from '../../../src/verify.js'
import { type CorpusCase, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const platform = tpmPlatform()
const crypto = createNodeCrypto()
const cache = new VerificationCache()

/** The claims a tpm expect.json lists, by the corpus builder's names. */
interface ExpectedClaims {
  readonly 'extraData(nonce)': string
  readonly pcr_selection: readonly { readonly hash_alg: string; readonly select: string }[]
  readonly pcr_digest: string
  readonly pcr_digest_recomputed_from_pcrs_json: string
  readonly firmware_version: string
  readonly clock_info: string
}

interface RawClaims {
  readonly extraData: string
  readonly pcrSelect: readonly { readonly hashAlg: number; readonly pcrSelect: string }[]
  readonly pcrDigest: string
  readonly firmwareVersion: string
  readonly clockInfo: { clock: string; resetCount: number; restartCount: number; safe: boolean }
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0')
}

function assertClaims(result: VerificationResult, claims: ExpectedClaims): void {
  const raw = result.claims.raw as unknown as RawClaims
  assert.equal(raw.extraData, claims['extraData(nonce)'])
  assert.equal(result.claims.reportData, claims['extraData(nonce)'])
  assert.deepEqual(
    raw.pcrSelect.map((bank) => ({
      hash_alg: `0x${bank.hashAlg.toString(16).padStart(4, '0')}`,
      select: bank.pcrSelect,
    })),
    claims.pcr_selection,
  )
  assert.equal(raw.pcrDigest, claims.pcr_digest)
  assert.equal(raw.pcrDigest, claims.pcr_digest_recomputed_from_pcrs_json)
  assert.equal(raw.firmwareVersion, claims.firmware_version)
  const { clock, resetCount, restartCount, safe } = raw.clockInfo
  assert.equal(
    `${clock}${hex32(resetCount)}${hex32(restartCount)}${safe ? '01' : '00'}`,
    claims.clock_info,
  )
}

function statusOf(result: VerificationResult, name: string): string | undefined {
  return result.checks.find((check) => check.name === name)?.status
}

/** Lists the forms a case can be read in: the TPMS_ATTEST with collateral, the TPM2B_ATTEST, the JSON. */
function inputsOf(
  testCase: CorpusCase,
): { form: string; bytes: Uint8Array; collateral?: CollateralBundle }[] {
  const inputs: { form: string; bytes: Uint8Array; collateral?: CollateralBundle }[] = []
  if (existsSync(join(testCase.dir, 'tpms_attest.bin'))) {
    const files = ['tpmt_signature.bin', 'pcrs_sha256.json'].filter((name) =>
      existsSync(join(testCase.dir, name)),
    )
    const collateral = new CollateralBundle(
      files.map((name) => [name, readCaseFile(testCase, name)]),
    )
    const attest = readCaseFile(testCase, 'tpms_attest.bin')
    inputs.push({ form: 'tpms-attest', bytes: attest, collateral })
    const signature = readCaseFile(testCase, 'tpmt_signature.bin')
    const tpm2b = concatBytes(
      Uint8Array.of(attest.length >> 8, attest.length & 0xff),
      attest,
      signature,
    )
    const pcrs = new CollateralBundle([
      ['pcrs_sha256.json', readCaseFile(testCase, 'pcrs_sha256.json')],
    ])
    inputs.push({ form: 'tpm2b-attest', bytes: tpm2b, collateral: pcrs })
  }
  if (existsSync(join(testCase.dir, 'original_tpm_evidence.json'))) {
    inputs.push({
      form: 'trustee-json',
      bytes: readCaseFile(testCase, 'original_tpm_evidence.json'),
    })
  }
  return inputs
}

describe('tpm corpus', () => {
  for (const testCase of corpusCases('tpm')) {
    const verdict = testCase.expect.expected.verdict
    const expected = verdict.startsWith('invalid') ? 'invalid' : 'valid'
    const claims = testCase.expect.claims as unknown as ExpectedClaims
    const builder = testCase.expect.builder_checks as {
      signature_valid: boolean
      pcr_digest_matches: boolean
    }

    for (const input of inputsOf(testCase)) {
      it(`${testCase.name} as ${input.form}: ${verdict.slice(0, 50)}`, async () => {
        const evidence = platform.parse(input.bytes)
        assert.equal(evidence.form, input.form)
        const result = await platform.verify(evidence, {
          at: new Date(),
          crypto,
          cache,
          trustedKeys: [readCaseFile(testCase, 'ak_public.der')],
          expectedNonce: fromHex(claims['extraData(nonce)']),
          ...(input.collateral === undefined ? {} : { collateral: input.collateral }),
        })
        assert.equal(result.verdict, expected, JSON.stringify(result.checks, null, 1))
        assert.equal(statusOf(result, 'quote-signature'), builder.signature_valid ? 'pass' : 'fail')
        assert.equal(statusOf(result, 'pcr-digest'), builder.pcr_digest_matches ? 'pass' : 'fail')
        assert.equal(statusOf(result, 'nonce'), 'pass')
        assertClaims(result, claims)
      })
    }

    const json = join(testCase.dir, 'original_tpm_evidence.json')
    if (expected !== 'valid' || !existsSync(json)) continue
    it(`${testCase.name}: detected as tpm and indeterminate without a trusted AK`, async () => {
      const bytes = readCaseFile(testCase, 'original_tpm_evidence.json')
      const result = await verifyEvidence(bytes, { cache })
      assert.equal(result.platform, 'tpm')
      assert.equal(result.verdict, 'indeterminate')
      assert.equal(statusOf(result, 'attestation-key'), 'skipped')
    })
  }
})
