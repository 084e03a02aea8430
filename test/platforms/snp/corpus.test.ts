import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import type { ClaimValue, VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { snpPlatform } from '../../../src/platforms/snp/index.js'
import { bundleFromDir, type CorpusCase, corpusCases, readCaseFile } from '../../helpers/corpus.js'

const crypto = createNodeCrypto()
const platform = snpPlatform()
const DEBUG_BIT = 19n

/** Claim names of expect.json whose camelCase differs from confide's raw claim name. */
const RENAMED: Readonly<Record<string, string>> = { keyInfoFlags: 'keyInfo' }

function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())
}

/**
 * Brings a claim to a comparable form: objects by their `bytes` (TCB) or `value` (bit fields),
 * `0x` hex text and numbers as bigint, other text as is.
 */
function comparable(value: ClaimValue | undefined): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as { readonly [key: string]: ClaimValue }
    return comparable(record.bytes ?? record.value)
  }
  if (typeof value === 'number') return BigInt(value)
  if (typeof value === 'string' && value.startsWith('0x')) return BigInt(value)
  return value
}

async function verifyCase(testCase: CorpusCase, allowDebug = false): Promise<VerificationResult> {
  const bytes = readCaseFile(testCase, 'report.bin')
  assert.equal(platform.sniff(bytes), true, 'sniff rejects the report')
  const time = testCase.expect.verification_time
  return platform.verify(platform.parse(bytes), {
    at: time === null ? new Date() : new Date(time),
    collateral: bundleFromDir(join(testCase.dir, 'certs')),
    crypto,
    cache: new VerificationCache(),
    allowDebug,
  })
}

function failedChecks(result: VerificationResult): string[] {
  return result.checks.filter((c) => c.status === 'fail').map((c) => c.name)
}

/** Returns the checks that the first clause of an "invalid: ..." reason points at. */
function checksNamedBy(reason: string): string[] {
  const clause = reason.split(';')[0] ?? ''
  const names: string[] = []
  if (/signature/i.test(clause)) names.push('report-signature')
  if (/chain/i.test(clause)) names.push('certificate-chain')
  if (/SPL|reported_tcb/i.test(clause)) names.push('reported-tcb')
  return names
}

describe('snp corpus', () => {
  for (const testCase of corpusCases('amd-sev-snp')) {
    const expected = testCase.expect.expected.verdict
    const policy = BigInt(Number(testCase.expect.claims?.policy ?? 0))
    const debug = ((policy >> DEBUG_BIT) & 1n) === 1n

    it(`${testCase.name} gives ${expected.split(':')[0]}`, async () => {
      // A report whose policy allows debugging is invalid unless debug is allowed by name, and
      // the corpus states its verdict for a verifier that allows it.
      const result = await verifyCase(testCase, debug)
      const failed = failedChecks(result)
      if (expected === 'valid') {
        assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
      } else {
        assert.match(expected, /^invalid/)
        assert.equal(result.verdict, 'invalid')
        for (const name of checksNamedBy(expected)) assert.ok(failed.includes(name), name)
      }
    })

    if (debug) {
      it(`${testCase.name} is invalid without allowDebug`, async () => {
        const result = await verifyCase(testCase)
        assert.equal(result.verdict, 'invalid')
        assert.deepEqual(failedChecks(result), ['debug'])
      })
    }

    it(`${testCase.name} gives the expected claims`, async () => {
      const result = await verifyCase(testCase, true)
      const claims = testCase.expect.claims ?? {}
      assert.ok(Object.keys(claims).length > 0)
      for (const [key, value] of Object.entries(claims)) {
        const name = RENAMED[camelCase(key)] ?? camelCase(key)
        assert.ok(name in result.claims.raw, `claim ${name} (${key}) is missing`)
        assert.deepEqual(
          comparable(result.claims.raw[name]),
          comparable(value as ClaimValue),
          `claim ${name} (${key})`,
        )
      }
      assert.equal(result.claims.measurement, claims.measurement)
      assert.equal(result.claims.reportData, claims.report_data)
      assert.equal(result.claims.platformId, claims.chip_id)
      assert.equal(result.claims.debug, debug)
    })
  }
})
