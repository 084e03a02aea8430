/**
 * CoRIM import: every CoRIM case Veraison and Trustee publish, the SEV-SNP profile mapping on a
 * real report's claims, and malformed input.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Decoder, Encoder, Tag } from 'cbor-x'
import { claimAt, comparableText } from '../../src/appraisal/claim-path.js'
import { decodeCorim } from '../../src/appraisal/corim.js'
import { importCorim, SNP_CORIM_PROFILE } from '../../src/appraisal/corim-import.js'
import { oidText } from '../../src/appraisal/corim-items.js'
import { ParseError } from '../../src/core/errors.js'
import { verifyEvidence } from '../../src/verify.js'
import { bundleFromDir, corpusCases, interopRoot, readCaseFile } from '../helpers/corpus.js'

const corimRoot = join(interopRoot, 'corim')
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false })
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false })

interface Structure {
  readonly corim_id: string
  readonly profile: string
  readonly tags: readonly { readonly triples: Readonly<Record<string, number>> }[]
}

interface CorimCase {
  readonly name: string
  readonly bytes: Uint8Array
  readonly structure: Structure
  readonly expected: Record<string, string>
}

function corimCase(name: string): CorimCase {
  const expect = JSON.parse(readFileSync(join(corimRoot, name, 'expect.json'), 'utf8'))
  return {
    name,
    bytes: new Uint8Array(readFileSync(join(corimRoot, name, 'corim.cbor'))),
    structure: expect.structure,
    expected: expect.expected,
  }
}

const CASES = readdirSync(corimRoot).sort().map(corimCase)

/** Returns the reason Veraison gives for rejecting a case, or undefined when it accepts it. */
function rejection(testCase: CorimCase): string | undefined {
  return /error containing: (.+)$/.exec(testCase.expected.verdict ?? '')?.[1]
}

function base64ToHex(text: string): string {
  return Buffer.from(text, 'base64').toString('hex')
}

describe('importCorim on the interop cases', () => {
  for (const testCase of CASES) {
    const reason = rejection(testCase)
    if (reason !== undefined) {
      it(`${testCase.name} is rejected: ${reason}`, () => {
        assert.throws(
          () => importCorim(testCase.bytes, testCase.name),
          (error: unknown) => {
            assert.ok(error instanceof ParseError, String(error))
            assert.equal(error.code, 'ERR_PARSE_MALFORMED')
            assert.ok(error.message.includes(reason), error.message)
            return true
          },
        )
      })
      continue
    }

    it(`${testCase.name} imports with its structure`, () => {
      const imported = importCorim(testCase.bytes, testCase.name)
      const { corim } = imported
      assert.equal(corim.id, testCase.structure.corim_id)
      assert.equal(corim.profile, testCase.structure.profile.replace(/^'|'$/g, ''))
      assert.equal(corim.comids.length, testCase.structure.tags.length)
      corim.comids.forEach((comid, i) => {
        const triples = testCase.structure.tags[i]?.triples ?? {}
        assert.equal(comid.referenceTriples.length, triples['reference-triples'] ?? 0, `tag ${i}`)
        assert.equal(comid.attestKeyTriples.length, triples['attest-key-triples'] ?? 0, `tag ${i}`)
      })
      const measurements = corim.comids
        .flatMap((c) => c.referenceTriples)
        .flatMap((t) => t.measurements)
      const keys = corim.comids.flatMap((c) => c.attestKeyTriples).flatMap((t) => t.keys)
      assert.equal(imported.verificationKeys.length, keys.length)
      assert.equal(imported.referenceValues.length + imported.skipped.length, measurements.length)
      for (const value of imported.referenceValues) {
        assert.equal(value.provenance.format, 'corim')
        assert.equal(value.provenance.source, testCase.name)
        assert.equal(value.provenance.corimId, corim.id)
        assert.ok(value.values.length > 0)
      }
    })
  }

  it('names Trustee reference values as Trustee RVPS does', () => {
    const testCase = corimCase('trustee-rvps-unsigned-example-corim')
    const values = importCorim(testCase.bytes, testCase.name).referenceValues
    assert.ok(values.length >= 3)
    assert.equal(values[2]?.claim, testCase.expected['rvs[2].name'])
    assert.equal(values[2]?.values[0], testCase.expected['rvs[2].value[0]'])
  })

  it('maps the SEV-SNP reference values onto report fields', () => {
    const text = readFileSync(
      join(corimRoot, 'veraison-sevsnp-valid', 'src', 'comid-sevsnp-refval.json'),
      'utf8',
    )
    const source = JSON.parse(text)
    const measurements = source.triples['reference-values'][0].measurements as {
      key: { value: number }
      value: Record<string, { value: unknown } | [number, string][]>
    }[]
    const byKey = new Map(measurements.map((m) => [m.key.value, m.value]))
    const imported = importCorim(corimCase('veraison-sevsnp-valid').bytes, 'sevsnp')
    const claim = (name: string) => imported.referenceValues.find((v) => v.claim === name)?.values
    const digests = byKey.get(641)?.digests as [number, string][]
    assert.deepEqual(claim('measurement'), [base64ToHex(digests[0]?.[1] ?? '')])
    const raw = (key: number) =>
      base64ToHex(String((byKey.get(key)?.['raw-value'] as { value: string } | undefined)?.value))
    assert.deepEqual(claim('raw.familyId'), [raw(3)])
    assert.deepEqual(claim('raw.chipId'), [raw(3328)])
    assert.deepEqual(claim('raw.policy.value'), [`0x${BigInt(`0x${raw(2)}`).toString(16)}`])
    assert.deepEqual(claim('raw.vmpl'), [String(Number.parseInt(raw(5), 16))])
    // JSON.parse rounds integers above 2^53, so the SVN is read from the text itself.
    const svn = /"value": 647\s*},\s*"value": \{\s*"svn": \{[^}]*"value": (\d+)/.exec(text)?.[1]
    const tcb = BigInt(svn ?? 'x')
    const tcbHex = Buffer.from(new BigUint64Array([tcb]).buffer).toString('hex')
    assert.deepEqual(claim('raw.reportedTcb.bytes'), [tcbHex])
    const skipped = imported.skipped.map((s) => s.mkey).sort()
    assert.deepEqual(skipped, ['1', '3330', '3936', '640', '645', '646'])
    for (const value of imported.referenceValues) assert.equal(value.platform, 'snp')
    assert.equal(imported.corim.profile, SNP_CORIM_PROFILE)
  })

  it('maps SEV-SNP values onto claims a real report has, in the same form', async () => {
    const testCase = corpusCases('amd-sev-snp').find((c) => c.name === 'snp-v3-milan-vlek-trustee')
    assert.ok(testCase)
    const result = await verifyEvidence(readCaseFile(testCase, 'report.bin'), {
      at: new Date(testCase.expect.verification_time ?? ''),
      collateral: bundleFromDir(join(testCase.dir, 'certs')),
    })
    const imported = importCorim(corimCase('veraison-sevsnp-valid').bytes, 'sevsnp')
    for (const value of imported.referenceValues) {
      const actual = comparableText(claimAt(result.claims, value.claim))
      const expected = value.values[0] ?? ''
      assert.ok(actual !== undefined, `${value.claim} resolves`)
      const shape = (text: string) =>
        text.startsWith('0x')
          ? 'u64'
          : /^\d+$/.test(text) && text.length < 6
            ? 'decimal'
            : text.length
      assert.equal(shape(actual), shape(expected), value.claim)
    }
  })
})

