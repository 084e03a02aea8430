import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { appraiseSubmodules, type MaybeComposite } from '../../src/appraisal/submodules.js'
import type { Check, VerificationResult } from '../../src/core/types.js'

const at = new Date('2026-01-13T00:00:00Z')
const policy = { id: 'test:composite' }

function part(platform: string, failed?: Check): VerificationResult {
  return {
    platform,
    verdict: failed === undefined ? 'valid' : 'invalid',
    advisories: [],
    claims: { platform, measurement: 'aa', debug: false, raw: {} },
    checks: failed === undefined ? [] : [failed],
    verifiedAt: at.toISOString(),
  }
}

function composite(gpuFailure?: Check, binding: Check['status'] = 'pass'): MaybeComposite {
  const cpu = part('tdx')
  const gpu = part('nvidia', gpuFailure)
  const checks: Check[] = [
    { name: 'submod:cpu', status: 'pass', detail: 'valid' },
    gpuFailure === undefined
      ? { name: 'submod:gpu0', status: 'pass', detail: 'valid' }
      : { name: 'submod:gpu0', status: 'fail', detail: 'invalid', code: 'ERR_VERIFY_MEASUREMENT' },
    binding === 'fail'
      ? { name: 'nonce-binding', status: 'fail', detail: 'differs', code: 'ERR_VERIFY_BINDING' }
      : { name: 'nonce-binding', status: binding, detail: 'bound' },
  ]
  const verdict = gpuFailure !== undefined || binding === 'fail' ? 'invalid' : 'valid'
  return { ...cpu, verdict, checks, submods: { cpu, gpu0: gpu } }
}

const measurementFailure: Check = {
  name: 'measurements',
  status: 'fail',
  detail: 'differs',
  code: 'ERR_VERIFY_MEASUREMENT',
}

describe('appraiseSubmodules', () => {
  it('names a single result cpu0', () => {
    const results = appraiseSubmodules(part('sgx'), policy, { at })
    assert.deepEqual(Object.keys(results), ['cpu0'])
    assert.equal(results.cpu0?.status, 'affirming')
  })

  it('appraises each part by its label', () => {
    const results = appraiseSubmodules(composite(), policy, { at })
    assert.deepEqual(Object.keys(results), ['cpu', 'gpu0'])
    assert.equal(results.cpu?.platform, 'tdx')
    assert.equal(results.gpu0?.platform, 'nvidia')
    assert.equal(results.cpu?.status, 'affirming')
    assert.equal(results.gpu0?.status, 'affirming')
  })

  it('keeps a failed part to itself', () => {
    const results = appraiseSubmodules(composite(measurementFailure), policy, { at })
    assert.equal(results.cpu?.status, 'affirming')
    assert.equal(results.gpu0?.status, 'contraindicated')
    assert.equal(results.gpu0?.trustVector.executables, 96)
  })

  it('fails every part when the binding fails', () => {
    const results = appraiseSubmodules(composite(undefined, 'fail'), policy, { at })
    for (const label of ['cpu', 'gpu0']) {
      const verification = results[label]?.checks.find((check) => check.name === 'verification')
      assert.equal(verification?.status, 'fail', label)
      assert.match(verification?.detail ?? '', /nonce-binding/)
      assert.equal(results[label]?.status, 'contraindicated')
    }
  })

  it('leaves every part not-checked when the binding could not run', () => {
    const results = appraiseSubmodules(composite(undefined, 'skipped'), policy, { at })
    for (const label of ['cpu', 'gpu0']) {
      const verification = results[label]?.checks.find((check) => check.name === 'verification')
      assert.equal(verification?.status, 'not-checked', label)
    }
  })
})
