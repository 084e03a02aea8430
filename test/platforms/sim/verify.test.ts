import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { appraise } from '../../../src/appraisal/appraise.js'
import { DEFAULT_POLICY } from '../../../src/appraisal/policy.js'
import { ConfigError } from '../../../src/core/errors.js'
import type { VerifyOptions } from '../../../src/core/platform.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { simEvidence } from '../../../src/platforms/sim/attester.js'
import type { SimKey } from '../../../src/platforms/sim/dev-key.js'
import {
  encodeSimBody,
  encodeSimEvidence,
  parseSimEvidence,
  type SimBody,
} from '../../../src/platforms/sim/format.js'
import { simPlatform } from '../../../src/platforms/sim/index.js'
import { SIMULATED_DETAIL } from '../../../src/platforms/sim/verify.js'
import { verifyEvidence } from '../../../src/verify.js'
import { at, contextWith, newSimKey } from './helpers.js'

const platform = simPlatform()
const reportData = new Uint8Array(32).fill(0xab)

function verify(bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerificationResult> {
  return platform.verify(platform.parse(bytes), contextWith(options))
}

function check(result: VerificationResult, name: string) {
  return result.checks.find((c) => c.name === name)
}

/** Re-signs an edited body with `key`, so only the edit can make verification fail. */
function resign(key: SimKey, bytes: Uint8Array, edit: (body: SimBody) => SimBody): Uint8Array {
  const body = encodeSimBody(edit(parseSimEvidence(bytes).body))
  return encodeSimEvidence(body, new Uint8Array(sign(null, body, key.privateKey)))
}

describe('verifySimEvidence', () => {
  let key: SimKey
  let other: SimKey
  let evidence: Uint8Array

  before(async () => {
    key = await newSimKey()
    other = await newSimKey()
    evidence = simEvidence(key, { reportData, at })
  })

  it('is valid with the signing key trusted', async () => {
    const result = await verify(evidence, { trustedKeys: [key.publicKeySpki] })
    assert.equal(result.verdict, 'valid')
    assert.equal(result.platform, 'sim')
    assert.equal(check(result, 'signing-key')?.status, 'pass')
    assert.equal(check(result, 'signature')?.status, 'pass')
  })

  it('says it is simulated in checks and claims', async () => {
    const result = await verify(evidence, { trustedKeys: [key.publicKeySpki] })
    assert.deepEqual(result.checks[0], {
      name: 'simulated',
      status: 'pass',
      detail: SIMULATED_DETAIL,
    })
    assert.equal(result.claims.raw.simulated, true)
  })

  it('reports the claims of the body', async () => {
    const result = await verify(evidence, { trustedKeys: [key.publicKeySpki] })
    const mrTd = createHash('sha384').update('confide-sim').digest('hex')
    assert.equal(result.claims.platform, 'sim')
    assert.equal(result.claims.measurement, mrTd)
    assert.equal(result.claims.reportData, `${'ab'.repeat(32)}${'00'.repeat(32)}`)
    assert.equal(result.claims.debug, false)
    assert.equal(result.claims.raw.mrTd, mrTd)
    assert.equal(result.claims.raw.keyId, key.keyId)
    assert.equal(result.claims.raw.issuedAt, at.toISOString())
    assert.equal((result.claims.raw.rtmr as string[]).length, 4)
    assert.equal(result.verifiedAt, at.toISOString())
  })

  it('finds the signing key among other trusted keys', async () => {
    const trustedKeys = [other.publicKeySpki, new Uint8Array([1, 2, 3]), key.publicKeySpki]
    assert.equal((await verify(evidence, { trustedKeys })).verdict, 'valid')
  })

  it('is indeterminate with no trusted key', async () => {
    for (const options of [{}, { trustedKeys: [] }]) {
      const result = await verify(evidence, options)
      assert.equal(result.verdict, 'indeterminate')
      assert.equal(check(result, 'signing-key')?.status, 'skipped')
      assert.equal(check(result, 'signature')?.status, 'skipped')
    }
  })

  it('is invalid with another key trusted', async () => {
    const result = await verify(evidence, { trustedKeys: [other.publicKeySpki] })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'signing-key')?.code, 'ERR_VERIFY_UNTRUSTED_KEY')
  })

  it('is invalid when signed by another key', async () => {
    const forged = resign(other, evidence, (body) => body)
    const result = await verify(forged, { trustedKeys: [key.publicKeySpki] })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'signature')?.code, 'ERR_VERIFY_SIGNATURE')
  })

  it('is invalid with a flipped body byte', async () => {
    const { bodyBytes, signature } = parseSimEvidence(evidence)
    // Flips a hex digit of mrTd (the text after `"mrTd":"`), so the body still parses.
    const offset = new TextDecoder().decode(bodyBytes).indexOf('"mrTd":"') + 8
    const edited = bodyBytes.slice()
    edited[offset] = edited[offset] === 0x30 ? 0x31 : 0x30
    const result = await verify(encodeSimEvidence(edited, signature), {
      trustedKeys: [key.publicKeySpki],
    })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'signature')?.code, 'ERR_VERIFY_SIGNATURE')
  })

  it('is invalid with a flipped signature byte', async () => {
    const { bodyBytes, signature } = parseSimEvidence(evidence)
    const edited = signature.slice()
    edited[10] = (edited[10] ?? 0) ^ 0x01
    const result = await verify(encodeSimEvidence(bodyBytes, edited), {
      trustedKeys: [key.publicKeySpki],
    })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'signature')?.code, 'ERR_VERIFY_SIGNATURE')
  })

  it('is invalid with a wrong keyId', async () => {
    const wrong = resign(key, evidence, (body) => ({ ...body, keyId: other.keyId }))
    const result = await verify(wrong, { trustedKeys: [key.publicKeySpki] })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'signing-key')?.code, 'ERR_VERIFY_UNTRUSTED_KEY')
  })

  it('is invalid when the keyId names a non-Ed25519 key', async () => {
    const p256 = new Uint8Array(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
        type: 'spki',
        format: 'der',
      }),
    )
    const keyId = createHash('sha256').update(p256).digest('hex')
    const wrong = resign(key, evidence, (body) => ({ ...body, keyId }))
    const result = await verify(wrong, { trustedKeys: [p256] })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'signing-key')?.code, 'ERR_VERIFY_UNTRUSTED_KEY')
  })

  it('rejects debug unless debug is allowed', async () => {
    const debug = simEvidence(key, { reportData, at, debug: true })
    const trustedKeys = [key.publicKeySpki]
    const rejected = await verify(debug, { trustedKeys })
    assert.equal(rejected.verdict, 'invalid')
    assert.equal(check(rejected, 'debug')?.code, 'ERR_VERIFY_DEBUG')
    assert.equal(rejected.claims.debug, true)
    const allowed = await verify(debug, { trustedKeys, allowDebug: true })
    assert.equal(allowed.verdict, 'valid')
  })

  it('compares the expected report data, zero-padded', async () => {
    const trustedKeys = [key.publicKeySpki]
    const matching = await verify(evidence, { trustedKeys, expectedReportData: reportData })
    assert.equal(matching.verdict, 'valid')
    assert.equal(check(matching, 'report-data')?.status, 'pass')
    const mismatch = await verify(evidence, {
      trustedKeys,
      expectedReportData: new Uint8Array(32).fill(0xcd),
    })
    assert.equal(mismatch.verdict, 'invalid')
    assert.equal(check(mismatch, 'report-data')?.code, 'ERR_VERIFY_REPORT_DATA')
  })

  it('rejects expected report data over 64 bytes', async () => {
    await assert.rejects(verify(evidence, { expectedReportData: new Uint8Array(65) }), {
      name: 'ConfigError',
      code: 'ERR_CONFIG_INVALID',
    })
  })

  it('is detected and verified through verifyEvidence', async () => {
    const result = await verifyEvidence(evidence, {
      at,
      trustedKeys: [key.publicKeySpki],
      expectedReportData: reportData,
    })
    assert.equal(result.platform, 'sim')
    assert.equal(result.verdict, 'valid')
  })

  it('is rejected by the default appraisal policy', async () => {
    const result = await verify(evidence, { trustedKeys: [key.publicKeySpki] })
    const appraisal = appraise(result, DEFAULT_POLICY)
    const simulated = appraisal.checks.find((c) => c.name === 'simulated')
    assert.equal(simulated?.status, 'fail')
    assert.equal(appraisal.status, 'contraindicated')
  })

  it('is accepted by a policy that allows simulated TEEs', async () => {
    const result = await verify(evidence, { trustedKeys: [key.publicKeySpki] })
    const appraisal = appraise(result, { id: 'test:allow-sim', allowSimulated: true })
    const simulated = appraisal.checks.find((c) => c.name === 'simulated')
    assert.equal(simulated?.status, 'pass')
    assert.deepEqual(
      appraisal.checks.filter((c) => c.status === 'fail').map((c) => c.name),
      [],
    )
    assert.notEqual(appraisal.status, 'contraindicated')
  })
})

