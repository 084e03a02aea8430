import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPlatformRegistry } from '../../src/core/registry.js'
import { sgxPlatform, tdxPlatform } from '../../src/platforms/dcap/index.js'
import { corpusCases, readCaseFile } from '../helpers/corpus.js'

describe('createPlatformRegistry', () => {
  const registry = createPlatformRegistry([sgxPlatform(), tdxPlatform()])

  it('detects SGX and TDX quotes from their bytes', () => {
    for (const [folder, name] of [
      ['intel-sgx', 'sgx'],
      ['intel-tdx', 'tdx'],
    ] as const) {
      for (const testCase of corpusCases(folder)) {
        assert.equal(registry.detect(readCaseFile(testCase, 'quote.bin')).name, name, testCase.name)
      }
    }
  })

  it('rejects bytes no platform recognizes', () => {
    assert.throws(() => registry.detect(new Uint8Array(100)), { code: 'ERR_PARSE_UNKNOWN_FORMAT' })
    assert.throws(() => registry.detect(new Uint8Array()), { code: 'ERR_PARSE_UNKNOWN_FORMAT' })
  })

  it('rejects an unknown platform name', () => {
    assert.throws(() => registry.get('sev'), { code: 'ERR_CONFIG_UNKNOWN_PLATFORM' })
  })

  it('rejects a platform registered twice', () => {
    assert.throws(() => createPlatformRegistry([sgxPlatform(), sgxPlatform()]), {
      code: 'ERR_CONFIG_INVALID',
    })
  })
})
