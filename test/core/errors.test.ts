import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  CollateralError,
  ConfigError,
  ERROR_CODES,
  ParseError,
  PolicyError,
  VerificationError,
} from '../../src/core/errors.js'
import { repositoryRoot } from '../helpers/corpus.js'

describe('error codes', () => {
  const codes = Object.keys(ERROR_CODES)

  it('are each documented once in docs/errors.md', () => {
    const doc = readFileSync(join(repositoryRoot, 'docs', 'errors.md'), 'utf8')
    const documented = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((match) => match[1])
    assert.deepEqual([...documented].sort(), [...codes].sort())
  })

  it('follow ERR_<STAGE>_<WHAT>', () => {
    for (const code of codes)
      assert.match(
        code,
        /^ERR_(PARSE|VERIFY|COLLATERAL|POLICY|CONFIG|ATTEST|HTTP|KBS|OUTPUT)_[A-Z_]+$/,
      )
  })

  it('set the class name and keep the code', () => {
    const errors = [
      new ParseError('ERR_PARSE_TRUNCATED', 'm', { structure: 'S' }),
      new VerificationError('ERR_VERIFY_SIGNATURE', 'm'),
      new CollateralError('ERR_COLLATERAL_EXPIRED', 'm'),
      new PolicyError('ERR_POLICY_INVALID', 'm'),
      new ConfigError('ERR_CONFIG_INVALID', 'm'),
    ]
    assert.deepEqual(
      errors.map((error) => [error.name, error.code]),
      [
        ['ParseError', 'ERR_PARSE_TRUNCATED'],
        ['VerificationError', 'ERR_VERIFY_SIGNATURE'],
        ['CollateralError', 'ERR_COLLATERAL_EXPIRED'],
        ['PolicyError', 'ERR_POLICY_INVALID'],
        ['ConfigError', 'ERR_CONFIG_INVALID'],
      ],
    )
  })
})
