import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { VerificationCache } from '../../../src/core/cache.js'
import { ParseError } from '../../../src/core/errors.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { parseNitroEvidence } from '../../../src/platforms/nitro/evidence.js'
import {
  MAX_USER_DATA_SIZE,
  parseAttestationDocument,
} from '../../../src/platforms/nitro/format.js'
import { nitroPlatform } from '../../../src/platforms/nitro/index.js'
import { sniffNitro } from '../../../src/platforms/nitro/sniff.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'
import { AT, payloadOf, validDocument } from './fake-nitro.js'

const crypto = createNodeCrypto()
const platform = nitroPlatform()
/** Shared, so the loops below decode each distinct CA bundle once. */
const cache = new VerificationCache()

/** Parses and verifies; returns the verdict, or `parse-error` for a ParseError. */
async function outcome(bytes: Uint8Array, at: Date, trustAnchors?: Uint8Array[]): Promise<string> {
  let evidence: ReturnType<typeof parseNitroEvidence>
  try {
    evidence = parseNitroEvidence(bytes)
  } catch (error) {
    if (error instanceof ParseError) return 'parse-error'
    throw error
  }
  const context = { at, crypto, cache, ...(trustAnchors ? { trustAnchors } : {}) }
  const result = await platform.verify(evidence, context)
  return result.verdict
}

function corpusDocument(name: string): { bytes: Uint8Array; at: Date } {
  const testCase = corpusCases('aws-nitro').find((c) => c.name === name)
  assert.ok(testCase, `corpus case ${name} is missing`)
  return {
    bytes: readCaseFile(testCase, 'attestation_doc.cose'),
    at: new Date(testCase.expect.verification_time ?? Number.NaN),
  }
}

describe('truncated documents', () => {
  const inputs = [
    { name: 'a corpus document', bytes: corpusDocument('nitro-evervault-beta-prod').bytes },
    { name: 'a generated document', bytes: validDocument().bytes },
  ]
  for (const { name, bytes } of inputs) {
    it(`throws only ParseError for ${name} cut at every length`, () => {
      for (let length = 0; length < bytes.length; length++) {
        assert.throws(
          () => parseNitroEvidence(bytes.subarray(0, length)),
          (error: unknown) => error instanceof ParseError,
          `length ${length}`,
        )
      }
    })
  }
})

describe('documents with one byte flipped: ParseError or invalid', () => {
  it('rejects a generated document with any byte flipped', async () => {
    const { pki, bytes } = validDocument()
    assert.equal(await outcome(bytes, AT, [pki.root.der]), 'valid')
    for (let i = 0; i < bytes.length; i++) {
      const flipped = bytes.slice()
      flipped[i]! ^= 0x01
      const result = await outcome(flipped, AT, [pki.root.der])
      assert.notEqual(result, 'valid', `byte ${i}`)
    }
  })

  // Every fifth byte keeps the run to seconds, because a flip in the CA bundle costs a full chain.
  it('rejects a corpus document with a byte flipped', async () => {
    const { bytes, at } = corpusDocument('nitro-evervault-beta-prod')
    assert.equal(await outcome(bytes, at), 'valid')
    for (let i = 0; i < bytes.length; i += 5) {
      const flipped = bytes.slice()
      flipped[i]! ^= 0x80
      assert.notEqual(await outcome(flipped, at), 'valid', `byte ${i}`)
    }
  })
})

describe('parseNitroEvidence properties', () => {
  it('throws only ParseError for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        assert.equal(typeof sniffNitro(bytes), 'boolean')
        try {
          parseNitroEvidence(bytes)
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('throws only ParseError for arbitrary CBOR payloads', () => {
    const cborValue = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.string(),
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(null, true, false),
        fc.array(tie('value'), { maxLength: 4 }),
        fc
          .array(fc.tuple(fc.oneof(fc.string(), fc.integer()), tie('value')), { maxLength: 4 })
          .map((entries) => new Map(entries)),
      ),
    })).value
    const { leaf } = validDocument()
    fc.assert(
      fc.property(
        cborValue,
        fc.constantFrom('module_id', 'pcrs', 'cabundle', 'nonce', 'other'),
        (value, field) => {
          const payload = payloadOf({ leaf, cabundle: [], extraFields: [[field, value]] })
          try {
            parseAttestationDocument(payload)
          } catch (error) {
            assert.ok(error instanceof ParseError, String(error))
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  it('reads back every field of a well-formed payload', () => {
    const { leaf } = validDocument()
    const pcrs = fc
      .uniqueArray(fc.integer({ min: 0, max: 31 }), { minLength: 1, maxLength: 32 })
      .chain((indexes) =>
        fc.tuple(
          ...indexes.map((index) =>
            fc.tuple(fc.constant(index), fc.uint8Array({ minLength: 48, maxLength: 48 })),
          ),
        ),
      )
      .map((entries) => new Map(entries))
    const userData = fc.option(fc.uint8Array({ maxLength: MAX_USER_DATA_SIZE }), { nil: null })
    fc.assert(
      fc.property(
        pcrs,
        userData,
        fc.integer({ min: 1, max: 8.64e15 }),
        (pcrMap, data, timestamp) => {
          const document = parseAttestationDocument(
            payloadOf({ leaf, cabundle: [leaf.der], pcrs: pcrMap, userData: data, timestamp }),
          )
          assert.deepEqual(
            [...document.pcrs.keys()],
            [...pcrMap.keys()].sort((a, b) => a - b),
          )
          for (const [index, value] of pcrMap) assert.deepEqual(document.pcrs.get(index), value)
          assert.deepEqual(document.userData, data ?? undefined)
          assert.equal(document.timestamp, timestamp)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('throws only ParseError for random edits of a document', () => {
    const { bytes } = validDocument()
    const edit = fc.array(
      fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })),
      {
        minLength: 1,
        maxLength: 4,
      },
    )
    fc.assert(
      fc.property(edit, (changes) => {
        const changed = bytes.slice()
        for (const [index, value] of changes) changed[index] = value
        try {
          parseNitroEvidence(changed)
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error))
        }
      }),
      { numRuns: 2000 },
    )
  })
})
