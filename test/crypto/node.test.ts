import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { describe, it } from 'node:test'
import { createNodeCrypto } from '../../src/crypto/node.js'
import type { NamedCurve } from '../../src/crypto/port.js'

const crypto = createNodeCrypto()
const NODE_CURVE: Record<NamedCurve, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
}
const HASH = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' } as const

/** Returns a key pair's public point as raw x‖y. */
function rawPoint(curve: NamedCurve) {
  const pair = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] })
  const jwk = pair.publicKey.export({ format: 'jwk' })
  const x = Buffer.from(jwk.x ?? '', 'base64url')
  const y = Buffer.from(jwk.y ?? '', 'base64url')
  return { pair, point: new Uint8Array(Buffer.concat([x, y])) }
}

describe('createNodeCrypto importRawEcPoint', () => {
  for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
    it(`verifies a ${curve} signature with a raw point`, async () => {
      const { pair, point } = rawPoint(curve)
      const data = new TextEncoder().encode('quote body')
      const hash = HASH[curve].replace('-', '').toLowerCase()
      const signature = new Uint8Array(
        sign(hash, data, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }),
      )
      const key = await crypto.importRawEcPoint(point, curve)
      assert.equal(key.curve, curve)
      assert.equal(
        await crypto.verify({ name: 'ECDSA', hash: HASH[curve] }, key, signature, data),
        true,
      )
      signature[5] = (signature[5] ?? 0) ^ 1
      assert.equal(
        await crypto.verify({ name: 'ECDSA', hash: HASH[curve] }, key, signature, data),
        false,
      )
    })
  }

  it('rejects a point that is not on the curve', async () => {
    const { point } = rawPoint('P-256')
    point[63] = (point[63] ?? 0) ^ 1
    await assert.rejects(crypto.importRawEcPoint(point, 'P-256'))
  })

  it('rejects a point of the wrong size', async () => {
    await assert.rejects(crypto.importRawEcPoint(new Uint8Array(63), 'P-256'))
  })
})

describe('importSpki', () => {
  const spkiOf = () =>
    new Uint8Array(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }))

  it('returns the kept key for the same bytes', async () => {
    const adapter = createNodeCrypto()
    const spki = spkiOf()
    const first = await adapter.importSpki(spki)
    assert.equal(await adapter.importSpki(spki.slice()), first)
  })

  it('drops the oldest key past 256', async () => {
    const adapter = createNodeCrypto()
    const oldest = spkiOf()
    const first = await adapter.importSpki(oldest)
    for (let i = 0; i < 256; i++) await adapter.importSpki(spkiOf())
    assert.notEqual(await adapter.importSpki(oldest), first)
  })

  it('keeps no key over 2 KiB of SPKI', async () => {
    const adapter = createNodeCrypto()
    // An RSA key with a 24,000-bit modulus: importing does not check that it has two factors.
    const modulus = randomBytes(3000)
    modulus[0] = 0xc0
    modulus[2999] = (modulus[2999] ?? 0) | 1
    const jwk = { kty: 'RSA', n: modulus.toString('base64url'), e: 'AQAB' }
    const large = new Uint8Array(
      createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }),
    )
    assert.ok(large.length > 2048)
    assert.notEqual(await adapter.importSpki(large), await adapter.importSpki(large))
  })

  it('keeps no key that failed to import', async () => {
    const adapter = createNodeCrypto()
    const bad = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])
    await assert.rejects(adapter.importSpki(bad))
    await assert.rejects(adapter.importSpki(bad))
  })
})
