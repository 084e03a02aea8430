/**
 * The policy examples in docs/policy.md: each one is a valid policy, and the simulated TEE example
 * names the measurement that `confide demo` uses.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parsePolicy } from '../../src/appraisal/policy.js'
import { toHex } from '../../src/core/bytes.js'
import { DEMO_MEASUREMENT } from '../../src/demo/context.js'
import { repositoryRoot } from '../helpers/corpus.js'

const text = readFileSync(join(repositoryRoot, 'docs', 'policy.md'), 'utf8')
const blocks = [...text.matchAll(/```(?:yaml|json)\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')

describe('docs/policy.md', () => {
  it('has three examples', () => {
    assert.equal(blocks.length, 3)
  })

  for (const [index, block] of blocks.entries()) {
    it(`example ${index + 1} is a valid policy`, () => {
      const policy = parsePolicy(block)
      assert.ok(policy.id.length > 0)
    })
  }

  it('gives the demo measurement for the simulated TEE', () => {
    const sim = blocks.map((block) => parsePolicy(block)).find((p) => p.platforms?.[0] === 'sim')
    assert.deepEqual(sim?.referenceValues?.values?.[0]?.values, [toHex(DEMO_MEASUREMENT)])
  })
})
