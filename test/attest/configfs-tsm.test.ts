import assert from 'node:assert/strict'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createTsmAttester } from '../../src/attest/configfs-tsm.js'
import { isConfideError } from '../../src/core/errors.js'
import { parseSnpEvidence } from '../../src/platforms/snp/index.js'
import { type CorpusCase, corpusCases, readCaseFile } from '../helpers/corpus.js'
import { certificateTable, FakeTsm, pemCertificates, scratchRoot } from './fake-tee.js'
import { verifyFile } from './verify-cli.js'

const REPORT_DATA = new Uint8Array(32).fill(0xab)
const DEBUG_BIT = 19n

function corpusCase(platform: string, name: string): CorpusCase {
  const found = corpusCases(platform).find((c) => c.name === name)
  assert.ok(found, `corpus case ${name} is missing`)
  return found
}

/** Builds the certificate table a host would supply beside the case's report. */
function snpTable(testCase: CorpusCase): Uint8Array {
  const certs = readdirSync(join(testCase.dir, 'certs'))
  const signer = certs.includes('vlek.der') ? 'vlek' : 'vcek'
  const chainFile = certs.includes('asvk_ark.pem') ? 'asvk_ark.pem' : 'ask_ark.pem'
  const [ask, ark] = pemCertificates(join(testCase.dir, 'certs', chainFile))
  assert.ok(ask !== undefined, 'ASK certificate')
  assert.ok(ark !== undefined, 'ARK certificate')
  return certificateTable([
    [signer, readCaseFile(testCase, `certs/${signer}.der`)],
    ['ask', ask],
    ['ark', ark],
  ])
}

function writeScratch(root: string, bytes: Uint8Array): string {
  const path = join(root, 'evidence.bin')
  writeFileSync(path, bytes)
  return path
}

