import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodePem, toHex } from '../../src/core/bytes.js'
import { VerificationCache } from '../../src/core/cache.js'
import { createNodeCrypto } from '../../src/crypto/node.js'
import { parseCertificate } from '../../src/pki/certificate.js'
import { verifyChain } from '../../src/pki/chain.js'
import { parseCrl } from '../../src/pki/crl.js'
import { issue, issueCrl } from '../helpers/fake-pki.js'

const crypto = createNodeCrypto()
const at = new Date('2030-01-01T00:00:00Z')

function pki(kind: 'P-256' | 'P-384' | 'RSA-PSS' = 'P-256') {
  const root = issue({ commonName: 'Test Root', isCa: true, kind })
  const intermediate = issue({ commonName: 'Test Intermediate', isCa: true, serial: 2 }, root)
  const leaf = issue({ commonName: 'Test Leaf', serial: 3 }, intermediate)
  return { root, intermediate, leaf }
}

async function check(
  leafDer: Uint8Array,
  intermediates: Uint8Array[],
  anchors: Uint8Array[],
  crls: Uint8Array[] = [],
  when = at,
) {
  return verifyChain(parseCertificate(leafDer), intermediates.map(parseCertificate), {
    at: when,
    anchors: anchors.map(parseCertificate),
    crls: crls.map((crl) => parseCrl(crl)),
    crypto,
    cache: new VerificationCache(),
  })
}

describe('verifyChain', () => {
  for (const kind of ['P-256', 'P-384', 'RSA-PSS'] as const) {
    it(`accepts a valid ${kind} chain`, async () => {
      const { root, intermediate, leaf } = pki(kind)
      const result = await check(leaf.der, [intermediate.der], [root.der])
      assert.equal(result.ok, true, result.detail)
      assert.equal(result.path.length, 3)
    })
  }

  it('rejects a chain to an unpinned root', async () => {
    const { intermediate, leaf } = pki()
    const other = issue({ commonName: 'Other Root', isCa: true })
    const result = await check(leaf.der, [intermediate.der], [other.der])
    assert.equal(result.ok, false)
    assert.equal(result.code, 'ERR_VERIFY_CHAIN')
  })

  it('rejects a root impostor with the same name', async () => {
    const { root, intermediate, leaf } = pki()
    const impostor = issue({ commonName: 'Test Root', isCa: true })
    const result = await check(leaf.der, [intermediate.der, root.der], [impostor.der])
    assert.equal(result.ok, false)
    assert.equal(result.code, 'ERR_VERIFY_SIGNATURE')
  })

  it('rejects an issuer that is not a CA', async () => {
    const root = issue({ commonName: 'Test Root', isCa: true })
    const notCa = issue({ commonName: 'Not A CA', serial: 2 }, root)
    const leaf = issue({ commonName: 'Leaf', serial: 3 }, notCa)
    const result = await check(leaf.der, [notCa.der], [root.der])
    assert.equal(result.code, 'ERR_VERIFY_CHAIN')
  })

  it('rejects a certificate outside its validity at the given time', async () => {
    const { root, intermediate, leaf } = pki()
    const result = await check(
      leaf.der,
      [intermediate.der],
      [root.der],
      [],
      new Date('2041-01-01Z'),
    )
    assert.equal(result.code, 'ERR_VERIFY_EXPIRED')
  })

  it('rejects a revoked leaf and records the CRL check', async () => {
    const { root, intermediate, leaf } = pki()
    const revoked = await check(
      leaf.der,
      [intermediate.der],
      [root.der],
      [issueCrl(intermediate, { revoked: [3] })],
    )
    assert.equal(revoked.code, 'ERR_VERIFY_REVOKED')

    const clean = await check(
      leaf.der,
      [intermediate.der],
      [root.der],
      [issueCrl(intermediate, { revoked: [9] })],
    )
    assert.equal(clean.ok, true)
    assert.deepEqual(
      clean.revocation.map((r) => r.checked),
      [true, false],
    )
  })

  it('rejects a CRL signed by another key', async () => {
    const { root, intermediate, leaf } = pki()
    const forger = issue({ commonName: 'Test Intermediate', isCa: true })
    const result = await check(leaf.der, [intermediate.der], [root.der], [issueCrl(forger)])
    assert.equal(result.code, 'ERR_VERIFY_CRL')
  })

  it('rejects a CRL past its next update', async () => {
    const { root, intermediate, leaf } = pki()
    const stale = issueCrl(intermediate, { nextUpdate: new Date('2025-01-01Z') })
    const result = await check(leaf.der, [intermediate.der], [root.der], [stale])
    assert.equal(result.code, 'ERR_COLLATERAL_EXPIRED')
  })
})

describe('parseCrl', () => {
  const { intermediate } = pki()
  const der = issueCrl(intermediate, { revoked: [3, 4] })

  it('reads DER, PEM and hex text alike', () => {
    const forms = [
      der,
      encodePem('X509 CRL', der),
      toHex(der),
      new TextEncoder().encode(toHex(der).toUpperCase()),
    ]
    for (const form of forms) {
      const crl = parseCrl(form)
      assert.deepEqual([...crl.revokedSerials].sort(), ['0103', '0104'])
    }
  })

  it('rejects bytes that are not a CRL', () => {
    assert.throws(() => parseCrl(Uint8Array.of(0x30, 0x03, 1, 2, 3)), { code: 'ERR_PARSE_CRL' })
    assert.throws(() => parseCrl('not a crl'), { code: 'ERR_PARSE_CRL' })
    assert.throws(() => parseCrl(der.subarray(0, der.length - 1)), { code: 'ERR_PARSE_CRL' })
  })
})
