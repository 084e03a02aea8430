import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import { ParseError } from '../../../src/core/errors.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { parseNvidiaReport } from '../../../src/platforms/nvidia/format.js'
import { nvidiaPlatform } from '../../../src/platforms/nvidia/index.js'
import { bundleFromDir, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const crypto = createNodeCrypto()
const platform = nvidiaPlatform()
/** Shared, so the loops below decode the chain once. */
const cache = new VerificationCache()

function corpusCase(name: string) {
  const testCase = corpusCases('nvidia-gpu').find((c) => c.name === name)
  assert.ok(testCase, `corpus case ${name} is missing`)
  const hex = new TextDecoder().decode(readCaseFile(testCase, 'attestation_report.hex')).trim()
  return {
    binary: new Uint8Array(Buffer.from(hex, 'hex')),
    text: readCaseFile(testCase, 'attestation_report.hex'),
    collateral: bundleFromDir(testCase.dir),
    at: new Date(testCase.expect.verification_time ?? Number.NaN),
  }
}

/** Parses and verifies; returns the verdict, or `parse-error` for a ParseError. */
async function outcome(bytes: Uint8Array, sample: ReturnType<typeof corpusCase>): Promise<string> {
  let report: ReturnType<typeof parseNvidiaReport>
  try {
    report = parseNvidiaReport(bytes)
  } catch (error) {
    if (error instanceof ParseError) return 'parse-error'
    throw error
  }
  const result = await platform.verify(report, {
    at: sample.at,
    collateral: sample.collateral,
    crypto,
    cache,
  })
  return result.verdict
}

describe('truncated reports', () => {
  for (const name of ['h100-nvtrust-sample', 'h100-trustee-coco-trailing-byte']) {
    const sample = corpusCase(name)
    it(`throw only ParseError for ${name} cut at every length`, () => {
      // The trailing zero byte of the Trustee report may go: the report is whole without it.
      const whole = sample.binary.length - (name.includes('trailing') ? 1 : 0)
      for (let length = 0; length < whole; length++) {
        assert.throws(
          () => parseNvidiaReport(sample.binary.subarray(0, length)),
          (error: unknown) => error instanceof ParseError,
          `length ${length}`,
        )
      }
    })

    it(`throw only ParseError for the hex text of ${name} cut short`, () => {
      for (let length = 0; length < sample.text.length - 200; length += 7) {
        assert.throws(
          () => parseNvidiaReport(sample.text.subarray(0, length)),
          (error: unknown) => error instanceof ParseError,
          `length ${length}`,
        )
      }
    })
  }
})

describe('reports with one byte flipped', () => {
  const sample = corpusCase('h100-nvtrust-sample')

  it('are rejected or invalid at every offset', async () => {
    const outcomes = new Map<string, number>()
    for (let offset = 0; offset < sample.binary.length; offset++) {
      const bytes = sample.binary.slice()
      bytes[offset]! ^= 0x01
      const verdict = await outcome(bytes, sample)
      assert.ok(verdict === 'parse-error' || verdict === 'invalid', `offset ${offset}: ${verdict}`)
      outcomes.set(verdict, (outcomes.get(verdict) ?? 0) + 1)
    }
    assert.ok((outcomes.get('invalid') ?? 0) > 0)
  })

  it('is indeterminate without a flip', async () => {
    assert.equal(await outcome(sample.binary, sample), 'indeterminate')
  })
})
