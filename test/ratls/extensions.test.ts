import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Encoder, Tag } from 'cbor-x'
import { decodePem, toHex } from '../../src/core/bytes.js'
import { isConfideError } from '../../src/core/errors.js'
import { parseCertificate } from '../../src/pki/certificate.js'
import {
  decodeTcgClaims,
  decodeTcgEvidence,
  encodeTcgClaims,
  encodeTcgEvidence,
  findRatlsEvidence,
  GRAMINE_QUOTE_OID,
  INTEL_SGX_SDK_QUOTE_OID,
  readRatlsCertificate,
  TCG_DICE_TAGGED_EVIDENCE_OID,
} from '../../src/ratls/extensions.js'
import { buildCertificate } from '../../src/ratls/x509-builder.js'
import { interopRoot } from '../helpers/corpus.js'

interface InteropExtension {
  readonly oid: string
  readonly critical: boolean
  readonly len: number
}

function interopCase(name: string) {
  const dir = join(interopRoot, 'ratls', name)
  const read = (file: string) => new Uint8Array(readFileSync(join(dir, file)))
  const [leaf] = decodePem(readFileSync(join(dir, 'cert.pem'), 'utf8'))
  assert.ok(leaf)
  const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as {
    readonly spki_sha256: string
    readonly extensions: readonly InteropExtension[]
  }
  return { dir, read, der: leaf.der, expect }
}

const TCG_CASES = ['ccc-gramine', 'ccc-intel-sgxsdk', 'ccc-rats-tls']
const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false })

describe('findRatlsEvidence on interop certificates', () => {
  for (const name of TCG_CASES) {
    it(`reads every extension of ${name}`, () => {
      const { der, expect } = interopCase(name)
      const certificate = parseCertificate(der)
      const found = findRatlsEvidence(certificate)
      assert.deepEqual(found.map((e) => e.oid).sort(), expect.extensions.map((e) => e.oid).sort())
      for (const listed of expect.extensions) {
        const extension = certificate.extensions.find((e) => e.extnID === listed.oid)
        assert.ok(extension, listed.oid)
        assert.equal(extension.extnValue.byteLength, listed.len, `${listed.oid} length`)
        assert.equal(found.find((e) => e.oid === listed.oid)?.critical, listed.critical)
      }
    })

    it(`decodes the TCG claims of ${name} byte for byte`, () => {
      const { der, read, expect } = interopCase(name)
      const tcg = findRatlsEvidence(parseCertificate(der)).find(
        (e) => e.oid === TCG_DICE_TAGGED_EVIDENCE_OID,
      )
      assert.ok(tcg?.claims)
      assert.equal(tcg.encoding, 'tcg-dice')
      assert.equal(tcg.cborTag, 60000)
      assert.deepEqual(tcg.evidence, read('tcg-evidence-quote.bin'))
      assert.deepEqual(tcg.claims.bytes, read('tcg-evidence-claims.cbor'))
      assert.equal(tcg.claims.pubkeyHash.algorithmId, 1)
      assert.equal(tcg.claims.pubkeyHash.algorithm, 'SHA-256')
      assert.equal(toHex(tcg.claims.pubkeyHash.digest), expect.spki_sha256)
    })

    it(`re-encodes the TCG extension of ${name} byte for byte`, () => {
      const { der, read } = interopCase(name)
      const certificate = parseCertificate(der)
      const tcg = findRatlsEvidence(certificate).find((e) => e.encoding === 'tcg-dice')
      assert.ok(tcg?.claims)
      const other = new Map([...tcg.claims.all].filter(([key]) => key !== 'pubkey-hash'))
      const claims = encodeTcgClaims({ pubkeyHash: tcg.claims.pubkeyHash, other })
      assert.deepEqual(claims, read('tcg-evidence-claims.cbor'))
      const extension = certificate.extensions.find(
        (e) => e.extnID === TCG_DICE_TAGGED_EVIDENCE_OID,
      )
      assert.ok(extension)
      assert.deepEqual(
        encodeTcgEvidence(tcg.evidence, claims),
        new Uint8Array(extension.extnValue.buffer),
      )
    })
  }

  it('reads the raw quote under the OID Gramine writes', () => {
    const { der, read } = interopCase('ccc-gramine')
    const gramine = findRatlsEvidence(parseCertificate(der)).find((e) => e.encoding === 'gramine')
    assert.ok(gramine)
    assert.equal(gramine.oid, GRAMINE_QUOTE_OID)
    assert.deepEqual(gramine.evidence, read('legacy-ext-quote.bin'))
    assert.equal(gramine.claims, undefined)
  })

  it("reads the Intel SGX SDK's raw quote", () => {
    const { der, read } = interopCase('ccc-intel-sgxsdk')
    const sdk = findRatlsEvidence(parseCertificate(der)).find((e) => e.encoding === 'intel-sgx-sdk')
    assert.ok(sdk)
    assert.equal(sdk.oid, INTEL_SGX_SDK_QUOTE_OID)
    assert.deepEqual(sdk.evidence, read('legacy-ext-quote.bin'))
    assert.deepEqual(sdk.evidence, read('tcg-evidence-quote.bin'))
  })

  it('prefers the TCG extension', () => {
    const { der } = interopCase('ccc-gramine')
    assert.equal(readRatlsCertificate(der).encoding, 'tcg-dice')
  })
})

