import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { concatBytes, encodePem } from '../../../src/core/bytes.js'
import { ParseError } from '../../../src/core/errors.js'
import { parseTpmEvidence, sniffTpmEvidence } from '../../../src/platforms/tpm/evidence.js'
import {
  parseTpm2bPublic,
  parseTpmsAttest,
  parseTpmtSignature,
  selectedPcrs,
} from '../../../src/platforms/tpm/format.js'
import { parsePcrFile } from '../../../src/platforms/tpm/pcrs.js'
import {
  keyIdentity,
  readAttestationKey,
  spkiOfTpmtPublic,
} from '../../../src/platforms/tpm/public-key.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'
import {
  AK_ATTRIBUTES,
  type AttestSpec,
  createAk,
  createQuote,
  tpm2b,
  trusteeJson,
  u16,
  u32,
  writeAttest,
  writeTpm2bPublic,
} from '../../helpers/fake-tpm.js'

function parseCode(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (error instanceof ParseError) return error.code
    throw error
  }
  return 'no error'
}

describe('parseTpmsAttest', () => {
  it('reads every field of a generated quote', () => {
    const spec: AttestSpec = {
      extraData: Uint8Array.of(1, 2, 3),
      clock: 0x0102030405060708n,
      resetCount: 9,
      restartCount: 10,
      safe: 0,
      firmwareVersion: 0xa1b2c3d4e5f60718n,
      banks: [{ hash: 0x000b, pcrs: [0, 9, 23] }],
      pcrs: [new Uint8Array(32), new Uint8Array(32), new Uint8Array(32)],
    }
    const attest = parseTpmsAttest(writeAttest(spec))
    assert.deepEqual(attest.extraData, Uint8Array.of(1, 2, 3))
    assert.equal(attest.clockInfo.clock, 0x0102030405060708n)
    assert.equal(attest.clockInfo.resetCount, 9)
    assert.equal(attest.clockInfo.restartCount, 10)
    assert.equal(attest.clockInfo.safe, false)
    assert.equal(attest.firmwareVersion, 0xa1b2c3d4e5f60718n)
    assert.deepEqual(attest.pcrSelect[0]?.pcrs, [0, 9, 23])
    assert.equal(attest.pcrDigest.length, 32)
  })

  const rejections: [string, AttestSpec, string][] = [
    ['a structure without the TPM_GENERATED magic', { magic: 0xff544348 }, 'ERR_PARSE_MALFORMED'],
    ['a certification instead of a quote', { type: 0x8017 }, 'ERR_PARSE_UNSUPPORTED_BODY_TYPE'],
    ['extraData over 66 bytes', { extraData: new Uint8Array(67) }, 'ERR_PARSE_OVERSIZED'],
    ['a pcrDigest over 64 bytes', { pcrDigest: new Uint8Array(65) }, 'ERR_PARSE_OVERSIZED'],
    ['bytes after the structure', { trailing: Uint8Array.of(0) }, 'ERR_PARSE_MALFORMED'],
    [
      'a bank selected twice',
      {
        banks: [
          { hash: 11, pcrs: [0] },
          { hash: 11, pcrs: [1] },
        ],
        pcrs: [],
      },
      'ERR_PARSE_MALFORMED',
    ],
    [
      'a pcrSelect of 33 bytes',
      { banks: [{ hash: 11, pcrs: [0], size: 33 }], pcrs: [] },
      'ERR_PARSE_OVERSIZED',
    ],
  ]
  for (const [name, spec, code] of rejections) {
    it(`rejects ${name}`, () => {
      assert.equal(
        parseCode(() => parseTpmsAttest(writeAttest(spec))),
        code,
      )
    })
  }

  it('rejects more than 16 banks', () => {
    const bytes = writeAttest({ banks: [], pcrs: [] })
    // The bank count sits before the digest: 4 bytes, then TPM2B_DIGEST of 32 bytes.
    bytes.set(u32(17), bytes.length - 38)
    assert.equal(
      parseCode(() => parseTpmsAttest(bytes)),
      'ERR_PARSE_OVERSIZED',
    )
  })

  it('lists selected PCRs from the bitmap, bit 0 of byte 0 first', () => {
    assert.deepEqual(selectedPcrs(Uint8Array.of(0x81, 0x00, 0x80)), [0, 7, 23])
  })
})

