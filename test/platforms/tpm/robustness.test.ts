import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concatBytes } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import { ParseError } from '../../../src/core/errors.js'
import type { VerifyOptions } from '../../../src/core/platform.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { tpmPlatform } from '../../../src/platforms/tpm/index.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'
import { createAk, createQuote, pcrFile, u16 } from '../../helpers/fake-tpm.js'
import {
  azureSnpCollateral,
  azureSnpEvidence,
  createAzureSnpPki,
} from '../../helpers/fake-tpm-azure.js'

const platform = tpmPlatform()
const crypto = createNodeCrypto()
const cache = new VerificationCache()
const at = new Date('2030-01-01T00:00:00Z')

/** Parses and verifies; returns the verdict, or `parse-error` for a ParseError. */
async function outcome(bytes: Uint8Array, options: VerifyOptions): Promise<string> {
  try {
    const result = await platform.verify(platform.parse(bytes), { at, crypto, cache, ...options })
    return result.verdict
  } catch (error) {
    if (error instanceof ParseError) return 'parse-error'
    throw error
  }
}

function corpusQuote(): { tpm2b: Uint8Array; ak: Uint8Array; pcrs: Uint8Array; json: Uint8Array } {
  const testCase = corpusCases('tpm').find((c) => c.name === 'tpm2-quote-rsa-trustee')
  assert.ok(testCase, 'corpus case tpm2-quote-rsa-trustee is missing')
  const attest = readCaseFile(testCase, 'tpms_attest.bin')
  return {
    tpm2b: concatBytes(u16(attest.length), attest, readCaseFile(testCase, 'tpmt_signature.bin')),
    ak: readCaseFile(testCase, 'ak_public.der'),
    pcrs: readCaseFile(testCase, 'pcrs_sha256.json'),
    json: readCaseFile(testCase, 'original_tpm_evidence.json'),
  }
}

function generatedQuote(): { tpm2b: Uint8Array; ak: Uint8Array; pcrs: Uint8Array } {
  const quote = createQuote({}, createAk('p256'))
  return {
    tpm2b: concatBytes(u16(quote.attest.length), quote.attest, quote.signature),
    ak: quote.ak.spki,
    pcrs: pcrFile(quote.pcrs),
  }
}

describe('TPM evidence cut short', () => {
  const corpus = corpusQuote()
  const inputs = [
    ['the corpus TPM2B_ATTEST', corpus.tpm2b],
    [
      'the corpus TPMS_ATTEST',
      corpus.tpm2b.subarray(2, 2 + ((corpus.tpm2b[0]! << 8) | corpus.tpm2b[1]!)),
    ],
    ['the corpus Trustee JSON', corpus.json],
    ['a generated TPM2B_ATTEST', generatedQuote().tpm2b],
  ] as const
  for (const [name, bytes] of inputs) {
    it(`throws only ParseError for ${name} cut at every length`, async () => {
      for (let length = 0; length < bytes.length; length++) {
        const cut = bytes.subarray(0, length)
        // JSON cut only in its trailing whitespace is still the whole evidence.
        if (/^\s*$/.test(new TextDecoder().decode(bytes.subarray(length)))) continue
        let result: string
        try {
          result = platform.parse(cut).form
        } catch (error) {
          assert.ok(error instanceof ParseError, `length ${length}: ${String(error)}`)
          continue
        }
        // A TPM2B_ATTEST cut inside its signature is a whole quote without a signature.
        assert.equal(result, 'tpm2b-attest', `length ${length}`)
        assert.notEqual(
          await outcome(cut, { trustedKeys: [corpus.ak] }),
          'valid',
          `length ${length}`,
        )
      }
    })
  }
})

describe('TPM evidence with one byte flipped: ParseError or not valid', () => {
  for (const [name, quote] of [
    ['the corpus quote', corpusQuote()],
    ['a generated quote', generatedQuote()],
  ] as const) {
    it(`rejects ${name} with any byte flipped`, async () => {
      const options = {
        trustedKeys: [quote.ak],
        collateral: new CollateralBundle([['pcrs_sha256.json', quote.pcrs]]),
      }
      assert.equal(await outcome(quote.tpm2b, options), 'valid')
      for (let i = 0; i < quote.tpm2b.length; i++) {
        const flipped = quote.tpm2b.slice()
        flipped[i]! ^= 0x01
        assert.notEqual(await outcome(flipped, options), 'valid', `byte ${i}`)
      }
    })
  }

  it('rejects flipped Azure evidence', async () => {
    const pki = createAzureSnpPki()
    const { bytes } = azureSnpEvidence(pki)
    const options = { trustAnchors: [pki.amd.ark.der], collateral: azureSnpCollateral(pki) }
    assert.equal(await outcome(bytes, options), 'valid')
    const json = JSON.parse(new TextDecoder().decode(bytes)) as {
      report: number[]
      quote: { message: number[]; signature: number[] }
    }
    // The HCL header, the unused request-data fields and the padding after the runtime data are
    // bound to nothing, so flips are made in the hardware report, the fields read and the
    // runtime data.
    const runtimeEnd =
      0x4d4 + new DataView(Uint8Array.from(json.report).buffer).getUint32(0x4d0, true)
    const bound = (i: number) => (i >= 0x20 && i < 0x4c0) || (i >= 0x4c8 && i < runtimeEnd)
    const fields = [
      ['report', json.report, 3],
      ['message', json.quote.message, 1],
      ['signature', json.quote.signature, 3],
    ] as const
    for (const [field, array, step] of fields) {
      for (let i = 0; i < array.length; i += step) {
        if (field === 'report' && !bound(i)) continue
        const original = array[i]!
        array[i] = original ^ 0x01
        const flipped = new TextEncoder().encode(JSON.stringify(json))
        array[i] = original
        assert.notEqual(await outcome(flipped, options), 'valid', `${field} byte ${i}`)
      }
    }
  })
})