describe('simEvidence', () => {
  let key: SimKey

  before(async () => {
    key = await newSimKey()
  })

  it('writes the given measurements and debug flag', () => {
    const mrTd = new Uint8Array(48).fill(7)
    const rtmr = [new Uint8Array(48).fill(1), new Uint8Array(48).fill(2)]
    const { body } = parseSimEvidence(simEvidence(key, { reportData, mrTd, rtmr, debug: true, at }))
    assert.deepEqual(body.mrTd, mrTd)
    assert.deepEqual(body.rtmr[1], rtmr[1])
    assert.deepEqual(body.rtmr[3], new Uint8Array(48))
    assert.equal(body.debug, true)
    assert.equal(body.tdAttributes[0], 0x01)
    assert.equal(body.issuedAt, at.toISOString())
  })

  it('rejects inputs of the wrong size', () => {
    const cases = [
      { reportData: new Uint8Array(65) },
      { reportData, mrTd: new Uint8Array(32) },
      { reportData, rtmr: [new Uint8Array(47)] },
      { reportData, rtmr: Array.from({ length: 5 }, () => new Uint8Array(48)) },
    ]
    for (const input of cases) {
      assert.throws(
        () => simEvidence(key, input),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError)
          assert.equal(error.code, 'ERR_CONFIG_INVALID')
          return true
        },
      )
    }
  })
})
