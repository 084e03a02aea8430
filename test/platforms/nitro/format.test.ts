import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concatBytes, encodePem, toBase64 } from '../../../src/core/bytes.js'
import { parseCertificate } from '../../../src/pki/certificate.js'
import { parseNitroEvidence } from '../../../src/platforms/nitro/evidence.js'
import {
  MAX_USER_DATA_SIZE,
  parseAttestationDocument,
  parseCoseSign1,
} from '../../../src/platforms/nitro/format.js'
import { sniffNitro } from '../../../src/platforms/nitro/sniff.js'
import { issue } from '../../helpers/fake-pki.js'
import {
  buildDocument,
  encodeCbor,
  payloadMap,
  payloadOf,
  sigStructureOf,
  validDocument,
} from './fake-nitro.js'

const MODULE_ID = new TextEncoder().encode('module_id')

/** Parses a document signed over the given payload bytes. */
function parseWithPayload(payload: Uint8Array) {
  const { leaf } = validDocument()
  return parseNitroEvidence(buildDocument({ leaf, cabundle: [], payload }))
}

describe('parseCoseSign1', () => {
  it('reads untagged and tagged structures alike', () => {
    const { leaf, pki } = validDocument()
    const spec = { leaf, cabundle: [pki.root.der, pki.intermediate.der] }
    const untagged = parseCoseSign1(buildDocument(spec))
    const tagged = parseCoseSign1(buildDocument({ ...spec, tagged: true }))
    assert.equal(untagged.tagged, false)
    assert.equal(tagged.tagged, true)
    assert.deepEqual(tagged.payload, untagged.payload)
  })

  it('builds the Sig_structure of RFC 9052', () => {
    const { bytes } = validDocument()
    const cose = parseCoseSign1(bytes)
    assert.deepEqual(cose.toBeSigned, sigStructureOf(cose.protectedHeader, cose.payload))
  })

  it('rejects an algorithm other than ES384', () => {
    const { leaf } = validDocument()
    for (const alg of [-7, -36, -37]) {
      const bytes = buildDocument({
        leaf,
        cabundle: [],
        protectedHeader: encodeCbor(new Map([[1, alg]])),
      })
      assert.throws(() => parseCoseSign1(bytes), { code: 'ERR_PARSE_MALFORMED' })
    }
  })

  it('rejects a protected header with more than alg', () => {
    const { leaf } = validDocument()
    const protectedHeader = encodeCbor(
      new Map<number, unknown>([
        [1, -35],
        [4, new Uint8Array(2)],
      ]),
    )
    const bytes = buildDocument({ leaf, cabundle: [], protectedHeader })
    assert.throws(() => parseCoseSign1(bytes), { code: 'ERR_PARSE_MALFORMED' })
  })

  it('rejects an unprotected header that is not an empty map', () => {
    const { bytes } = validDocument()
    const cose = parseCoseSign1(bytes)
    for (const unprotected of [null, new Map([[4, new Uint8Array(1)]])]) {
      const changed = encodeCbor([cose.protectedHeader, unprotected, cose.payload, cose.signature])
      assert.throws(() => parseCoseSign1(changed), { code: 'ERR_PARSE_MALFORMED' })
    }
  })

  it('rejects a signature that is not 96 bytes', () => {
    const { bytes } = validDocument()
    const cose = parseCoseSign1(bytes)
    const short = encodeCbor([
      cose.protectedHeader,
      new Map(),
      cose.payload,
      cose.signature.slice(1),
    ])
    assert.throws(() => parseCoseSign1(short), { code: 'ERR_PARSE_MALFORMED' })
  })

  it('rejects a tag other than 18', () => {
    const { bytes } = validDocument()
    assert.throws(() => parseCoseSign1(concatBytes(Uint8Array.of(0xd1), bytes)), {
      code: 'ERR_PARSE_MALFORMED',
    })
    assert.throws(() => parseCoseSign1(concatBytes(Uint8Array.of(0xd2, 0xd2), bytes)), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })
})

describe('strict CBOR', () => {
  const cases: { name: string; bytes: number[] }[] = [
    { name: 'indefinite-length map', bytes: [0xbf, 0x61, 0x61, 0x01, 0xff] },
    { name: 'non-minimal length', bytes: [0xb8, 0x01, 0x61, 0x61, 0x01] },
    { name: 'non-minimal integer', bytes: [0xa1, 0x61, 0x61, 0x18, 0x01] },
    { name: 'duplicate key', bytes: [0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02] },
    { name: 'float value', bytes: [0xa1, 0x61, 0x61, 0xf9, 0x3c, 0x00] },
    { name: 'undefined value', bytes: [0xa1, 0x61, 0x61, 0xf7] },
    { name: 'tagged byte string', bytes: [0xa1, 0x61, 0x61, 0xd8, 0x40, 0x41, 0x00] },
    { name: 'byte-string key', bytes: [0xa1, 0x41, 0x61, 0x01] },
    { name: 'invalid UTF-8', bytes: [0xa1, 0x61, 0xff, 0x01] },
    { name: 'trailing byte', bytes: [0xa1, 0x61, 0x61, 0x01, 0x00] },
    { name: 'reserved argument', bytes: [0xa1, 0x61, 0x61, 0x1c] },
  ]
  for (const { name, bytes } of cases) {
    it(`rejects a payload with a ${name}`, () => {
      assert.throws(() => parseAttestationDocument(Uint8Array.from(bytes)), {
        code: 'ERR_PARSE_MALFORMED',
      })
    })
  }

  it('rejects nesting deeper than 8', () => {
    const deep = [...new Array(12).fill(0x81), 0x00]
    assert.throws(() => parseAttestationDocument(Uint8Array.from(deep)), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })

  it('rejects a length past the end', () => {
    assert.throws(
      () => parseAttestationDocument(Uint8Array.of(0xa1, 0x61, 0x61, 0x5a, 0xff, 0, 0, 0)),
      {
        code: 'ERR_PARSE_TRUNCATED',
      },
    )
  })
})

describe('parseAttestationDocument', () => {
  const { leaf, pki } = validDocument()
  const base = { leaf, cabundle: [pki.root.der, pki.intermediate.der] }

  it('reads every field', () => {
    const userData = new Uint8Array(16).fill(7)
    const document = parseAttestationDocument(
      payloadOf({ ...base, userData, nonce: new Uint8Array(0) }),
    )
    assert.equal(document.digest, 'SHA384')
    assert.equal(document.certificate.length, leaf.der.length)
    assert.equal(document.cabundle.length, 2)
    assert.deepEqual([...document.pcrs.keys()], [0, 1, 2, 3, 4, 8])
    assert.deepEqual(document.userData, userData)
    assert.deepEqual(document.nonce, new Uint8Array(0))
    assert.equal(document.publicKey, undefined)
  })

  it('accepts user_data of 1024 bytes and rejects 1025', () => {
    const fits = parseAttestationDocument(
      payloadOf({ ...base, userData: new Uint8Array(MAX_USER_DATA_SIZE) }),
    )
    assert.equal(fits.userData?.length, MAX_USER_DATA_SIZE)
    for (const field of ['userData', 'nonce', 'publicKey'] as const) {
      const payload = payloadOf({ ...base, [field]: new Uint8Array(MAX_USER_DATA_SIZE + 1) })
      assert.throws(() => parseAttestationDocument(payload), { code: 'ERR_PARSE_OVERSIZED' })
    }
  })

  it('rejects an oversized user_data in a whole document', () => {
    const bytes = buildDocument({ ...base, userData: new Uint8Array(MAX_USER_DATA_SIZE + 1) })
    assert.throws(() => parseNitroEvidence(bytes), { code: 'ERR_PARSE_OVERSIZED' })
  })

  it('rejects unknown fields and wrong types', () => {
    const cases: (readonly [unknown, unknown])[] = [
      ['extra', 1],
      [7, 1],
      ['module_id', ''],
      ['module_id', 5],
      ['digest', 'SHA256'],
      ['timestamp', 0],
      ['timestamp', -1],
      ['timestamp', 'now'],
      ['timestamp', 2n ** 60n],
      ['pcrs', new Map()],
      ['pcrs', new Map([[32, new Uint8Array(48)]])],
      ['pcrs', new Map([[-1, new Uint8Array(48)]])],
      ['pcrs', new Map([['0', new Uint8Array(48)]])],
      ['pcrs', new Map([[0, new Uint8Array(47)]])],
      ['pcrs', new Map(Array.from({ length: 33 }, (_, i) => [i, new Uint8Array(48)]))],
      ['certificate', new Uint8Array(0)],
      ['certificate', 'der'],
      ['cabundle', null],
      ['cabundle', [new Uint8Array(0)]],
      ['cabundle', new Uint8Array(10)],
      ['nonce', 'text'],
      ['user_data', false],
    ]
    for (const field of cases) {
      const payload = payloadOf({ ...base, extraFields: [field] })
      assert.throws(
        () => parseAttestationDocument(payload),
        (error: unknown) =>
          error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_'),
        `field ${String(field[0])} = ${String(field[1])}`,
      )
    }
  })

  it('rejects a payload without a required field', () => {
    for (const field of ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle']) {
      const map = payloadMap(base)
      map.delete(field)
      assert.throws(() => parseAttestationDocument(encodeCbor(map)), {
        code: 'ERR_PARSE_MALFORMED',
      })
    }
  })

  it('rejects a payload that is not a map', () => {
    assert.throws(() => parseWithPayload(encodeCbor([1, 2])), { code: 'ERR_PARSE_MALFORMED' })
  })
})

describe('parseNitroEvidence', () => {
  const { bytes, leaf } = validDocument()

  it('reads raw COSE, base64 and URL-safe base64 alike', () => {
    const raw = parseNitroEvidence(bytes)
    const text = toBase64(bytes).replace(/.{1,76}/g, '$&\n')
    const base64 = parseNitroEvidence(new TextEncoder().encode(text))
    const urlSafe = toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    const fromUrlSafe = parseNitroEvidence(new TextEncoder().encode(urlSafe))
    assert.equal(raw.form, 'cose')
    assert.equal(base64.form, 'base64')
    assert.equal(fromUrlSafe.form, 'base64')
    assert.deepEqual(base64.cose.payload, raw.cose.payload)
    assert.deepEqual(fromUrlSafe.cose.signature, raw.cose.signature)
  })

  it('reads a document carried in a certificate extension', () => {
    const carrier = issue({
      commonName: 'carrier',
      extensions: [{ oid: '1.3.6.1.4.1.99999.1', value: bytes }],
    })
    for (const form of [
      carrier.der,
      new TextEncoder().encode(encodePem('CERTIFICATE', carrier.der)),
    ]) {
      const evidence = parseNitroEvidence(form)
      assert.equal(evidence.form, 'certificate')
      assert.equal(evidence.carrier?.location, '1.3.6.1.4.1.99999.1')
      assert.deepEqual(evidence.carrier?.spki, parseCertificate(carrier.der).spki)
    }
  })

  it('reads a document wrapped in an OCTET STRING extension', () => {
    // OCTET STRING with a two-byte length: the document is between 256 and 65535 bytes.
    const header = Uint8Array.of(0x04, 0x82, bytes.length >> 8, bytes.length & 0xff)
    const value = concatBytes(header, bytes)
    const carrier = issue({
      commonName: 'carrier',
      extensions: [{ oid: '1.3.6.1.4.1.99999.2', value }],
    })
    assert.deepEqual(
      parseNitroEvidence(carrier.der).cose.signature,
      parseCoseSign1(bytes).signature,
    )
  })

  it('rejects a certificate that carries no document, or two', () => {
    const none = issue({ commonName: 'plain' })
    assert.throws(() => parseNitroEvidence(none.der), { code: 'ERR_PARSE_MALFORMED' })
    const extensions = [
      { oid: '1.3.6.1.4.1.99999.1', value: bytes },
      { oid: '1.3.6.1.4.1.99999.2', value: bytes },
    ]
    const two = issue({ commonName: 'two', extensions })
    assert.throws(() => parseNitroEvidence(two.der), { code: 'ERR_PARSE_MALFORMED' })
  })

  it('rejects text and bytes that are no document', () => {
    for (const text of ['', '   ', 'hello world', 'AAAA', '-----BEGIN CERTIFICATE-----']) {
      assert.throws(
        () => parseNitroEvidence(new TextEncoder().encode(text)),
        (error: unknown) => {
          return (
            error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_')
          )
        },
      )
    }
    assert.throws(() => parseNitroEvidence(new Uint8Array(70 * 1024)), {
      code: 'ERR_PARSE_OVERSIZED',
    })
  })

  it('decodes the signing certificate', () => {
    const evidence = parseNitroEvidence(bytes)
    assert.deepEqual(evidence.signingCertificate.der, leaf.der)
  })
})

describe('sniffNitro', () => {
  const { bytes } = validDocument()
  const carrier = issue({
    commonName: 'carrier',
    extensions: [{ oid: '1.3.6.1.4.1.99999.1', value: bytes }],
  })

  it('recognizes every input form', () => {
    const forms = [
      bytes,
      concatBytes(Uint8Array.of(0xd2), bytes),
      new TextEncoder().encode(toBase64(bytes)),
      carrier.der,
      new TextEncoder().encode(encodePem('CERTIFICATE', carrier.der)),
    ]
    for (const form of forms) assert.equal(sniffNitro(form), true)
  })

  it('passes over other inputs', () => {
    const others = [
      new Uint8Array(0),
      Uint8Array.of(0x03, 0x00, 0x02, 0x00),
      issue({ commonName: 'plain' }).der,
      new TextEncoder().encode('not base64 at all!'),
      new TextEncoder().encode(toBase64(new Uint8Array(600))),
      encodeCbor([new Uint8Array(4), new Map(), new Uint8Array(4), new Uint8Array(4)]),
      concatBytes(Uint8Array.of(0x84, 0x40), MODULE_ID.subarray(0, 4)),
    ]
    for (const other of others) assert.equal(sniffNitro(other), false)
  })
})
