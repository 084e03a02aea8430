/**
 * Trustee's sample TEE, on the sample evidence of Trustee's KBS exchange.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ParseError } from '../../../src/core/errors.js'
import { samplePlatform } from '../../../src/platforms/sim/index.js'
import { verifyEvidence } from '../../../src/verify.js'
import { interopRoot } from '../../helpers/corpus.js'
import { at, contextWith } from './helpers.js'

const dir = join(interopRoot, 'kbs', 'trustee-sample-tee-evidence')
const bytes = new Uint8Array(readFileSync(join(dir, 'sample-evidence.json')))
const expectFile = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as {
  expected: { verdict: string; claims: Record<string, unknown> }
}
/** The report data the expected verdict names: SHA-384 of the JCS runtime data. */
const digest = /= ([0-9a-f]{96})$/.exec(expectFile.expected.verdict)?.[1] ?? ''
const platform = samplePlatform()

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

describe('sample platform', () => {
  it('sniffs the sample evidence', () => {
    assert.equal(platform.sniff(bytes), true)
  })

  it('reports the claims Trustee reports', async () => {
    const result = await platform.verify(platform.parse(bytes), contextWith())
    assert.deepEqual(result.claims.raw, expectFile.expected.claims)
    assert.equal(result.claims.platform, 'sample')
    assert.equal(result.claims.reportData, digest)
    assert.equal(result.claims.debug, false)
  })

  it('is indeterminate because nothing signs it', async () => {
    const result = await platform.verify(platform.parse(bytes), contextWith())
    assert.equal(result.verdict, 'indeterminate')
    const signature = result.checks.find((c) => c.name === 'signature')
    assert.equal(signature?.status, 'skipped')
    assert.equal(result.checks.find((c) => c.name === 'simulated')?.status, 'pass')
  })

  it('passes the report-data check for the digest', async () => {
    assert.equal(digest.length, 96)
    const result = await platform.verify(
      platform.parse(bytes),
      contextWith({ expectedReportData: fromHex(digest) }),
    )
    assert.equal(result.checks.find((c) => c.name === 'report-data')?.status, 'pass')
    assert.equal(result.verdict, 'indeterminate')
  })

  it('fails the report-data check for another value', async () => {
    const other = fromHex(digest)
    other[0] = (other[0] ?? 0) ^ 0x01
    for (const expectedReportData of [other, fromHex(`${digest}00`), new Uint8Array(64)]) {
      const result = await platform.verify(
        platform.parse(bytes),
        contextWith({ expectedReportData }),
      )
      const check = result.checks.find((c) => c.name === 'report-data')
      assert.equal(check?.code, 'ERR_VERIFY_REPORT_DATA')
      assert.equal(result.verdict, 'invalid')
    }
  })

  it('is detected through verifyEvidence', async () => {
    const result = await verifyEvidence(bytes, { at })
    assert.equal(result.platform, 'sample')
  })

  it('keeps init_data in the claims', async () => {
    const text = '{"svn":"2","report_data":"","init_data":{"toml":"x"}}'
    const evidence = platform.parse(new TextEncoder().encode(text))
    const result = await platform.verify(evidence, contextWith())
    assert.deepEqual(result.claims.raw.init_data, { toml: 'x' })
    assert.equal(result.claims.raw.svn, '2')
  })

  it('rejects malformed evidence with ParseError', () => {
    const cases = [
      '{"svn":1,"report_data":""}',
      '{"svn":"1"}',
      '{"svn":"1","report_data":"not base64!"}',
      '{"svn":"1","report_data":"AAA"}',
      '{"svn":"1","report_data":"","tee":"sample"}',
      '["svn","report_data"]',
    ]
    for (const value of cases) {
      assert.throws(() => platform.parse(new TextEncoder().encode(value)), ParseError, value)
    }
  })
})
