/**
 * Policy documents: JSON and YAML forms, the schema, and every way a policy can be malformed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { validateJsonSchema } from '../../src/appraisal/json-schema.js'
import { DEFAULT_POLICY, parsePolicy, validatePolicy } from '../../src/appraisal/policy.js'
import { POLICY_SCHEMA, REFERENCE_VALUES_SCHEMA } from '../../src/appraisal/schemas.js'
import { PolicyError } from '../../src/core/errors.js'

const FULL_POLICY = {
  id: 'https://example.com/policy/1',
  platforms: ['tdx', 'snp'],
  allowSimulated: false,
  allowDebug: false,
  tcb: {
    statuses: ['UpToDate', 'SWHardeningNeeded'],
    advisories: ['INTEL-SA-00615'],
    minimum: { pceSvn: 13, sgxComponents: [3, 3, 2, 2], snp: 22 },
  },
  reportData: 'ABCDEF',
  referenceValues: {
    require: ['measurement', 'raw.rtmr1'],
    values: [
      {
        platform: 'tdx',
        claim: 'raw.rtmr1',
        values: ['AA'],
        notAfter: '2027-01-01T00:00:00Z',
      },
    ],
  },
  rules: [
    { name: 'owner-zero', expression: "claims.raw.mrOwner == '00'", trustClaim: 'configuration' },
  ],
}

const YAML_POLICY = `
id: yaml-policy
allowDebug: false
tcb:
  statuses: [UpToDate]
  minimum:
    snp: 22
referenceValues:
  require: [measurement]
rules:
  - name: not-debug
    expression: "!claims.debug"
`

/** Malformed policies and a word their error must contain. */
const MALFORMED: readonly { name: string; policy: unknown; mentions: string }[] = [
  { name: 'no id', policy: {}, mentions: '/id' },
  { name: 'empty id', policy: { id: '' }, mentions: '/id' },
  { name: 'not an object', policy: ['id'], mentions: 'object' },
  { name: 'unknown field', policy: { id: 'p', allowdebug: true }, mentions: '/allowdebug' },
  {
    name: 'allowDebug not boolean',
    policy: { id: 'p', allowDebug: 'no' },
    mentions: '/allowDebug',
  },
  {
    name: 'allowSimulated not boolean',
    policy: { id: 'p', allowSimulated: 1 },
    mentions: '/allowSimulated',
  },
  {
    name: 'platforms repeated',
    policy: { id: 'p', platforms: ['tdx', 'tdx'] },
    mentions: '/platforms',
  },
  { name: 'platforms not a list', policy: { id: 'p', platforms: 'tdx' }, mentions: '/platforms' },
  {
    name: 'unknown TCB status',
    policy: { id: 'p', tcb: { statuses: ['UpToDat'] } },
    mentions: '/tcb/statuses/0',
  },
  {
    name: 'advisory not text',
    policy: { id: 'p', tcb: { advisories: [615] } },
    mentions: '/tcb/advisories/0',
  },
  {
    name: 'minimum negative',
    policy: { id: 'p', tcb: { minimum: { snp: -1 } } },
    mentions: '/tcb/minimum/snp',
  },
  {
    name: 'minimum list item over 255',
    policy: { id: 'p', tcb: { minimum: { teeTcbSvn: [256] } } },
    mentions: '/tcb/minimum/teeTcbSvn',
  },
  {
    name: 'minimum bad component name',
    policy: { id: 'p', tcb: { minimum: { 'a b': 1 } } },
    mentions: '/tcb/minimum',
  },
  {
    name: 'unknown tcb field',
    policy: { id: 'p', tcb: { status: ['UpToDate'] } },
    mentions: '/tcb/status',
  },
  { name: 'report data not hex', policy: { id: 'p', reportData: 'xyz' }, mentions: '/reportData' },
  {
    name: 'report data odd length',
    policy: { id: 'p', reportData: 'abc' },
    mentions: '/reportData',
  },
  {
    name: 'report data too long',
    policy: { id: 'p', reportData: 'aa'.repeat(65) },
    mentions: '/reportData',
  },
  {
    name: 'required claim bad path',
    policy: { id: 'p', referenceValues: { require: ['raw..x'] } },
    mentions: '/referenceValues/require/0',
  },
  {
    name: 'reference value without values',
    policy: {
      id: 'p',
      referenceValues: { values: [{ platform: 'tdx', claim: 'measurement', values: [] }] },
    },
    mentions: '/referenceValues/values/0/values',
  },
  {
    name: 'reference value with a bad time',
    policy: {
      id: 'p',
      referenceValues: {
        values: [
          {
            platform: 'tdx',
            claim: 'measurement',
            values: ['aa'],
            notAfter: '2027-13-45T00:00:00Z',
          },
        ],
      },
    },
    mentions: 'notAfter',
  },
  {
    name: 'reference value time without zone',
    policy: {
      id: 'p',
      referenceValues: {
        values: [
          {
            platform: 'tdx',
            claim: 'measurement',
            values: ['aa'],
            notAfter: '2027-01-01T00:00:00',
          },
        ],
      },
    },
    mentions: '/notAfter',
  },
  {
    name: 'rule without expression',
    policy: { id: 'p', rules: [{ name: 'r' }] },
    mentions: '/rules/0/expression',
  },
  {
    name: 'rule that does not compile',
    policy: { id: 'p', rules: [{ name: 'r', expression: 'claims.debug ==' }] },
    mentions: 'rule r',
  },
  {
    name: 'rules with one name',
    policy: {
      id: 'p',
      rules: [
        { name: 'r', expression: 'true' },
        { name: 'r', expression: 'false' },
      ],
    },
    mentions: 'two rules',
  },
  {
    name: 'rule with unknown trust claim',
    policy: { id: 'p', rules: [{ name: 'r', expression: 'true', trustClaim: 'firmware' }] },
    mentions: '/rules/0/trustClaim',
  },
]

