import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { decodePem, fromHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { ccaPlatform } from '../../../src/platforms/cca/index.js'
import { verifyEvidence } from '../../../src/verify.js'
import { type CorpusCase, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const platform = ccaPlatform()
const crypto = createNodeCrypto()
const cache = new VerificationCache()

/** The claims an arm-cca expect.json lists, by the corpus builder's names. */
interface ExpectedClaims {
  readonly platform_profile: string
  readonly platform_challenge: string
  readonly platform_implementation_id: string
  readonly platform_instance_id: string
  readonly platform_lifecycle: number
  readonly realm_challenge: string
  readonly realm_personalization_value: string
  readonly realm_initial_measurement: string
  readonly realm_extensible_measurements: readonly string[]
  readonly realm_public_key: string
  readonly realm_hash_algo: string
}

interface RawClaims {
  readonly platform: Record<string, unknown>
  readonly realm: Record<string, unknown>
}

/** Reads the keys in a case's trust/ folder: DER, from PEM PUBLIC KEY blocks. */
function trustedKeysOf(testCase: CorpusCase): Uint8Array[] {
  return readdirSync(join(testCase.dir, 'trust')).flatMap((name) =>
    decodePem(new TextDecoder().decode(readCaseFile(testCase, join('trust', name))))
      .filter((block) => block.label === 'PUBLIC KEY')
      .map((block) => block.der),
  )
}

function assertClaims(result: VerificationResult, claims: ExpectedClaims): void {
  const raw = result.claims.raw as unknown as RawClaims
  assert.equal(raw.platform.profile, claims.platform_profile)
  assert.equal(raw.platform.challenge, claims.platform_challenge)
  assert.equal(raw.platform.implementationId, claims.platform_implementation_id)
  assert.equal(raw.platform.instanceId, claims.platform_instance_id)
  assert.equal(raw.platform.lifecycle, claims.platform_lifecycle)
  assert.equal(raw.realm.challenge, claims.realm_challenge)
  assert.equal(raw.realm.personalizationValue, claims.realm_personalization_value)
  assert.equal(raw.realm.initialMeasurement, claims.realm_initial_measurement)
  assert.deepEqual(raw.realm.extensibleMeasurements, claims.realm_extensible_measurements)
  assert.equal(raw.realm.publicKey, claims.realm_public_key)
  assert.equal(raw.realm.hashAlgorithm, claims.realm_hash_algo)
  assert.equal(result.claims.measurement, claims.realm_initial_measurement)
  assert.equal(result.claims.reportData, claims.realm_challenge)
  assert.equal(result.claims.platformId, claims.platform_instance_id)
}

function statusOf(result: VerificationResult, name: string): string | undefined {
  return result.checks.find((check) => check.name === name)?.status
}

describe('arm-cca corpus', () => {
  for (const testCase of corpusCases('arm-cca')) {
    const verdict = testCase.expect.expected.verdict
    const expected = verdict.startsWith('invalid') ? 'invalid' : 'valid'
    const claims = testCase.expect.claims as unknown as ExpectedClaims
    const builder = testCase.expect.builder_checks as {
      platform_sig: boolean
      realm_sig: boolean
      rak_binding: boolean
    }
    const pass = (ok: boolean) => (ok ? 'pass' : 'fail')

    it(`${testCase.name}: ${verdict.slice(0, 60)}`, async () => {
      const bytes = readCaseFile(testCase, 'cca_token.cbor')
      assert.equal(platform.sniff(bytes), true)
      const result = await platform.verify(platform.parse(bytes), {
        at: new Date(),
        crypto,
        cache,
        trustedKeys: trustedKeysOf(testCase),
        expectedNonce: fromHex(claims.realm_challenge),
      })
      assert.equal(result.verdict, expected, JSON.stringify(result.checks, null, 1))
      assert.equal(statusOf(result, 'platform-signature'), pass(builder.platform_sig))
      assert.equal(statusOf(result, 'realm-signature'), pass(builder.realm_sig))
      assert.equal(statusOf(result, 'rak-binding'), pass(builder.rak_binding))
      assert.equal(statusOf(result, 'nonce'), 'pass')
      assertClaims(result, claims)
    })

    it(`${testCase.name}: detected as cca and indeterminate without the CPAK`, async () => {
      const result = await verifyEvidence(readCaseFile(testCase, 'cca_token.cbor'), { cache })
      assert.equal(result.platform, 'cca')
      assert.equal(result.verdict, expected === 'valid' ? 'indeterminate' : 'invalid')
      assert.equal(statusOf(result, 'platform-signature'), 'skipped')
    })
  }
})
