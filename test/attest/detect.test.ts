import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createAttester, detectAttester } from '../../src/attest/detect.js'
import { isConfideError } from '../../src/core/errors.js'
import { loadSimKey } from '../../src/platforms/sim/dev-key.js'
import { FakeTsm, fakeGramine, scratchRoot } from './fake-tee.js'

describe('detectAttester', () => {
  it('picks configfs-tsm first', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, { provider: 'tdx_guest', outblob: new Uint8Array(1) })
    fakeGramine(root, 'dcap', new Uint8Array(1))
    const attester = await detectAttester({ root, fileSystem: kernel })
    assert.equal(attester.name, 'configfs-tsm')
  })

  it('passes over configfs-tsm without a provider', async () => {
    const root = scratchRoot()
    const kernel = new FakeTsm(root, {})
    fakeGramine(root, 'dcap', new Uint8Array(1))
    const attester = await detectAttester({ root, fileSystem: kernel })
    assert.equal(attester.name, 'gramine')
  })

  it('rejects a machine without a TEE', async () => {
    const root = scratchRoot()
    fakeGramine(root, 'none')
    await assert.rejects(detectAttester({ root }), (error) => {
      assert.ok(isConfideError(error, 'ERR_ATTEST_UNAVAILABLE'))
      assert.match(error.message, /--attester sim/)
      assert.match(error.message, /CONFIDE_ATTESTER=sim/)
      return true
    })
  })

  it('uses the simulated TEE only when allowed', async () => {
    const root = scratchRoot()
    const simKey = await loadSimKey({ path: join(root, 'sim-key.pem') })
    const attester = await detectAttester({ root, allowSim: true, simKey })
    assert.equal(attester.platform, 'sim')
    const evidence = await attester.attest(new Uint8Array([7]))
    const text = new TextDecoder().decode(evidence)
    assert.match(text, /"format":"confide-sim\/1"/)
  })
})

describe('createAttester', () => {
  it('rejects an unknown name', async () => {
    await assert.rejects(createAttester('nitro'), (e) => isConfideError(e, 'ERR_CONFIG_INVALID'))
  })
})
