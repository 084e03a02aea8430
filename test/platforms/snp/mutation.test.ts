import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import { ParseError } from '../../../src/core/errors.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { snpPlatform } from '../../../src/platforms/snp/index.js'
import { SNP_SIGNED_SIZE } from '../../../src/platforms/snp/report-layout.js'
import { bundleFromDir, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const platform = snpPlatform()
const crypto = createNodeCrypto()

/** Returns the verdict, or the ParseError code when the bytes do not parse. */
async function outcome(
  bytes: Uint8Array,
  context: Parameters<typeof platform.verify>[1],
): Promise<string> {
  let evidence: ReturnType<typeof platform.parse>
  try {
    evidence = platform.parse(bytes)
  } catch (error) {
    assert.ok(error instanceof ParseError, `parse threw ${String(error)}`)
    return error.code
  }
  return (await platform.verify(evidence, context)).verdict
}

const cases = corpusCases('amd-sev-snp').filter((c) => c.expect.expected.verdict === 'valid')

describe('snp mutations', () => {
  for (const testCase of cases) {
    const report = readCaseFile(testCase, 'report.bin')
    const context = {
      at: new Date(testCase.expect.verification_time ?? Date.now()),
      collateral: bundleFromDir(join(testCase.dir, 'certs')),
      crypto,
      cache: new VerificationCache(),
      allowDebug: true,
    }

    it(`${testCase.name}: every truncation is a ParseError`, async () => {
      for (let length = 0; length < report.length; length++) {
        const result = await outcome(report.subarray(0, length), context)
        assert.match(result, /^ERR_PARSE_/, `length ${length}`)
      }
    })

    it(`${testCase.name}: every flipped signed byte is rejected`, async () => {
      assert.equal(await outcome(report, context), 'valid')
      for (let offset = 0; offset < SNP_SIGNED_SIZE; offset++) {
        const mutated = report.slice()
        mutated[offset] = (mutated[offset] ?? 0) ^ 0x01
        const result = await outcome(mutated, context)
        assert.ok(
          result === 'invalid' || result.startsWith('ERR_PARSE_'),
          `offset ${offset}: ${result}`,
        )
      }
    })
  }
})