describe('decodeTcgEvidence', () => {
  const claims = encodeTcgClaims({ pubkeyHash: { algorithmId: 1, digest: new Uint8Array(32) } })

  it('rejects a tag other than 60000', () => {
    const value = new Uint8Array(encoder.encode(new Tag([new Uint8Array(4), claims], 60001)))
    assert.throws(
      () => decodeTcgEvidence(value),
      (e) => isConfideError(e, 'ERR_PARSE_MALFORMED'),
    )
  })

  it('rejects an array of three items', () => {
    const body = [new Uint8Array(4), claims, new Uint8Array(1)]
    const value = new Uint8Array(encoder.encode(new Tag(body, 60000)))
    assert.throws(
      () => decodeTcgEvidence(value),
      (e) => isConfideError(e, 'ERR_PARSE_MALFORMED'),
    )
  })

  it('rejects trailing bytes', () => {
    const value = encodeTcgEvidence(new Uint8Array(4), claims)
    const longer = new Uint8Array(value.length + 1)
    longer.set(value)
    assert.throws(
      () => decodeTcgEvidence(longer),
      (e) => isConfideError(e),
    )
  })

  it('rejects claims without pubkey-hash', () => {
    const bytes = new Uint8Array(encoder.encode(new Map([['nonce', new Uint8Array(8)]])))
    assert.throws(
      () => decodeTcgClaims(bytes),
      (e) => isConfideError(e, 'ERR_PARSE_MALFORMED'),
    )
  })

  it('rejects an unknown hash algorithm', () => {
    const bytes = encodeTcgClaims({ pubkeyHash: { algorithmId: 2, digest: new Uint8Array(32) } })
    assert.throws(
      () => decodeTcgClaims(bytes),
      (e) => isConfideError(e, 'ERR_PARSE_MALFORMED'),
    )
  })

  it('rejects a claim value that is not a byte string', () => {
    const hash = new Uint8Array(encoder.encode([1, new Uint8Array(32)]))
    const bytes = new Uint8Array(
      encoder.encode(
        new Map<string, unknown>([
          ['pubkey-hash', hash],
          ['nonce', 7],
        ]),
      ),
    )
    assert.throws(
      () => decodeTcgClaims(bytes),
      (e) => isConfideError(e, 'ERR_PARSE_MALFORMED'),
    )
  })

  it('keeps the nonce claim', () => {
    const nonce = new Uint8Array([1, 2, 3])
    const bytes = encodeTcgClaims({
      pubkeyHash: { algorithmId: 7, digest: new Uint8Array(48) },
      nonce,
    })
    const decoded = decodeTcgClaims(bytes)
    assert.deepEqual(decoded.nonce, nonce)
    assert.equal(decoded.pubkeyHash.algorithm, 'SHA-384')
  })
})

describe('findRatlsEvidence', () => {
  it('rejects an evidence OID that appears twice', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const quote = { oid: GRAMINE_QUOTE_OID, value: new Uint8Array(16) }
    const der = buildCertificate({
      publicKey: key.publicKey,
      selfKey: key.privateKey,
      commonName: 'repeated',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-01-02T00:00:00Z'),
      extensions: [quote, quote],
    })
    assert.throws(
      () => findRatlsEvidence(parseCertificate(der)),
      (e) => isConfideError(e, 'ERR_PARSE_MALFORMED') && e.message.includes(GRAMINE_QUOTE_OID),
    )
  })
})

describe('readRatlsCertificate', () => {
  it('rejects a certificate without an evidence extension', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const der = buildCertificate({
      publicKey: key.publicKey,
      selfKey: key.privateKey,
      commonName: 'plain',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-01-02T00:00:00Z'),
    })
    assert.throws(
      () => readRatlsCertificate(der),
      (e) => isConfideError(e, 'ERR_PARSE_UNKNOWN_FORMAT'),
    )
  })
})
