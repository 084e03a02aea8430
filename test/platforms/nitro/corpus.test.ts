import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import { ParseError } from '../../../src/core/errors.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import type { NitroEvidence } from '../../../src/platforms/nitro/evidence.js'
import { nitroPlatform } from '../../../src/platforms/nitro/index.js'
import { type CorpusCase, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const platform = nitroPlatform()
const crypto = createNodeCrypto()
const cache = new VerificationCache()

/** The claims an aws-nitro expect.json lists, by the corpus builder's names. */
interface ExpectedClaims {
  readonly module_id: string
  readonly digest: string
  readonly timestamp_ms: number
  readonly timestamp_iso: string
  readonly num_pcrs: number
  readonly nonce: string | null
  readonly user_data: string | null
  readonly public_key: string | null
  readonly cabundle_len: number
  readonly [pcr: `pcr${number}`]: string
}

/**
 * Reads what a case expects. A verdict text that starts with "invalid" expects invalid, any
 * other expects valid once debug is allowed. A case is a debug enclave when its PCR0, PCR1 and
 * PCR2 claims are all zero, which makes it invalid while debug is not allowed.
 */
function expectationOf(testCase: CorpusCase) {
  const claims = testCase.expect.claims as unknown as ExpectedClaims
  const zero = (value: string | undefined) => value !== undefined && /^(?:00)+$/.test(value)
  const debug = zero(claims.pcr0) && zero(claims.pcr1) && zero(claims.pcr2)
  const valid = !testCase.expect.expected.verdict.startsWith('invalid')
  const builder = testCase.expect.builder_checks as { cose_signature_valid: boolean }
  const openssl = testCase.expect.openssl_checks as { results: { leaf_chain: [boolean, string] } }

  return {
    claims,
    debug,
    valid,
    at: new Date(testCase.expect.verification_time ?? Number.NaN),
    signatureValid: builder.cose_signature_valid,
    chainValid: openssl.results.leaf_chain[0],
  }
}

function statusOf(result: VerificationResult, name: string): string | undefined {
  return result.checks.find((c) => c.name === name)?.status
}

function assertClaims(result: VerificationResult, evidence: NitroEvidence, claims: ExpectedClaims) {
  const raw = result.claims.raw as Record<string, unknown> & { pcrs: Record<string, string> }
  assert.equal(raw.moduleId, claims.module_id)
  assert.equal(raw.digest, claims.digest)
  assert.equal(raw.timestampMs, claims.timestamp_ms)
  assert.equal(Date.parse(String(raw.timestamp)), Date.parse(claims.timestamp_iso))
  assert.equal(Object.keys(raw.pcrs).length, claims.num_pcrs)
  for (const [key, value] of Object.entries(claims)) {
    const index = /^pcr(\d+)$/.exec(key)?.[1]
    if (index !== undefined) assert.equal(raw.pcrs[index], value, key)
  }
  assert.equal(result.claims.measurement, claims.pcr0)
  assert.equal(raw.nonce, claims.nonce)
  assert.equal(raw.userData, claims.user_data)
  assert.equal(raw.publicKey, claims.public_key)
  assert.equal(evidence.document.cabundle.length, claims.cabundle_len)
}

describe('aws-nitro corpus', () => {
  for (const testCase of corpusCases('aws-nitro')) {
    const expectation = expectationOf(testCase)
    const summary = testCase.expect.expected.verdict.slice(0, 60)

    it(`${testCase.name}: ${summary}`, async () => {
      const bytes = readCaseFile(testCase, 'attestation_doc.cose')
      assert.equal(platform.sniff(bytes), true)
      let evidence: NitroEvidence
      try {
        evidence = platform.parse(bytes)
      } catch (error) {
        // A malformed document cannot be judged valid, and it has no claims to compare.
        assert.ok(error instanceof ParseError, String(error))
        assert.equal(expectation.valid, false, `${error.code}: ${error.message}`)
        return
      }
      const context = { at: expectation.at, crypto, cache }
      const strict = await platform.verify(evidence, context)
      const lenient = await platform.verify(evidence, { ...context, allowDebug: true })
      const details = JSON.stringify(strict.checks, null, 1)
      assert.equal(
        strict.verdict,
        expectation.valid && !expectation.debug ? 'valid' : 'invalid',
        details,
      )
      assert.equal(lenient.verdict, expectation.valid ? 'valid' : 'invalid', details)
      assert.equal(statusOf(strict, 'cose-signature'), expectation.signatureValid ? 'pass' : 'fail')
      assert.equal(statusOf(strict, 'certificate-chain'), expectation.chainValid ? 'pass' : 'fail')
      assert.equal(strict.claims.debug, expectation.debug)
      assertClaims(strict, evidence, expectation.claims)
    })
  }
})

describe('nitro-blocky-selfsigned', () => {
  it('rejects the synthetic document for its null unprotected header', () => {
    const testCase = corpusCases('aws-nitro').find((c) => c.name === 'nitro-blocky-selfsigned')
    assert.ok(testCase)
    assert.throws(() => platform.parse(readCaseFile(testCase, 'attestation_doc.cose')), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })
})
