/**
 * Reference values: the JSON form, export and re-import, the in-memory store, validity, and
 * reading either form from a file's bytes.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { readReferenceValues } from '../../src/appraisal/read-reference-values.js'
import {
  exportReferenceValues,
  isValidAt,
  MemoryReferenceValueStore,
  parseReferenceValuesJson,
  type ReferenceValue,
} from '../../src/appraisal/reference-values.js'
import { interopRoot } from '../helpers/corpus.js'

const DOCUMENT = {
  referenceValues: [
    {
      platform: 'tdx',
      claim: 'raw.rtmr1',
      values: ['AABB', 'aabb', 'ccdd'],
      provenance: { source: 'image build 42', description: 'kernel and initrd' },
      notBefore: '2026-01-01T00:00:00Z',
      notAfter: '2026-12-31T23:59:59Z',
    },
    { platform: 'nitro', claim: 'raw.pcrs.0', values: ['00'] },
  ],
}

const snpCorim = new Uint8Array(
  readFileSync(join(interopRoot, 'corim', 'veraison-sevsnp-valid', 'corim.cbor')),
)

describe('parseReferenceValuesJson', () => {
  it('reads values with provenance and validity', () => {
    const values = parseReferenceValuesJson(JSON.stringify(DOCUMENT), 'values.json')
    assert.equal(values.length, 2)
    assert.deepEqual(values[0]?.values, ['aabb', 'ccdd'])
    assert.equal(values[0]?.provenance.source, 'image build 42')
    assert.equal(values[0]?.notAfter, '2026-12-31T23:59:59Z')
  })

  it('records the file as the source of values without provenance', () => {
    const values = parseReferenceValuesJson(JSON.stringify(DOCUMENT), 'values.json')
    assert.deepEqual(values[1]?.provenance, { source: 'values.json', format: 'json' })
  })

  it('round-trips through export', () => {
    const values = parseReferenceValuesJson(JSON.stringify(DOCUMENT), 'values.json')
    const again = parseReferenceValuesJson(exportReferenceValues(values), 'other.json')
    assert.deepEqual(again, values)
  })

  it('round-trips CoRIM values through JSON', () => {
    const values = readReferenceValues(snpCorim, 'snp.cbor')
    const again = readReferenceValues(new TextEncoder().encode(exportReferenceValues(values)), 'x')
    assert.deepEqual(again, values)
  })

  const BROKEN: readonly [string, string, string][] = [
    ['not JSON', '{referenceValues', 'not JSON'],
    ['a missing list', '{}', '/referenceValues'],
    [
      'a missing platform',
      '{"referenceValues":[{"claim":"measurement","values":["00"]}]}',
      '/referenceValues/0/platform',
    ],
    [
      'an unknown field',
      '{"referenceValues":[{"platform":"tdx","claim":"measurement","values":["00"],"value":"00"}]}',
      '/referenceValues/0/value',
    ],
    [
      'a provenance without source',
      '{"referenceValues":[{"platform":"tdx","claim":"measurement","values":["00"],"provenance":{}}]}',
      '/provenance/source',
    ],
    [
      'a time without zone',
      '{"referenceValues":[{"platform":"tdx","claim":"measurement","values":["00"],"notAfter":"2026-01-01T00:00:00"}]}',
      '/notAfter',
    ],
    [
      'a day that does not exist',
      '{"referenceValues":[{"platform":"tdx","claim":"measurement","values":["00"],"notAfter":"2026-02-30T00:00:00Z"}]}',
      'notAfter',
    ],
    [
      'an inverted validity',
      '{"referenceValues":[{"platform":"tdx","claim":"measurement","values":["00"],"notBefore":"2027-01-01T00:00:00Z","notAfter":"2026-01-01T00:00:00Z"}]}',
      'after notAfter',
    ],
  ]

  for (const [name, text, mentions] of BROKEN) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parseReferenceValuesJson(text, 'bad.json'),
        (error: unknown) => {
          assert.ok(
            error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_MALFORMED',
            String(error),
          )
          assert.ok(error.message.includes(mentions), error.message)
          return true
        },
      )
    })
  }
})

describe('readReferenceValues', () => {
  it('reads JSON, with or without a byte order mark', () => {
    const text = new TextEncoder().encode(`  ${JSON.stringify(DOCUMENT)}`)
    assert.equal(readReferenceValues(text, 'a.json').length, 2)
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...text])
    assert.equal(readReferenceValues(bom, 'a.json').length, 2)
  })

  it('reads a CoRIM', () => {
    const values = readReferenceValues(snpCorim, 'snp.cbor')
    assert.ok(values.some((value) => value.platform === 'snp' && value.claim === 'measurement'))
  })

  it('rejects bytes that are neither', () => {
    assert.throws(() => readReferenceValues(new TextEncoder().encode('measurement=00'), 'x'), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })
})

describe('MemoryReferenceValueStore', () => {
  const value = (platform: string): ReferenceValue => ({
    platform,
    claim: 'measurement',
    values: ['00'],
    provenance: { source: 'test' },
  })

  it('finds values by platform', async () => {
    const store = new MemoryReferenceValueStore([value('tdx'), value('snp')])
    await store.add([value('tdx')])
    assert.equal((await store.find('tdx')).length, 2)
    assert.equal((await store.find('snp')).length, 1)
    assert.equal((await store.find('sgx')).length, 0)
    assert.equal((await store.list()).length, 3)
  })
})

describe('isValidAt', () => {
  const value: ReferenceValue = {
    platform: 'tdx',
    claim: 'measurement',
    values: ['00'],
    provenance: { source: 'test' },
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2026-12-31T23:59:59Z',
  }

  it('includes both ends of the window', () => {
    assert.equal(isValidAt(value, new Date('2026-01-01T00:00:00Z')), true)
    assert.equal(isValidAt(value, new Date('2026-12-31T23:59:59Z')), true)
  })

  it('excludes times outside the window', () => {
    assert.equal(isValidAt(value, new Date('2025-12-31T23:59:59Z')), false)
    assert.equal(isValidAt(value, new Date('2027-01-01T00:00:00Z')), false)
  })
})
