/**
 * Damaged quotes and collateral: every cut and every flipped byte must give a ParseError or an
 * invalid verdict, never another exception and never a pass.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { VerificationCache } from '../../../src/core/cache.js'
import { ParseError } from '../../../src/core/errors.js'
import { parseCrl } from '../../../src/pki/crl.js'
import { parseQeIdentity } from '../../../src/platforms/dcap/qe-identity.js'
import { parseQuote } from '../../../src/platforms/dcap/quote.js'
import { parseTcbInfo } from '../../../src/platforms/dcap/tcb-info.js'
import { verifyEvidence } from '../../../src/verify.js'
import { bundleFromDir, type CorpusCase, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const CASES = [
  'sgx-v3-dcapqvl-config-swhardening',
  'tdx-v4-tinfoil-full-collateral-uptodate',
  'tdx-v5-gotdxguest-sample-uptodate',
]

function findCase(name: string): CorpusCase {
  const found = [...corpusCases('intel-sgx'), ...corpusCases('intel-tdx')].find(
    (c) => c.name === name,
  )
  assert.ok(found, `corpus case ${name} exists`)
  return found
}

function assertParseError(action: () => unknown, what: string): void {
  try {
    action()
  } catch (error) {
    assert.ok(error instanceof ParseError, `${what}: ${String(error)}`)
    return
  }
}

describe('parseQuote on damaged input', () => {
  for (const name of CASES) {
    const testCase = findCase(name)
    const quote = readCaseFile(testCase, 'quote.bin')
    const length = parseQuote(quote).length

    it(`${name}: rejects every cut before the end`, () => {
      for (let cut = 0; cut < length; cut++) {
        assert.throws(
          () => parseQuote(quote.subarray(0, cut)),
          (error: unknown) => error instanceof ParseError,
          `cut at ${cut}`,
        )
      }
      assert.equal(parseQuote(quote.subarray(0, length)).length, length)
    })

    it(`${name}: never passes a flipped byte`, async () => {
      const at = new Date(testCase.expect.verification_time ?? '')
      const collateral = bundleFromDir(join(testCase.dir, 'collateral'))
      const cache = new VerificationCache()
      for (let offset = 0; offset < length; offset++) {
        const damaged = quote.slice()
        damaged[offset] = (damaged[offset] ?? 0) ^ 0xff
        try {
          const result = await verifyEvidence(damaged, { at, collateral, cache, allowDebug: true })
          assert.equal(result.verdict, 'invalid', `byte ${offset} flipped`)
        } catch (error) {
          assert.ok(error instanceof ParseError, `byte ${offset} flipped: ${String(error)}`)
        }
      }
    })
  }
})

describe('parsers on random input', () => {
  const parsers: [string, (bytes: Uint8Array) => unknown][] = [
    ['parseQuote', parseQuote],
    ['parseTcbInfo', parseTcbInfo],
    ['parseQeIdentity', parseQeIdentity],
    ['parseCrl', (bytes) => parseCrl(bytes)],
  ]
  for (const [name, parse] of parsers) {
    it(`${name} throws only ParseError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
          assertParseError(() => parse(bytes), name),
        ),
        { numRuns: 500 },
      )
    })
  }

  it('parseQuote throws only ParseError on a mutated real quote', () => {
    const quote = readCaseFile(findCase('tdx-v4-tinfoil-full-collateral-uptodate'), 'quote.bin')
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(quote.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(quote.length),
        (edits, cut) => {
          const damaged = quote.slice(0, cut)
          for (const [offset, value] of edits) if (offset < damaged.length) damaged[offset] = value
          assertParseError(() => parseQuote(damaged), 'mutated quote')
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('parseTcbInfo throws only ParseError on mutated real collateral', () => {
    const testCase = findCase('tdx-v4-tinfoil-full-collateral-uptodate')
    const text = readCaseFile(testCase, 'collateral/tcb_info.json')
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.integer({ min: 0, max: 255 }), (offset, value) => {
        const damaged = text.slice()
        damaged[offset] = value
        assertParseError(() => parseTcbInfo(damaged), 'mutated TCB info')
      }),
      { numRuns: 1000 },
    )
  })
})
