import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import { ConfigError } from '../../../src/core/errors.js'
import type { VerifyOptions } from '../../../src/core/platform.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { ccaPlatform } from '../../../src/platforms/cca/index.js'
import {
  type CcaTokenSpec,
  createCcaToken,
  createEcKey,
  REALM_CHALLENGE,
} from '../../helpers/fake-cca.js'
import { issue } from '../../helpers/fake-pki.js'

const platform = ccaPlatform()
const crypto = createNodeCrypto()
const at = new Date('2030-01-01T00:00:00Z')

async function run(
  spec: CcaTokenSpec = {},
  options: (cpak: Uint8Array) => VerifyOptions = (cpak) => ({ trustedKeys: [cpak] }),
): Promise<VerificationResult> {
  const token = createCcaToken(spec)
  return platform.verify(platform.parse(token.bytes), {
    at,
    crypto,
    cache: new VerificationCache(),
    ...options(token.cpak.spki),
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

describe('verifyCcaToken', () => {
  for (const spec of [
    { name: 'a COSE_Key RAK', spec: {} },
    { name: 'a raw-point RAK without a profile', spec: { rakForm: 'raw-point' } },
    { name: 'the CMW collection form', spec: { form: 'cmw-collection' } },
    { name: 'a SHA-512 RAK hash', spec: { rakHashAlgorithm: 'sha-512' } },
    { name: 'an ES256 platform token', spec: { cpak: createEcKey('P-256') } },
  ] as const) {
    it(`accepts ${spec.name}`, async () => {
      const result = await run(spec.spec as CcaTokenSpec)
      assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
      assert.deepEqual(
        result.checks.map((check) => check.name),
        ['realm-signature', 'rak-binding', 'platform-signature', 'lifecycle'],
      )
    })
  }

  it('rejects a realm token whose RAK does not match the platform challenge', async () => {
    const result = await run({ platformChallenge: new Uint8Array(32).fill(1) })
    assert.deepEqual(failures(result), ['rak-binding:ERR_VERIFY_BINDING'])
  })

  it('rejects a realm token not signed by its RAK', async () => {
    const result = await run({ realmSigner: createEcKey('P-384') })
    assert.deepEqual(failures(result), ['realm-signature:ERR_VERIFY_SIGNATURE'])
  })

  it('rejects a RAK on another curve than the realm signature', async () => {
    const rak = createEcKey('P-256')
    const result = await run({ rak, realmSigner: createEcKey('P-384') })
    assert.deepEqual(failures(result), ['realm-signature:ERR_VERIFY_SIGNATURE'])
  })

  it('rejects a RAK hash algorithm it cannot compute', async () => {
    const result = await run({ rakHashAlgorithm: 'sha-224' })
    assert.deepEqual(failures(result), ['rak-binding:ERR_VERIFY_BINDING'])
  })

  it('rejects a platform token not signed by the trusted CPAK', async () => {
    const result = await run({}, () => ({ trustedKeys: [createEcKey('P-384').spki] }))
    assert.deepEqual(failures(result), ['platform-signature:ERR_VERIFY_SIGNATURE'])
  })

  it('rejects a platform token signed by another key than the CPAK', async () => {
    const result = await run({ platformSigner: createEcKey('P-384') })
    assert.deepEqual(failures(result), ['platform-signature:ERR_VERIFY_SIGNATURE'])
  })

  it('skips the platform signature without a CPAK', async () => {
    const result = await run({}, () => ({}))
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(statusOf(result, 'platform-signature'), 'skipped')
  })

  it('accepts the CPAK as the key of a trust anchor certificate', async () => {
    const cpak = createEcKey('P-384')
    const certificate = issue({ commonName: 'Test CPAK', keyPair: cpak, kind: 'P-384' })
    const result = await run({ cpak }, () => ({ trustAnchors: [certificate.der] }))
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
  })

  it('picks the CPAK among several trusted keys', async () => {
    const result = await run({}, (cpak) => ({ trustedKeys: [createEcKey('P-256').spki, cpak] }))
    assert.equal(result.verdict, 'valid')
    assert.match(result.checks[2]?.detail ?? '', /trusted key 2 of 2/)
  })

  it('throws ConfigError for a trusted key that is not a key', async () => {
    await assert.rejects(
      run({}, () => ({ trustedKeys: [Uint8Array.of(0x30, 0)] })),
      ConfigError,
    )
    await assert.rejects(
      run({}, () => ({ trustAnchors: [Uint8Array.of(0x30, 0)] })),
      ConfigError,
    )
  })

  it('rejects a debug lifecycle unless debug is allowed', async () => {
    const debug = await run({ lifecycle: 0x4000 })
    assert.deepEqual(failures(debug), ['lifecycle:ERR_VERIFY_DEBUG'])
    assert.equal(debug.claims.debug, true)
    const allowed = await run({ lifecycle: 0x5001 }, (cpak) => ({
      trustedKeys: [cpak],
      allowDebug: true,
    }))
    assert.equal(allowed.verdict, 'valid')
  })

  for (const lifecycle of [0x0000, 0x1000, 0x2000, 0x6000, 0x7000]) {
    it(`rejects lifecycle 0x${lifecycle.toString(16)}`, async () => {
      const result = await run({ lifecycle }, (cpak) => ({ trustedKeys: [cpak], allowDebug: true }))
      assert.deepEqual(failures(result), ['lifecycle:ERR_VERIFY_LIFECYCLE'])
    })
  }

  it('compares the realm challenge with the expected nonce and report data', async () => {
    const reportData = new Uint8Array(32).fill(0xcd)
    const challenge = new Uint8Array(64)
    challenge.set(reportData)
    const good = await run({ challenge }, (cpak) => ({
      trustedKeys: [cpak],
      expectedNonce: challenge,
      expectedReportData: reportData,
    }))
    assert.deepEqual(
      good.checks.slice(4).map((check) => `${check.name}:${check.status}`),
      ['nonce:pass', 'report-data:pass'],
    )
    const bad = await run({}, (cpak) => ({
      trustedKeys: [cpak],
      expectedNonce: new Uint8Array(64),
      expectedReportData: REALM_CHALLENGE.subarray(0, 32),
    }))
    assert.deepEqual(failures(bad), [
      'nonce:ERR_VERIFY_BINDING',
      'report-data:ERR_VERIFY_REPORT_DATA',
    ])
    await assert.rejects(
      run({}, (cpak) => ({ trustedKeys: [cpak], expectedReportData: new Uint8Array(65) })),
      ConfigError,
    )
  })

  it('names the claims of both tokens', async () => {
    const result = await run()
    const raw = result.claims.raw as {
      platform: Record<string, unknown>
      realm: Record<string, unknown>
    }
    assert.equal(raw.platform.lifecycleState, 'secured')
    assert.equal((raw.platform.softwareComponents as unknown[]).length, 2)
    assert.equal(raw.realm.publicKeyFormat, 'cose-key')
    assert.equal((raw.realm.extensibleMeasurements as string[]).length, 4)
    assert.equal(result.claims.debug, false)
  })
})
