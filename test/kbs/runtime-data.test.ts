import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  canonicalJsonDigest,
  runtimeDataDigest,
  runtimeDataHash,
} from '../../src/kbs/runtime-data.js'
import { interopJson, interopText } from './interop.js'

const FOLDER = 'trustee-runtime-data-hash'
const expected = (
  interopJson(FOLDER, 'expect.json') as {
    expected: { vector1: { sha384: string }; vector2: { sha384: string } }
  }
).expected

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

describe('runtimeDataDigest', () => {
  it('matches vector1 of Trustee', () => {
    const input = interopJson(FOLDER, 'vector1-structured.json')
    assert.equal(hex(canonicalJsonDigest(input, 'sha384')), expected.vector1.sha384)
  })

  it('canonicalizes vector1 as Trustee does', () => {
    const canonical = interopText(FOLDER, 'vector1-canonical.json')
    const input = interopJson(FOLDER, 'vector1-structured.json')
    const digest = canonicalJsonDigest(JSON.parse(canonical), 'sha384')
    assert.equal(hex(digest), hex(canonicalJsonDigest(input, 'sha384')))
  })

  it('matches vector2 of Trustee', () => {
    const runtime = interopJson(FOLDER, 'vector2-runtime-data.json') as {
      nonce: string
      'tee-pubkey': unknown
      'additional-evidence': string
    }
    const digest = runtimeDataDigest(
      {
        nonce: runtime.nonce,
        teePubkey: runtime['tee-pubkey'] as never,
        additionalEvidence: runtime['additional-evidence'],
      },
      'cca',
    )
    assert.equal(hex(digest), expected.vector2.sha384)
  })

  it('leaves additional-evidence out when absent', () => {
    const teePubkey = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: 'x', y: 'y' } as const
    const withMember = runtimeDataDigest({ nonce: 'n', teePubkey, additionalEvidence: '' }, 'tdx')
    const without = runtimeDataDigest({ nonce: 'n', teePubkey }, 'tdx')
    const direct = canonicalJsonDigest({ nonce: 'n', 'tee-pubkey': teePubkey }, 'sha384')
    assert.notEqual(hex(withMember), hex(without))
    assert.equal(hex(without), hex(direct))
  })

  it('uses SHA-512 for IBM SE only', () => {
    assert.equal(runtimeDataHash('se'), 'sha512')
    assert.equal(runtimeDataHash('tdx'), 'sha384')
    const teePubkey = { kty: 'RSA', alg: 'RSA-OAEP-256', n: 'AQAB', e: 'AQAB' } as const
    assert.equal(runtimeDataDigest({ nonce: 'n', teePubkey }, 'se').length, 64)
    assert.equal(runtimeDataDigest({ nonce: 'n', teePubkey }, 'sample').length, 48)
  })
})