describe('createTsmAttester', () => {
  it('replays a TDX quote that confide verify accepts', async () => {
    const testCase = corpusCase('intel-tdx', 'tdx-v4-tinfoil-full-collateral-uptodate')
    const quote = readCaseFile(testCase, 'quote.bin')
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'tdx_guest', outblob: quote })
    const attester = await createTsmAttester({ root, fileSystem: kernel })
    assert.equal(attester.platform, 'tdx')
    assert.equal(attester.name, 'configfs-tsm')

    const evidence = await attester.attest(REPORT_DATA)
    assert.deepEqual(evidence, quote)
    const padded = new Uint8Array(64)
    padded.set(REPORT_DATA)
    assert.deepEqual(kernel.inblobs, [padded])
    assert.deepEqual(readdirSync(kernel.folder), [])

    const expected = testCase.expect.expected
    const file = writeScratch(root, evidence)
    const collateral = ['--collateral', join(testCase.dir, 'collateral')]
    const result = verifyFile(file, [...collateral, '--at', '2026-01-13T00:00:00Z'])
    assert.equal(result.platform, 'tdx')
    assert.equal(result.verdict, expected.verdict.split(' ')[0])
    assert.equal(result.tcbStatus, expected.tcb_status)
    assert.equal(result.code, 0)
  })

  const snpCases = [
    'snp-v3-milan-vlek-trustee',
    'snp-v5-milan-vcek-gcp-teekit-vmpl0',
    'snp-v2-milan-vcek-trustee-tampered-byte42',
  ]
  for (const name of snpCases) {
    it(`writes ${name} as a report with its certificate table`, async () => {
      const testCase = corpusCase('amd-sev-snp', name)
      const report = readCaseFile(testCase, 'report.bin')
      const table = snpTable(testCase)
      const root = scratchRoot()
      const kernel = new FakeTsm(root, {
        provider: 'sev_guest',
        outblob: report,
        auxblob: table,
        privlevelFloor: 0,
      })
      const attester = await createTsmAttester({ root, fileSystem: kernel })
      assert.equal(attester.platform, 'snp')

      const evidence = await attester.attest(REPORT_DATA)
      const parsed = parseSnpEvidence(evidence)
      assert.equal(parsed.container, 'extended-report')
      assert.equal(parsed.certificates.length, 3)
      assert.deepEqual(readdirSync(kernel.folder), [])

      const policy = BigInt(Number(testCase.expect.claims?.policy ?? 0))
      const debug = ((policy >> DEBUG_BIT) & 1n) === 1n ? ['--allow-debug'] : []
      const at = testCase.expect.verification_time ?? new Date().toISOString()
      const result = verifyFile(writeScratch(root, evidence), ['--at', at, ...debug])
      const expected = testCase.expect.expected.verdict.split(':')[0]
      assert.equal(result.platform, 'snp')
      assert.equal(result.verdict, expected)
    })
  }

  it('writes the bare report when the table is empty', async () => {
    const report = readCaseFile(
      corpusCase('amd-sev-snp', 'snp-v3-milan-vlek-trustee'),
      'report.bin',
    )
    const root = scratchRoot()
    const kernel = new FakeTsm(root, {
      provider: 'sev_guest',
      outblob: report,
      auxblob: new Uint8Array(24),
    })
    const attester = await createTsmAttester({ root, fileSystem: kernel })
    assert.deepEqual(await attester.attest(REPORT_DATA), report)
  })

  it('writes privlevel at or above the floor', async () => {
    const root = scratchRoot()
    const outblob = new Uint8Array(1184)
    const kernel = new FakeTsm(root, { provider: 'sev_guest', outblob, privlevelFloor: 1 })
    const attester = await createTsmAttester({ root, fileSystem: kernel, privlevel: 2 })
    assert.deepEqual(await attester.attest(REPORT_DATA), outblob)
    assert.deepEqual(kernel.privlevels, ['2\n'])
    assert.equal(kernel.entriesCreated, 2)
  })

  it('rejects privlevel below the floor', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'sev_guest', privlevelFloor: 2 })
    const attester = await createTsmAttester({ root, fileSystem: kernel, privlevel: 1 })
    await assert.rejects(attester.attest(REPORT_DATA), (e) =>
      isConfideError(e, 'ERR_CONFIG_INVALID'),
    )
    assert.deepEqual(readdirSync(kernel.folder), [])
  })

  it('rejects privlevel for a provider without one', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'tdx_guest', outblob: new Uint8Array(8) })
    const attester = await createTsmAttester({ root, fileSystem: kernel, privlevel: 0 })
    await assert.rejects(attester.attest(REPORT_DATA), (e) =>
      isConfideError(e, 'ERR_ATTEST_UNSUPPORTED'),
    )
  })

  it('rejects privlevel outside 0 to 3', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'sev_guest', privlevelFloor: 0 })
    for (const privlevel of [4, -1, 1.5]) {
      await assert.rejects(createTsmAttester({ root, fileSystem: kernel, privlevel }), (e) =>
        isConfideError(e, 'ERR_CONFIG_INVALID'),
      )
    }
  })

  it('retries when another writer raced once', async () => {
    const root = scratchRoot()
    const outblob = new Uint8Array([1, 2, 3])
    const racer = (write: number) => (write === 1 ? 1 : 0)
    const kernel = new FakeTsm(root, { provider: 'tdx_guest', outblob, racer })
    const attester = await createTsmAttester({ root, fileSystem: kernel })
    assert.deepEqual(await attester.attest(REPORT_DATA), outblob)
    assert.equal(kernel.inblobs.length, 2)
    assert.deepEqual(readdirSync(kernel.folder), [])
  })

  it('gives up when other writers keep racing', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, {
      provider: 'tdx_guest',
      outblob: new Uint8Array([1]),
      racer: () => 1,
    })
    const attester = await createTsmAttester({ root, fileSystem: kernel, maxAttempts: 3 })
    await assert.rejects(attester.attest(REPORT_DATA), (e) => isConfideError(e, 'ERR_ATTEST_RACE'))
    assert.equal(kernel.inblobs.length, 3)
    assert.deepEqual(readdirSync(kernel.folder), [])
  })

  it('removes the entry when reading outblob fails', async () => {
    const root = scratchRoot()
    class FailingKernel extends FakeTsm {
      override async readFile(path: string): Promise<Uint8Array> {
        if (path.endsWith('outblob')) throw Object.assign(new Error('EIO'), { code: 'EIO' })
        return super.readFile(path)
      }
    }
    const kernel = new FailingKernel(root, { provider: 'tdx_guest' })
    const attester = await createTsmAttester({ root, fileSystem: kernel })
    await assert.rejects(attester.attest(REPORT_DATA), (e) =>
      isConfideError(e, 'ERR_ATTEST_FAILED'),
    )
    assert.deepEqual(readdirSync(kernel.folder), [])
  })

  it('rejects an empty outblob', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'tdx_guest' })
    const attester = await createTsmAttester({ root, fileSystem: kernel })
    await assert.rejects(attester.attest(REPORT_DATA), (e) =>
      isConfideError(e, 'ERR_ATTEST_FAILED'),
    )
  })

  it('rejects report data over 64 bytes', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'tdx_guest', outblob: new Uint8Array(1) })
    const attester = await createTsmAttester({ root, fileSystem: kernel })
    await assert.rejects(attester.attest(new Uint8Array(65)), (e) =>
      isConfideError(e, 'ERR_CONFIG_INVALID'),
    )
    assert.equal(kernel.entriesCreated, 1)
  })

  it('rejects an unknown provider', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'arm_cca_guest' })
    await assert.rejects(createTsmAttester({ root, fileSystem: kernel }), (e) =>
      isConfideError(e, 'ERR_ATTEST_UNSUPPORTED'),
    )
  })

  it('reports no provider as unavailable', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, {})
    await assert.rejects(createTsmAttester({ root, fileSystem: kernel }), (e) =>
      isConfideError(e, 'ERR_ATTEST_UNAVAILABLE'),
    )
    await assert.rejects(createTsmAttester({ root: scratchRoot() }), (e) =>
      isConfideError(e, 'ERR_ATTEST_UNAVAILABLE'),
    )
  })
})
