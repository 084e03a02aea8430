import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { exportJWK, flattenedDecrypt, generateKeyPair } from 'jose'
import { protectedHeaderAad, sealToTeeKey } from '../../src/kbs/jwe.js'

const MEMBERS = ['ciphertext', 'encrypted_key', 'iv', 'protected', 'tag']
const secret = new TextEncoder().encode('database password: correct horse')

async function teeKey(alg: 'RSA-OAEP-256' | 'ECDH-ES+A256KW', crv?: string) {
  const options = alg === 'RSA-OAEP-256' ? { modulusLength: 2048 } : { crv: crv ?? 'P-256' }
  const pair = await generateKeyPair(alg, { ...options, extractable: true })
  const jwk = { ...(await exportJWK(pair.publicKey)), alg }
  return { privateKey: pair.privateKey, jwk }
}

function header(protectedHeader: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(protectedHeader, 'base64url').toString('utf8'))
}

describe('sealToTeeKey', () => {
  for (const [alg, crv] of [
    ['RSA-OAEP-256', undefined],
    ['ECDH-ES+A256KW', 'P-256'],
    ['ECDH-ES+A256KW', 'P-384'],
    ['ECDH-ES+A256KW', 'P-521'],
  ] as const) {
    it(`encrypts to ${crv ?? 'RSA 2048'} keys`, async () => {
      const { privateKey, jwk } = await teeKey(alg, crv)
      const jwe = await sealToTeeKey(secret, jwk as never)
      assert.deepEqual(Object.keys(jwe).sort(), MEMBERS)
      const decoded = header(jwe.protected)
      assert.equal(decoded.alg, alg)
      assert.equal(decoded.enc, 'A256GCM')
      if (crv !== undefined) assert.equal((decoded.epk as { crv: string }).crv, crv)
      const opened = await flattenedDecrypt(jwe, privateKey)
      assert.deepEqual(new Uint8Array(opened.plaintext), secret)
      assert.equal(opened.additionalAuthenticatedData, undefined)
    })

    it(`writes a ${crv ?? 'RSA 2048'} header as serde writes it again`, async () => {
      const { jwk } = await teeKey(alg, crv)
      const jwe = await sealToTeeKey(secret, jwk as never)
      const aad = new TextDecoder().decode(protectedHeaderAad(header(jwe.protected) as never))
      assert.equal(aad, jwe.protected)
      if (crv !== undefined)
        assert.deepEqual(Object.keys(header(jwe.protected).epk as object), ['crv', 'kty', 'x', 'y'])
    })
  }

  it('sorts the other header members as serde_json does', () => {
    const aad = protectedHeaderAad({
      alg: 'a',
      enc: 'e',
      zeta: 1,
      epk: { y: 'y', x: 'x', kty: 'EC' },
    })
    const json = Buffer.from(new TextDecoder().decode(aad), 'base64url').toString('utf8')
    assert.equal(json, '{"alg":"a","enc":"e","epk":{"kty":"EC","x":"x","y":"y"},"zeta":1}')
  })

  it('authenticates the protected header as its aad', async () => {
    const { privateKey, jwk } = await teeKey('ECDH-ES+A256KW')
    const jwe = await sealToTeeKey(secret, jwk as never)
    const aad = new TextDecoder().decode(protectedHeaderAad(header(jwe.protected) as never))
    assert.equal(aad, jwe.protected)
    const changed = {
      ...jwe,
      protected: Buffer.from(JSON.stringify({ ...header(jwe.protected), kid: 'x' })).toString(
        'base64url',
      ),
    }
    await assert.rejects(flattenedDecrypt(changed, privateKey))
  })

  it('rejects RSA1_5 and short RSA keys', async () => {
    const { jwk } = await teeKey('RSA-OAEP-256')
    await assert.rejects(sealToTeeKey(secret, { ...jwk, alg: 'RSA1_5' } as never), {
      code: 'ERR_KBS_ATTESTATION',
      problemType: 'JweError',
    })
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'jwk',
    })
    await assert.rejects(sealToTeeKey(secret, { ...short, alg: 'RSA-OAEP-256' } as never), {
      code: 'ERR_KBS_ATTESTATION',
    })
  })

  it('rejects RSA keys with a small or even exponent', async () => {
    const { jwk } = await teeKey('RSA-OAEP-256')
    for (const e of ['AQ', 'Aw', 'AQAA', 'AQAC']) {
      await assert.rejects(sealToTeeKey(secret, { ...jwk, e } as never), {
        code: 'ERR_KBS_ATTESTATION',
        message: /public exponent/,
      })
    }
  })

  it('rejects keys of other types and curves', async () => {
    const fake = { kty: 'EC', crv: 'fakecrv', alg: 'ECDH-ES+A256KW', x: 'x', y: 'y' }
    await assert.rejects(sealToTeeKey(secret, fake as never), { code: 'ERR_KBS_ATTESTATION' })
    const okp = { kty: 'OKP', crv: 'X25519', x: 'x' }
    await assert.rejects(sealToTeeKey(secret, okp as never), { code: 'ERR_KBS_ATTESTATION' })
    const offCurve = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }
    await assert.rejects(sealToTeeKey(secret, offCurve as never), { code: 'ERR_KBS_ATTESTATION' })
  })
})
