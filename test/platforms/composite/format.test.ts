import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ParseError } from '../../../src/core/errors.js'
import {
  type CompositeComponentInput,
  encodeCompositeEvidence,
  MAX_COMPONENTS,
  parseCompositeEvidence,
  sniffCompositeEvidence,
} from '../../../src/platforms/composite/format.js'
import { createCcaToken } from '../../helpers/fake-cca.js'
import { createQuote, trusteeJson } from '../../helpers/fake-tpm.js'

const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

function parseCode(bytes: Uint8Array): string {
  try {
    parseCompositeEvidence(bytes)
  } catch (error) {
    if (error instanceof ParseError) return error.code
    throw error
  }
  return 'no error'
}

describe('parseCompositeEvidence', () => {
  it('reads records and collections with collateral', () => {
    const evidence = parseCompositeEvidence(
      text({
        __cmwc_t: 'tag:example.com,2025:test',
        cpu: ['application/vnd.confide.tdx', 'AQID', 4],
        gpu0: {
          evidence: ['application/vnd.confide.nvidia', 'BAUG'],
          'cert_chain.pem': ['application/x-pem-file', 'BwgJ', 2],
        },
        blob: ['application/octet-stream', 'Cg'],
      }),
    )
    assert.equal(evidence.collectionType, 'tag:example.com,2025:test')
    assert.deepEqual(
      evidence.components.map((c) => [c.label, c.platform, [...c.evidence]]),
      [
        ['cpu', 'tdx', [1, 2, 3]],
        ['gpu0', 'nvidia', [4, 5, 6]],
        ['blob', undefined, [10]],
      ],
    )
    assert.deepEqual(
      [...(evidence.components[1]?.collateral.get('cert_chain.pem') ?? [])],
      [7, 8, 9],
    )
  })

  const rejections: [string, unknown][] = [
    ['an array', []],
    ['an object with no component', { __cmwc_t: 'x' }],
    [
      'a collection type that is not a string',
      { __cmwc_t: 1, a: ['application/octet-stream', ''] },
    ],
    ['a label with a slash', { 'a/b': ['application/octet-stream', ''] }],
    ['a record of one item', { a: ['application/octet-stream'] }],
    ['a record with a CoAP content-format', { a: [263, 'AA'] }],
    ['a record value that is not base64url', { a: ['application/octet-stream', 'a+b/'] }],
    ['a record marked as endorsements', { a: ['application/octet-stream', 'AA', 2] }],
    ['an indicator over 31', { a: ['application/octet-stream', 'AA', 32] }],
    ['a media type of another vendor', { a: ['application/eat+cwt', 'AA'] }],
    ['a platform name with capitals', { a: ['application/vnd.confide.TDX', 'AA'] }],
    ['a collection without evidence', { a: { x: ['application/octet-stream', 'AA', 2] } }],
    [
      'a collection with two evidence records',
      {
        a: {
          evidence: ['application/octet-stream', 'AA'],
          b: ['application/octet-stream', 'AA', 4],
        },
      },
    ],
    [
      'a collection nested twice',
      {
        a: {
          evidence: ['application/octet-stream', 'AA'],
          b: { c: ['application/octet-stream', 'AA', 4] },
        },
      },
    ],
  ]
  for (const [name, value] of rejections) {
    it(`rejects ${name}`, () => {
      assert.equal(parseCode(text(value)), 'ERR_PARSE_MALFORMED')
    })
  }

  it('rejects text that is not JSON', () => {
    assert.equal(parseCode(new TextEncoder().encode('{')), 'ERR_PARSE_MALFORMED')
  })

  it(`rejects more than ${MAX_COMPONENTS} components`, () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_COMPONENTS + 1 }, (_, i) => [
        `c${i}`,
        ['application/octet-stream', 'AA'],
      ]),
    )
    assert.equal(parseCode(text(many)), 'ERR_PARSE_OVERSIZED')
  })
})

describe('sniffCompositeEvidence', () => {
  it('tells composite evidence from other evidence', () => {
    const composite = encodeCompositeEvidence([
      { label: 'cpu', platform: 'tpm', evidence: Uint8Array.of(1) },
    ])
    assert.equal(sniffCompositeEvidence(composite), true)
    assert.equal(sniffCompositeEvidence(trusteeJson(createQuote())), false)
    assert.equal(sniffCompositeEvidence(createCcaToken().bytes), false)
    assert.equal(sniffCompositeEvidence(text({ a: 1 })), false)
  })
})

describe('encodeCompositeEvidence', () => {
  it('rejects a label or platform name the format cannot carry', () => {
    assert.throws(
      () => encodeCompositeEvidence([{ label: '__cmwc_t', evidence: new Uint8Array(0) }]),
      ParseError,
    )
    assert.throws(
      () =>
        encodeCompositeEvidence([
          { label: 'a', platform: 'Bad Name', evidence: new Uint8Array(0) },
        ]),
      ParseError,
    )
    const twice = [
      { label: 'a', evidence: new Uint8Array(0) },
      { label: 'a', evidence: new Uint8Array(1) },
    ]
    assert.throws(() => encodeCompositeEvidence(twice), ParseError)
    const collateral = new Map([['evidence', new Uint8Array(0)]])
    assert.throws(
      () => encodeCompositeEvidence([{ label: 'a', evidence: new Uint8Array(0), collateral }]),
      ParseError,
    )
  })

  it('reads back what it writes', () => {
    const label = fc.stringMatching(/^[A-Za-z0-9._-]{1,16}$/).filter((s) => s !== '__cmwc_t')
    const component = fc.record({
      label,
      platform: fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/), { nil: undefined }),
      evidence: fc.uint8Array({ maxLength: 64 }),
      collateral: fc.array(
        fc.tuple(
          label.filter((s) => s !== 'evidence'),
          fc.uint8Array({ maxLength: 16 }),
        ),
        { maxLength: 3 },
      ),
    })
    fc.assert(
      fc.property(
        fc.uniqueArray(component, { selector: (c) => c.label, minLength: 1, maxLength: 5 }),
        (components) => {
          const inputs: CompositeComponentInput[] = components.map((c) => ({
            label: c.label,
            evidence: c.evidence,
            collateral: new Map(c.collateral),
            ...(c.platform === undefined ? {} : { platform: c.platform }),
          }))
          const parsed = parseCompositeEvidence(encodeCompositeEvidence(inputs))
          const byLabel = new Map(parsed.components.map((c) => [c.label, c]))
          for (const input of inputs) {
            const read = byLabel.get(input.label)
            assert.ok(read)
            assert.equal(read.platform, input.platform)
            assert.deepEqual([...read.evidence], [...input.evidence])
            assert.deepEqual(
              [...read.collateral.keys()].sort(),
              [...(input.collateral?.keys() ?? [])].sort(),
            )
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('throws only ParseError for arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.json(), (json) => {
        const bytes = new TextEncoder().encode(json)
        assert.equal(typeof sniffCompositeEvidence(bytes), 'boolean')
        try {
          parseCompositeEvidence(bytes)
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error))
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('throws only ParseError for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        try {
          parseCompositeEvidence(bytes)
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error))
        }
      }),
      { numRuns: 1000 },
    )
  })
})
