import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { PLAIN_FILE_SYSTEM } from '../../src/attest/attester.js'
import { createGramineAttester, probeGramineType } from '../../src/attest/gramine.js'
import { isConfideError } from '../../src/core/errors.js'
import { corpusCases, readCaseFile } from '../helpers/corpus.js'
import { fakeGramine, scratchRoot } from './fake-tee.js'
import { verifyFile } from './verify-cli.js'

const sgxCase = corpusCases('intel-sgx').find((c) => c.name === 'sgx-v3-dcapqvl-config-swhardening')

describe('createGramineAttester', () => {
  it('replays an SGX quote that confide verify accepts', async () => {
    assert.ok(sgxCase)
    const quote = readCaseFile(sgxCase, 'quote.bin')
    const root = scratchRoot()
    const folder = fakeGramine(root, 'dcap', quote)
    const attester = await createGramineAttester({ root, fileSystem: PLAIN_FILE_SYSTEM })
    assert.equal(attester.platform, 'sgx')
    assert.equal(attester.name, 'gramine')

    const evidence = await attester.attest(new Uint8Array([1, 2, 3]))
    assert.deepEqual(evidence, quote)
    const written = new Uint8Array(readFileSync(join(folder, 'user_report_data')))
    assert.equal(written.length, 64)
    assert.deepEqual(written.subarray(0, 4), new Uint8Array([1, 2, 3, 0]))

    const file = join(root, 'quote.bin')
    writeFileSync(file, evidence)
    const { expected, verification_time: at } = sgxCase.expect
    const collateral = ['--collateral', join(sgxCase.dir, 'collateral')]
    const result = verifyFile(file, [...collateral, '--at', at ?? ''])
    assert.equal(result.platform, 'sgx')
    assert.equal(result.verdict, expected.verdict)
    assert.equal(result.tcbStatus, expected.tcb_status)
  })

  it('serializes concurrent requests', async () => {
    const root = scratchRoot()
    fakeGramine(root, 'dcap', new Uint8Array([9]))
    const order: string[] = []
    const fileSystem = {
      ...PLAIN_FILE_SYSTEM,
      writeFile: async (path: string, data: Uint8Array) => {
        order.push(`write ${data[0]}`)
        await PLAIN_FILE_SYSTEM.writeFile(path, data)
      },
      readFile: async (path: string) => {
        if (path.endsWith('quote')) order.push('read')
        return PLAIN_FILE_SYSTEM.readFile(path)
      },
    }
    const attester = await createGramineAttester({ root, fileSystem })
    await Promise.all([attester.attest(new Uint8Array([1])), attester.attest(new Uint8Array([2]))])
    assert.deepEqual(order, ['write 1', 'read', 'write 2', 'read'])
  })

  it('rejects the epid attestation type', async () => {
    const root = scratchRoot()
    fakeGramine(root, 'epid')
    await assert.rejects(createGramineAttester({ root }), (e) =>
      isConfideError(e, 'ERR_ATTEST_UNSUPPORTED'),
    )
  })

  it('reports type none as unavailable', async () => {
    const root = scratchRoot()
    fakeGramine(root, 'none')
    await assert.rejects(createGramineAttester({ root }), (e) =>
      isConfideError(e, 'ERR_ATTEST_UNAVAILABLE'),
    )
    assert.equal(await probeGramineType({ root: scratchRoot() }), undefined)
  })

  it('rejects an empty quote', async () => {
    const root = scratchRoot()
    fakeGramine(root, 'dcap', new Uint8Array(0))
    const attester = await createGramineAttester({ root })
    await assert.rejects(attester.attest(new Uint8Array(1)), (e) =>
      isConfideError(e, 'ERR_ATTEST_FAILED'),
    )
  })
})