describe('parseTpmtSignature', () => {
  it('reads each scheme', () => {
    const rsa = createQuote({}, createAk('rsa'), 'rsapss')
    assert.equal(parseTpmtSignature(rsa.signature).sigAlg, 'rsapss')
    const ecc = createQuote({}, createAk('p384'))
    const signature = parseTpmtSignature(ecc.signature)
    assert.equal(signature.sigAlg, 'ecdsa')
    assert.equal(signature.sigAlg === 'ecdsa' ? signature.signatureR.length : 0, 48)
  })

  it('rejects an unsupported scheme', () => {
    const bytes = concatBytes(
      u16(0x001a),
      u16(0x000b),
      tpm2b(new Uint8Array(8)),
      tpm2b(new Uint8Array(8)),
    )
    assert.equal(
      parseCode(() => parseTpmtSignature(bytes)),
      'ERR_PARSE_UNSUPPORTED_KEY_TYPE',
    )
  })

  it('rejects an RSA signature over 512 bytes', () => {
    const bytes = concatBytes(u16(0x0014), u16(0x000b), u16(513), new Uint8Array(513))
    assert.equal(
      parseCode(() => parseTpmtSignature(bytes)),
      'ERR_PARSE_OVERSIZED',
    )
  })
})

describe('parseTpm2bPublic', () => {
  for (const kind of ['rsa', 'p256', 'p384'] as const) {
    it(`reads a ${kind} key to the same key as its SubjectPublicKeyInfo`, () => {
      const ak = createAk(kind)
      const publicArea = parseTpm2bPublic(writeTpm2bPublic(ak))
      assert.equal(publicArea.objectAttributes, AK_ATTRIBUTES)
      assert.equal(keyIdentity(spkiOfTpmtPublic(publicArea)), keyIdentity(ak.spki))
    })
  }

  it('rejects a size that does not match the rest', () => {
    const bytes = writeTpm2bPublic(createAk('p256'))
    assert.equal(
      parseCode(() => parseTpm2bPublic(bytes.subarray(0, bytes.length - 1))),
      'ERR_PARSE_TRUNCATED',
    )
  })

  it('rejects a key type other than RSA or ECC', () => {
    const bytes = writeTpm2bPublic(createAk('p256'))
    bytes.set(u16(0x0008), 2)
    assert.equal(
      parseCode(() => parseTpm2bPublic(bytes)),
      'ERR_PARSE_UNSUPPORTED_KEY_TYPE',
    )
  })
})

describe('readAttestationKey', () => {
  it('gives one identity for DER, PEM and TPM2B_PUBLIC', () => {
    const ak = createAk('rsa')
    const pem = new TextEncoder().encode(encodePem('PUBLIC KEY', ak.spki))
    const identities = [ak.spki, pem, writeTpm2bPublic(ak)].map(
      (bytes) => readAttestationKey(bytes).identity,
    )
    assert.equal(new Set(identities).size, 1)
  })

  it('rejects bytes that are no key', () => {
    assert.equal(
      parseCode(() => readAttestationKey(new TextEncoder().encode('hello'))),
      'ERR_PARSE_MALFORMED',
    )
  })
})

