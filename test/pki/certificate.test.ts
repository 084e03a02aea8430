/**
 * parseCertificate against @peculiar/asn1-schema as the reference decoder, on every certificate
 * of the corpus (Intel, AMD, AWS) and on generated ones.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  Certificate as AsnCertificate,
  BasicConstraints,
  id_ce_basicConstraints,
} from '@peculiar/asn1-x509'
import { decodePem, toHex } from '../../src/core/bytes.js'
import { formatName, parseCertificate, serialToHex, timeToDate } from '../../src/pki/certificate.js'
import { parseQuote } from '../../src/platforms/dcap/quote.js'
import { corpusRoot } from '../helpers/corpus.js'
import { issue } from '../helpers/fake-pki.js'

/** Collects every certificate of the corpus: PEM files, DER files and the chains inside quotes. */
function corpusCertificates(): { source: string; der: Uint8Array }[] {
  const found: { source: string; der: Uint8Array }[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) {
        walk(path)
      } else if (/\.pem$/.test(name)) {
        for (const block of decodePem(readFileSync(path, 'utf8'))) {
          if (block.label === 'CERTIFICATE') found.push({ source: path, der: block.der })
        }
      } else if (/^(vcek|vlek)\.der$/.test(name)) {
        found.push({ source: path, der: new Uint8Array(readFileSync(path)) })
      } else if (name === 'quote.bin' && !/tampered/.test(path)) {
        const quote = parseQuote(new Uint8Array(readFileSync(path)))
        for (const block of decodePem(new TextDecoder().decode(quote.pckChainPem))) {
          found.push({ source: path, der: block.der })
        }
      }
    }
  }
  walk(corpusRoot)
  return found
}

/** Decodes the fields of `Certificate` with asn1-schema, the reference decoder. */
function reference(der: Uint8Array) {
  const decoded = AsnConvert.parse(der, AsnCertificate)
  const tbs = decoded.tbsCertificate
  const basic = tbs.extensions?.find((e) => e.extnID === id_ce_basicConstraints)
  return {
    serialNumber: serialToHex(new Uint8Array(tbs.serialNumber)),
    issuer: formatName(tbs.issuer),
    subject: formatName(tbs.subject),
    notBefore: timeToDate(tbs.validity.notBefore),
    notAfter: timeToDate(tbs.validity.notAfter),
    isCa: basic !== undefined && AsnConvert.parse(basic.extnValue, BasicConstraints).cA === true,
    signatureAlgorithmOid: decoded.signatureAlgorithm.algorithm,
    spki: toHex(new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo))),
    extensions: Array.from(tbs.extensions ?? [], (e) => e.extnID),
  }
}

function decoded(der: Uint8Array) {
  const certificate = parseCertificate(der)
  return {
    serialNumber: certificate.serialNumber,
    issuer: certificate.issuer,
    subject: certificate.subject,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    isCa: certificate.isCa,
    signatureAlgorithmOid: certificate.signatureAlgorithmOid,
    spki: toHex(certificate.spki),
    extensions: certificate.extensions.map((e) => e.extnID),
  }
}

describe('parseCertificate', () => {
  it('agrees with asn1-schema on every corpus certificate', () => {
    const certificates = corpusCertificates()
    assert.ok(certificates.length > 40, `found ${certificates.length} certificates`)
    for (const { source, der } of certificates) {
      assert.deepEqual(decoded(der), reference(der), source)
    }
  })

  it('agrees with asn1-schema on generated certificates', () => {
    const root = issue({ commonName: 'Root', isCa: true, kind: 'RSA-PSS' })
    const leaf = issue({ commonName: 'Leaf', serial: 7, kind: 'P-384' }, root)
    for (const { der } of [root, leaf]) assert.deepEqual(decoded(der), reference(der))
  })

  it('keeps the exact signed bytes', () => {
    const { der } = issue({ commonName: 'Leaf' })
    const certificate = parseCertificate(der)
    assert.equal(toHex(der).includes(toHex(certificate.tbs)), true)
    assert.equal(certificate.commonName, 'Leaf')
  })

  it('rejects bytes that are not a certificate', () => {
    const { der } = issue({ commonName: 'Leaf' })
    const damaged = [new Uint8Array(0), der.subarray(0, der.length - 1), Uint8Array.of(...der, 0)]
    for (const bytes of damaged) {
      assert.throws(() => parseCertificate(bytes), { code: 'ERR_PARSE_CERTIFICATE' })
    }
  })

  it('keeps copies of its input', () => {
    const { der } = issue({ commonName: 'Leaf' })
    const input = der.slice()
    const certificate = parseCertificate(input)
    input.fill(0)
    assert.equal(toHex(certificate.der), toHex(der))
  })
})
