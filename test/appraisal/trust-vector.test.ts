import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  emptyTrustVector,
  TRUST_CLAIMS,
  type TrustTier,
  tierOf,
  vectorTier,
} from '../../src/appraisal/trust-vector.js'

/** Boundaries of each tier, positive and negative. */
const TIERS: readonly [number, TrustTier][] = [
  [0, 'none'],
  [1, 'none'],
  [-1, 'none'],
  [2, 'affirming'],
  [31, 'affirming'],
  [-2, 'affirming'],
  [-32, 'affirming'],
  [32, 'warning'],
  [95, 'warning'],
  [-33, 'warning'],
  [-96, 'warning'],
  [96, 'contraindicated'],
  [127, 'contraindicated'],
  [-97, 'contraindicated'],
  [-128, 'contraindicated'],
]

describe('tierOf', () => {
  for (const [value, tier] of TIERS) {
    it(`puts ${value} in ${tier}`, () => {
      assert.equal(tierOf(value), tier)
    })
  }
})

describe('vectorTier', () => {
  it('is none for an empty vector', () => {
    assert.equal(vectorTier(emptyTrustVector()), 'none')
  })

  it('takes the most severe claim', () => {
    const vector = { ...emptyTrustVector(), hardware: 2, executables: 33, configuration: 3 }
    assert.equal(vectorTier(vector), 'warning')
  })

  it('names the eight AR4SI claims', () => {
    assert.deepEqual([...TRUST_CLAIMS].sort(), [
      'configuration',
      'executables',
      'file-system',
      'hardware',
      'instance-identity',
      'runtime-opaque',
      'sourced-data',
      'storage-opaque',
    ])
  })
})