describe('parsePcrFile', () => {
  const selection = [{ hash: 0x000b, select: Uint8Array.of(3), pcrs: [0, 1] }]
  const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

  it('reads an array, an object and a map of banks', () => {
    const value = '11'.repeat(32)
    for (const [file, json] of [
      ['pcrs_sha256.json', [value, value]],
      ['pcrs_sha256.json', { 0: value, 1: value }],
      ['pcrs.json', { sha256: [value, `0x${value}`] }],
      ['pcrs.json', [value, value]],
    ] as const) {
      assert.equal(parsePcrFile(file, text(json), selection).get(0x000b)?.size, 2, file)
    }
  })

  it('rejects what is not a PCR list', () => {
    for (const json of [['zz'], { x: 'aa' }, 5, { 300: 'aa' }]) {
      assert.equal(
        parseCode(() => parsePcrFile('pcrs_sha256.json', text(json), selection)),
        'ERR_PARSE_COLLATERAL',
      )
    }
    assert.equal(
      parseCode(() => parsePcrFile('pcrs.json', new TextEncoder().encode('{'), selection)),
      'ERR_PARSE_COLLATERAL',
    )
  })
})

describe('parseTpmEvidence', () => {
  it('reads the corpus evidence in Trustee form', () => {
    const testCase = corpusCases('tpm').find((c) => c.name === 'tpm2-quote-rsa-trustee')
    assert.ok(testCase)
    const evidence = parseTpmEvidence(readCaseFile(testCase, 'original_tpm_evidence.json'))
    assert.equal(evidence.form, 'trustee-json')
    assert.equal(evidence.pcrs?.get(0x000b)?.size, 24)
  })

  it('rejects a Trustee quote whose PCR list fits neither rule', () => {
    const bytes = trusteeJson(createQuote(), (json) => {
      json.tpm_quote = { ...(json.tpm_quote as object), pcrs: ['00'.repeat(32)] }
    })
    assert.equal(
      parseCode(() => parseTpmEvidence(bytes)),
      'ERR_PARSE_MALFORMED',
    )
  })

  it('rejects JSON of no known form and bytes of no known structure', () => {
    assert.equal(
      parseCode(() => parseTpmEvidence(new TextEncoder().encode('{"a":1}'))),
      'ERR_PARSE_MALFORMED',
    )
    assert.equal(
      parseCode(() => parseTpmEvidence(Uint8Array.of(1, 2, 3))),
      'ERR_PARSE_MALFORMED',
    )
    assert.equal(sniffTpmEvidence(new TextEncoder().encode('{"a":1}')), false)
  })

  it('rejects bytes that are not base64 in a JSON field', () => {
    const bytes = trusteeJson(createQuote(), (json) => {
      json.ak_public = '***'
    })
    assert.equal(
      parseCode(() => parseTpmEvidence(bytes)),
      'ERR_PARSE_MALFORMED',
    )
  })

  it('throws only ParseError for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        assert.equal(typeof sniffTpmEvidence(bytes), 'boolean')
        try {
          parseTpmEvidence(bytes)
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('throws only ParseError for arbitrary bytes after the magic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        for (const bytes of [
          concatBytes(u32(0xff544347), u16(0x8018), tail),
          concatBytes(u16(tail.length + 6), u32(0xff544347), u16(0x8018), tail),
        ]) {
          try {
            parseTpmEvidence(bytes)
          } catch (error) {
            assert.ok(error instanceof ParseError, String(error))
          }
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('throws only ParseError for arbitrary JSON field values', () => {
    const quote = createQuote()
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.array(fc.integer({ min: -5, max: 300 })),
      fc.base64String(),
    )
    fc.assert(
      fc.property(
        fc.constantFrom('ak_public', 'message', 'signature', 'pcrs'),
        value,
        (field, replacement) => {
          const bytes = trusteeJson(quote, (json) => {
            if (field === 'ak_public') json.ak_public = replacement
            else (json.tpm_quote as Record<string, unknown>)[field] = replacement
          })
          try {
            parseTpmEvidence(bytes)
          } catch (error) {
            assert.ok(error instanceof ParseError, String(error))
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('reads a Trustee quote without PCR values', () => {
    const bytes = trusteeJson(createQuote(), (json) => {
      json.tpm_quote = { ...(json.tpm_quote as object), pcrs: undefined }
    })
    assert.equal(parseTpmEvidence(bytes).pcrs, undefined)
  })
})
