import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePem } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { ParseError } from '../../../src/core/errors.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { ccaPlatform } from '../../../src/platforms/cca/index.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'
import { createCcaToken } from '../../helpers/fake-cca.js'

const platform = ccaPlatform()
const crypto = createNodeCrypto()
const cache = new VerificationCache()
const at = new Date('2030-01-01T00:00:00Z')

/** Parses and verifies; returns the verdict, or `parse-error` for a ParseError. */
async function outcome(bytes: Uint8Array, cpak: Uint8Array): Promise<string> {
  try {
    const result = await platform.verify(platform.parse(bytes), {
      at,
      crypto,
      cache,
      trustedKeys: [cpak],
    })
    return result.verdict
  } catch (error) {
    if (error instanceof ParseError) return 'parse-error'
    throw error
  }
}

function corpusToken(): { bytes: Uint8Array; cpak: Uint8Array } {
  const testCase = corpusCases('arm-cca').find((c) => c.name === 'cca-tfrmm-fvp-token')
  assert.ok(testCase, 'corpus case cca-tfrmm-fvp-token is missing')
  const pem = new TextDecoder().decode(readCaseFile(testCase, 'trust/cca_platform_pub.pem'))
  return { bytes: readCaseFile(testCase, 'cca_token.cbor'), cpak: decodePem(pem)[0]!.der }
}

function generatedToken(): { bytes: Uint8Array; cpak: Uint8Array } {
  const token = createCcaToken()
  return { bytes: token.bytes, cpak: token.cpak.spki }
}

/** Offsets of the two-byte content-format 263 that opens each CMW record `[263, bytes]`. */
function contentFormatBytes(bytes: Uint8Array): Set<number> {
  const offsets = new Set<number>()
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 0x82 &&
      bytes[i + 1] === 0x19 &&
      bytes[i + 2] === 0x01 &&
      bytes[i + 3] === 0x07
    ) {
      offsets.add(i + 2)
      offsets.add(i + 3)
    }
  }
  return offsets
}

const inputs = [
  ['the corpus token', corpusToken()],
  ['a generated token', generatedToken()],
  [
    'a generated CMW token',
    (() => {
      const token = createCcaToken({ form: 'cmw-collection' })
      return { bytes: token.bytes, cpak: token.cpak.spki }
    })(),
  ],
] as const

describe('CCA tokens cut short', () => {
  for (const [name, token] of inputs) {
    it(`throws only ParseError for ${name} cut at every length`, () => {
      for (let length = 0; length < token.bytes.length; length++) {
        assert.throws(
          () => platform.parse(token.bytes.subarray(0, length)),
          (error: unknown) => error instanceof ParseError,
          `length ${length}`,
        )
      }
    })
  }
})

describe('CCA tokens with one byte flipped: ParseError or not valid', () => {
  for (const [name, token] of inputs) {
    it(`rejects ${name} with any byte flipped`, async () => {
      assert.equal(await outcome(token.bytes, token.cpak), 'valid')
      const unsigned = contentFormatBytes(token.bytes)
      for (let i = 0; i < token.bytes.length; i++) {
        // The CMW content-format of each token is outside its signature and not judged.
        if (unsigned.has(i)) continue
        const flipped = token.bytes.slice()
        flipped[i]! ^= 0x01
        assert.notEqual(await outcome(flipped, token.cpak), 'valid', `byte ${i}`)
      }
    })
  }
})
