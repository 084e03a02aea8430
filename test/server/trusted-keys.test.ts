/**
 * Keys the service trusts directly: TPM keys apply to TPM evidence only, CCA keys to CCA evidence
 * only, and the sim key to sim evidence only.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { type PlatformKeys, trustedKeysFor } from '../../src/server/trusted-keys.js'
import { corpusCases, readCaseFile } from '../helpers/corpus.js'
import { startTestService } from './helpers.js'

const tpmKey = new Uint8Array([1])
const ccaKey = new Uint8Array([3])
const simKey = new Uint8Array([2])
const sources = { sim: async () => [simKey], platform: { tpm: [tpmKey], cca: [ccaKey] } }

describe('trustedKeysFor', () => {
  it('gives the sim key to sim evidence only', async () => {
    assert.deepEqual(await trustedKeysFor('sim', sources), [simKey])
  })

  it('gives TPM keys to TPM evidence and CCA keys to CCA evidence', async () => {
    assert.deepEqual(await trustedKeysFor('tpm', sources), [tpmKey])
    assert.deepEqual(await trustedKeysFor('cca', sources), [ccaKey])
  })

  it('gives no key to other platforms', async () => {
    for (const platform of ['sgx', 'tdx', 'snp', 'nitro', 'nvidia', 'composite', undefined])
      assert.deepEqual(await trustedKeysFor(platform, sources), [], String(platform))
  })
})

describe('POST /v1/verify with trusted keys', () => {
  const tpm = corpusCases('tpm').find((c) => c.name === 'tpm2-quote-rsa-trustee')!
  const evidence = readCaseFile(tpm, 'original_tpm_evidence.json')
  const ak = readCaseFile(tpm, 'ak_public.der')

  async function verdictOf(trustedKeys: PlatformKeys, bytes: Uint8Array = evidence) {
    const service = await startTestService({ server: { trustedKeys, trustedSimKeys: [] } })
    try {
      const response = await service.app.inject({
        method: 'POST',
        url: '/v1/verify',
        payload: { evidence: Buffer.from(bytes).toString('base64') },
      })
      assert.equal(response.statusCode, 200, response.body)
      return {
        service,
        verdict: (response.json() as { result: { verdict: string } }).result.verdict,
      }
    } finally {
      await service.close()
    }
  }

  it('verifies a TPM quote with the AK the operator trusts', async () => {
    assert.equal((await verdictOf({ tpm: [ak] })).verdict, 'valid')
  })

  it('never takes a CCA key for a TPM quote', async () => {
    assert.equal((await verdictOf({ cca: [ak] })).verdict, 'indeterminate')
  })

  it('leaves a TPM quote indeterminate without it', async () => {
    assert.equal((await verdictOf({})).verdict, 'indeterminate')
  })

  it('never takes an operator key as the sim key', async () => {
    const service = await startTestService()
    const sim = simEvidence(service.simKey, { reportData: new Uint8Array([3]) })
    const spki = service.simKey.publicKeySpki
    await service.close()
    assert.equal((await verdictOf({ tpm: [spki], cca: [spki] }, sim)).verdict, 'indeterminate')
  })
})
