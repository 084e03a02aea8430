import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { parseCertificate } from '../../../src/pki/certificate.js'
import { nitroPlatform } from '../../../src/platforms/nitro/index.js'
import { interopRoot } from '../../helpers/corpus.js'

const platform = nitroPlatform()
const crypto = createNodeCrypto()
const ratls = join(interopRoot, 'ratls')

interface EvervaultExpect {
  /** Present for certificates that carry the document: where it sits. */
  readonly encoding?: string
  readonly verification_time: string
  readonly builder_checks: {
    readonly module_id: string
    readonly timestamp_ms: number
    readonly nonce: string
    readonly user_data_equals_spki_der: boolean
    readonly pcrs: Record<string, string>
  }
  readonly expected: {
    readonly verdict: string
    readonly pcrs_in_test_spec?: Record<string, string>
    readonly should_pcrs_match?: boolean
  }
}

function readCase(name: string): { dir: string; expect: EvervaultExpect; files: string[] } {
  const dir = join(ratls, name)
  return {
    dir,
    expect: JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')),
    files: readdirSync(dir),
  }
}

function isDebug(pcrs: Record<string, string>): boolean {
  return ['0', '1', '2'].every((index) => /^(?:00)+$/.test(pcrs[index] ?? ''))
}

function rawPcrs(result: VerificationResult): Record<string, string> {
  return (result.claims.raw as { pcrs: Record<string, string> }).pcrs
}

/** Evervault's test specs compare PCR0, PCR1, PCR2 and PCR8, named `pcr0` and so on. */
function pcrsMatch(result: VerificationResult, spec: Record<string, string>): boolean {
  const pcrs = rawPcrs(result)
  return Object.entries(spec).every(([name, value]) => pcrs[name.replace('pcr', '')] === value)
}

/** Evervault cases whose certificate carries the document in a subjectAltName. */
const carrierCases = readdirSync(ratls).filter(
  (name) =>
    name.startsWith('evervault-') && readCase(name).expect.encoding?.startsWith('SAN') === true,
)

describe('Evervault certificates carrying a document', () => {
  for (const name of carrierCases) {
    const { dir, expect, files } = readCase(name)
    const certificateFile = files.find((f) => f === 'cert.pem' || f === 'cert.der')!
    const bytes = new Uint8Array(readFileSync(join(dir, certificateFile)))

    it(`${name}: ${expect.expected.verdict.slice(0, 60)}`, async () => {
      assert.equal(platform.sniff(bytes), true)
      const evidence = platform.parse(bytes)
      assert.equal(evidence.form, 'certificate')
      assert.equal(evidence.carrier?.location, 'subjectAltName')
      const document = new Uint8Array(readFileSync(join(dir, 'attestation_doc.cose')))
      assert.deepEqual(platform.parse(document).cose.payload, evidence.cose.payload)

      const at = new Date(expect.verification_time)
      const debug = isDebug(expect.builder_checks.pcrs)
      const context = { at, crypto, cache: new VerificationCache(), allowDebug: debug }
      const result = await platform.verify(evidence, context)
      assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
      const binding = result.checks.find((c) => c.name === 'certificate-binding')
      assert.equal(
        binding?.status,
        expect.builder_checks.user_data_equals_spki_der ? 'pass' : 'fail',
      )
      assert.equal(result.claims.debug, debug)

      const raw = result.claims.raw as Record<string, unknown>
      assert.equal(raw.moduleId, expect.builder_checks.module_id)
      assert.equal(raw.timestampMs, expect.builder_checks.timestamp_ms)
      assert.equal(raw.nonce, expect.builder_checks.nonce)
      for (const [index, value] of Object.entries(expect.builder_checks.pcrs)) {
        assert.equal(rawPcrs(result)[index], value)
      }
      const spec = expect.expected.pcrs_in_test_spec
      if (spec !== undefined)
        assert.equal(pcrsMatch(result, spec), expect.expected.should_pcrs_match)
    })
  }

  it('rejects a carried debug document unless debug is allowed', async () => {
    const name = carrierCases.find(
      (n) =>
        isDebug(readCase(n).expect.builder_checks.pcrs) && readCase(n).files.includes('cert.pem'),
    )
    assert.ok(name)
    const { dir, expect } = readCase(name)
    const evidence = platform.parse(new Uint8Array(readFileSync(join(dir, 'cert.pem'))))
    const at = new Date(expect.verification_time)
    const result = await platform.verify(evidence, { at, crypto, cache: new VerificationCache() })
    assert.equal(result.verdict, 'invalid')
    assert.equal(result.checks.find((c) => c.name === 'debug')?.code, 'ERR_VERIFY_DEBUG')
  })
})

describe('Evervault GA: certificate and document delivered apart', () => {
  const { dir, expect } = readCase('evervault-ga-cert-and-doc')
  const certificateDer = new Uint8Array(readFileSync(join(dir, 'cert.der')))
  const certificate = parseCertificate(certificateDer)
  const evidence = platform.parse(new Uint8Array(readFileSync(join(dir, 'attestation_doc.cose'))))
  const context = {
    at: new Date(expect.verification_time),
    crypto,
    cache: new VerificationCache(),
    allowDebug: isDebug(expect.builder_checks.pcrs),
  }

  it('finds no document in the certificate', () => {
    assert.equal(platform.sniff(certificateDer), false)
    assert.throws(() => platform.parse(certificateDer), { code: 'ERR_PARSE_MALFORMED' })
  })

  it('binds the certificate key through the expected user data', async () => {
    const result = await platform.verify(evidence, {
      ...context,
      expectedUserData: certificate.spki,
    })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.equal(result.checks.find((c) => c.name === 'user-data')?.status, 'pass')
  })

  it('rejects another certificate key as expected user data', async () => {
    const other = certificate.spki.slice()
    other[other.length - 1]! ^= 1
    const result = await platform.verify(evidence, { ...context, expectedUserData: other })
    assert.equal(result.verdict, 'invalid')
  })
})