describe('parsePolicy', () => {
  it('reads a JSON policy with every field', () => {
    const policy = parsePolicy(JSON.stringify(FULL_POLICY))
    assert.equal(policy.id, FULL_POLICY.id)
    assert.deepEqual(policy.tcb, FULL_POLICY.tcb)
    assert.deepEqual(policy.referenceValues?.values?.[0]?.values, ['aa'])
    assert.deepEqual(policy.referenceValues?.values?.[0]?.provenance, { source: 'policy' })
  })

  it('reads a YAML policy', () => {
    const policy = parsePolicy(YAML_POLICY)
    assert.equal(policy.id, 'yaml-policy')
    assert.deepEqual(policy.tcb?.statuses, ['UpToDate'])
    assert.equal(policy.rules?.[0]?.expression, '!claims.debug')
  })

  it('rejects text that is neither JSON nor YAML', () => {
    assert.throws(() => parsePolicy('id: [unclosed'), { code: 'ERR_POLICY_INVALID' })
  })

  it('rejects duplicate keys', () => {
    assert.throws(() => parsePolicy('{"id": "a", "id": "b"}'), { code: 'ERR_POLICY_INVALID' })
  })

  it('rejects a YAML scalar', () => {
    assert.throws(() => parsePolicy('just text'), { code: 'ERR_POLICY_INVALID' })
  })
})

describe('validatePolicy', () => {
  it('accepts the default policy', () => {
    assert.deepEqual(validatePolicy(DEFAULT_POLICY), DEFAULT_POLICY)
  })

  it('keeps the default policy strict', () => {
    assert.equal(DEFAULT_POLICY.allowDebug, false)
    assert.equal(DEFAULT_POLICY.allowSimulated, false)
    assert.deepEqual(DEFAULT_POLICY.tcb?.statuses, ['UpToDate'])
    assert.deepEqual(DEFAULT_POLICY.referenceValues?.require, ['measurement'])
  })

  for (const testCase of MALFORMED) {
    it(`rejects ${testCase.name}`, () => {
      assert.throws(
        () => validatePolicy(testCase.policy),
        (error: unknown) => {
          assert.ok(error instanceof PolicyError, String(error))
          assert.equal(error.code, 'ERR_POLICY_INVALID')
          assert.ok(error.message.includes(testCase.mentions), error.message)
          return true
        },
      )
    })
  }
})

describe('validateJsonSchema', () => {
  it('documents every policy field', () => {
    for (const [name, field] of Object.entries(POLICY_SCHEMA.properties ?? {}))
      assert.ok(field.description !== undefined, `${name} has a description`)
  })

  it('says what absent means for every optional policy field', () => {
    const optional = Object.entries(POLICY_SCHEMA.properties ?? {}).filter(
      ([name]) => name !== 'id',
    )
    for (const [name, field] of optional) assert.match(field.description ?? '', /Absent/, name)
  })

  it('validates a reference values document', () => {
    const document = {
      referenceValues: [{ platform: 'snp', claim: 'raw.hostData', values: ['00'] }],
    }
    assert.deepEqual(validateJsonSchema(document, REFERENCE_VALUES_SCHEMA), [])
  })

  it('names the path of each violation', () => {
    const violations = validateJsonSchema(
      { referenceValues: [{ platform: 1 }] },
      REFERENCE_VALUES_SCHEMA,
    )
    const paths = violations.map((v) => v.path).sort()
    assert.deepEqual(paths, [
      '/referenceValues/0/claim',
      '/referenceValues/0/platform',
      '/referenceValues/0/values',
    ])
  })

  it('escapes JSON Pointer characters', () => {
    const violations = validateJsonSchema(
      { 'a/b~c': 1 },
      { type: 'object', additionalProperties: false },
    )
    assert.equal(violations[0]?.path, '/a~1b~0c')
  })

  it('refuses an unsupported keyword', () => {
    assert.throws(() => validateJsonSchema(1, { oneOf: [] } as never), /oneOf/)
  })

  it('caps the number of violations', () => {
    const items = Array.from({ length: 50 }, () => 'x')
    const violations = validateJsonSchema(items, { type: 'array', items: { type: 'integer' } })
    assert.equal(violations.length, 20)
  })
})