describe('decodeCorim', () => {
  const snp = corimCase('veraison-sevsnp-valid').bytes

  it('reads a lone CoMID', () => {
    const top = decoder.decode(snp) as Tag
    const comid = ((top.value as Map<number, unknown>).get(1) as Tag[])[0] as Tag
    const corim = decodeCorim(new Uint8Array(encoder.encode(new Tag(comid.value, 506))))
    assert.equal(corim.comids.length, 1)
    assert.equal(corim.comids[0]?.tagId, 'f659d510-3698-4b52-9dc6-39a0dd620998')
  })

  it('reads an untagged CoRIM with a validity period', () => {
    const top = decoder.decode(snp) as Tag
    const map = new Map(top.value as Map<number, unknown>)
    map.set(4, new Map([[1, new Date('2027-01-01T00:00:00Z')]]))
    const imported = importCorim(new Uint8Array(encoder.encode(map)), 'untagged')
    assert.equal(imported.corim.notAfter?.toISOString(), '2027-01-01T00:00:00.000Z')
    for (const value of imported.referenceValues)
      assert.equal(value.notAfter, '2027-01-01T00:00:00.000Z')
  })

  it('rejects a signed CoRIM', () => {
    const signed = new Uint8Array(
      encoder.encode(new Tag([new Uint8Array(0), new Map(), snp, new Uint8Array(64)], 18)),
    )
    assert.throws(() => decodeCorim(signed), { code: 'ERR_PARSE_MALFORMED', field: 'document' })
  })

  it('rejects CBOR that is not a CoRIM', () => {
    assert.throws(() => decodeCorim(new Uint8Array(encoder.encode([1, 2, 3]))), {
      code: 'ERR_PARSE_MALFORMED',
    })
    assert.throws(() => decodeCorim(new Uint8Array([0xff, 0x00])), { code: 'ERR_PARSE_MALFORMED' })
  })

  it('rejects an oversized input', () => {
    assert.throws(() => decodeCorim(new Uint8Array(4 * 1024 * 1024 + 1)), {
      code: 'ERR_PARSE_OVERSIZED',
    })
  })

  it('throws only ParseError for every truncation', () => {
    for (const testCase of CASES) {
      for (let length = 0; length < testCase.bytes.length; length += 7) {
        try {
          importCorim(testCase.bytes.subarray(0, length), 'cut')
        } catch (error) {
          assert.ok(error instanceof ParseError, `${testCase.name} at ${length}: ${String(error)}`)
        }
      }
    }
  })

  it('decodes OIDs', () => {
    assert.equal(
      oidText(new Uint8Array([0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x03, 0x01]), 'oid'),
      '1.3.6.1.4.1.3704.3.1',
    )
    assert.equal(oidText(new Uint8Array([0x88, 0x37, 0x03]), 'oid'), '2.999.3')
    assert.throws(() => oidText(new Uint8Array([0x2b, 0x86]), 'oid'), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })
})
