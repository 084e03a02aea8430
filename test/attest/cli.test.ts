/**
 * `confide attest` as a user runs it, against fake TEE folders given with the hidden `--root`.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { corpusCases, readCaseFile } from '../helpers/corpus.js'
import { fakeGramine, scratchRoot } from './fake-tee.js'
import { runCli, verifyFile } from './verify-cli.js'

const REPORT_DATA = 'c0ffee'.padEnd(128, '5')

describe('confide attest', () => {
  it('writes a Gramine quote and binds the report data', () => {
    const sgxCase = corpusCases('intel-sgx').find((c) => c.name === 'sgx-v3-occlum-quote-only')
    assert.ok(sgxCase)
    const quote = readCaseFile(sgxCase, 'quote.bin')
    const root = scratchRoot()
    const folder = fakeGramine(root, 'dcap', quote)
    const out = join(root, 'evidence.bin')
    const run = runCli(['attest', '--report-data', REPORT_DATA, '--out', out, '--root', root])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /sgx evidence from gramine/)
    assert.deepEqual(new Uint8Array(readFileSync(out)), quote)
    assert.equal(readFileSync(join(folder, 'user_report_data')).toString('hex'), REPORT_DATA)
  })

  it('writes simulated evidence that confide verify accepts', () => {
    const root = scratchRoot()
    const out = join(root, 'sim.json')
    const env = { CONFIDE_SIM_KEY: join(root, 'sim-key.pem') }
    const args = ['attest', '--report-data', REPORT_DATA, '--out', out, '--root', root]
    const run = runCli([...args, '--attester', 'sim'], env)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /proves nothing about hardware/)

    const result = verifyFile(out, ['--report-data', REPORT_DATA], env)
    assert.equal(result.platform, 'sim')
    assert.equal(result.verdict, 'valid')
    const wrong = verifyFile(out, ['--report-data', '00'], env)
    assert.equal(wrong.verdict, 'invalid')
  })

  it('takes the simulated TEE from CONFIDE_ATTESTER', () => {
    const root = scratchRoot()
    const env = { CONFIDE_SIM_KEY: join(root, 'sim-key.pem'), CONFIDE_ATTESTER: 'sim' }
    const run = runCli(['attest', '--report-data', '01', '--out', '-', '--root', root], env)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /confide-sim\/1/)
  })

  it('exits 2 with a hint on a machine without a TEE', () => {
    const root = scratchRoot()
    const run = runCli(
      ['attest', '--report-data', '01', '--out', join(root, 'x'), '--root', root],
      {
        CONFIDE_ATTESTER: '',
      },
    )
    assert.equal(run.code, 2)
    assert.match(run.stderr, /ERR_ATTEST_UNAVAILABLE/)
    assert.match(run.stderr, /--attester sim/)
  })

  it('exits 2 for report data over 64 bytes', () => {
    const root = scratchRoot()
    const env = { CONFIDE_SIM_KEY: join(root, 'sim-key.pem') }
    const args = ['attest', '--report-data', '00'.repeat(65), '--out', '-', '--attester', 'sim']
    const run = runCli(args, env)
    assert.equal(run.code, 2)
    assert.match(run.stderr, /ERR_CONFIG_INVALID/)
  })

  it('exits 2 for empty report data', () => {
    const root = scratchRoot()
    const env = { CONFIDE_SIM_KEY: join(root, 'sim-key.pem') }
    for (const value of ['', '0x', ' ']) {
      const args = ['attest', '--report-data', value, '--out', '-', '--attester', 'sim']
      const run = runCli(args, env)
      assert.equal(run.code, 2, JSON.stringify(value))
      assert.match(run.stderr, /--report-data is empty/)
    }
  })
})
