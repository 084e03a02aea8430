import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { decodePem, encodePem } from '../../src/core/bytes.js'
import { parseCertificate } from '../../src/pki/certificate.js'
import { RatlsCache } from '../../src/ratls/cache.js'
import { createRatlsCertificate } from '../../src/ratls/certificate.js'
import { encodeTcgClaims, encodeTcgEvidence } from '../../src/ratls/extensions.js'
import { type RatlsVerdict, verifyRatlsCertificate } from '../../src/ratls/verify.js'
import { buildCertificate } from '../../src/ratls/x509-builder.js'
import { bundleFromDir, corpusRoot } from '../helpers/corpus.js'
import {
  firstDer,
  fixedAttester,
  interopCertificate,
  newSimKey,
  simAttester,
  simOptions,
} from './helpers.js'

function status(verdict: RatlsVerdict, name: string): string | undefined {
  return verdict.checks.find((c) => c.name === name)?.status
}

function evidenceStatus(verdict: RatlsVerdict, name: string): string | undefined {
  return verdict.evidence?.checks.find((c) => c.name === name)?.status
}

describe('verifyRatlsCertificate on interop certificates', () => {
  for (const name of ['ccc-gramine', 'ccc-intel-sgxsdk', 'ccc-rats-tls']) {
    it(`verifies the quote and key binding of ${name}`, async () => {
      const { der, expect } = interopCertificate(name)
      const at = new Date(expect.verification_time)
      // Every sample comes from a debug enclave (SGX attribute flags 0x07).
      const verdict = await verifyRatlsCertificate(der, { at, verify: { allowDebug: true } })
      assert.equal(status(verdict, 'certificate-validity'), 'pass')
      assert.equal(status(verdict, 'certificate-signature'), 'pass')
      assert.equal(status(verdict, 'extension'), 'pass')
      assert.equal(verdict.extension?.encoding, 'tcg-dice')
      assert.equal(evidenceStatus(verdict, 'quote-signature'), 'pass')
      assert.equal(evidenceStatus(verdict, 'qe-report-signature'), 'pass')
      assert.equal(evidenceStatus(verdict, 'pck-chain'), 'pass')
      assert.equal(status(verdict, 'pubkey-hash'), 'pass')
      assert.equal(status(verdict, 'key-binding'), 'pass')
      assert.equal(verdict.spkiSha256, expect.spki_sha256)
      // No collateral: the TCB status cannot be judged, so the verdict stays indeterminate.
      assert.equal(status(verdict, 'evidence'), 'skipped')
      assert.equal(verdict.verdict, 'indeterminate')
      assert.equal(verdict.accepted, false)
    })
  }

  it('rejects the expired RATS-TLS certificate today', async () => {
    const { der } = interopCertificate('ccc-rats-tls')
    const verdict = await verifyRatlsCertificate(der, {
      at: new Date('2026-12-04T00:00:00Z'),
      verify: { allowDebug: true },
    })
    assert.equal(verdict.checks[0]?.code, 'ERR_VERIFY_EXPIRED')
    assert.equal(verdict.verdict, 'invalid')
  })

  it('rejects a debug enclave unless debug is allowed', async () => {
    const { der, expect } = interopCertificate('ccc-gramine')
    const verdict = await verifyRatlsCertificate(der, { at: new Date(expect.verification_time) })
    assert.equal(status(verdict, 'evidence'), 'fail')
    assert.equal(verdict.code, 'ERR_VERIFY_DEBUG')
  })
})

describe('verifyRatlsCertificate in Gramine encoding with a corpus quote', () => {
  const dir = join(corpusRoot, 'intel-sgx', 'sgx-v3-dcapqvl-config-swhardening')
  const quote = new Uint8Array(readFileSync(join(dir, 'quote.bin')))
  const at = new Date('2025-06-20T00:00:00Z')

  it('verifies the quote and fails the key binding', async () => {
    const { cert } = await createRatlsCertificate({
      attester: fixedAttester(quote),
      encoding: 'gramine',
      at,
    })
    const verdict = await verifyRatlsCertificate(firstDer(cert), {
      at,
      verify: { collateral: bundleFromDir(join(dir, 'collateral')) },
    })
    assert.equal(verdict.extension?.encoding, 'gramine')
    assert.equal(verdict.extension?.oid, '0.6.9.42.840.113741.1337.6')
    assert.equal(verdict.evidence?.verdict, 'valid')
    assert.equal(status(verdict, 'evidence'), 'pass')
    assert.equal(status(verdict, 'key-binding'), 'fail')
    assert.equal(verdict.code, 'ERR_VERIFY_BINDING')
    assert.equal(verdict.accepted, false)
  })
})

describe('verifyRatlsCertificate with the simulated TEE', () => {
  it('accepts a fresh tcg-dice certificate', async () => {
    const key = await newSimKey()
    const { cert } = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
    })
    const verdict = await verifyRatlsCertificate(firstDer(cert), simOptions(key))
    assert.equal(verdict.verdict, 'valid', verdict.reason)
    assert.equal(verdict.accepted, true)
    assert.deepEqual(
      verdict.checks.map((c) => c.name),
      [
        'certificate-validity',
        'certificate-signature',
        'extension',
        'evidence',
        'pubkey-hash',
        'key-binding',
        'evidence-age',
        'appraisal',
      ],
    )
  })

  it('accepts a fresh gramine certificate', async () => {
    const key = await newSimKey()
    const { cert } = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'gramine',
    })
    const verdict = await verifyRatlsCertificate(firstDer(cert), simOptions(key))
    assert.equal(verdict.verdict, 'valid', verdict.reason)
    assert.equal(status(verdict, 'pubkey-hash'), undefined)
  })

  it('rejects sim evidence under a policy that does not allow it', async () => {
    const key = await newSimKey()
    const { cert } = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
    })
    const verdict = await verifyRatlsCertificate(
      firstDer(cert),
      simOptions(key, { policy: { id: 'strict' } }),
    )
    assert.equal(verdict.code, 'ERR_VERIFY_POLICY')
  })

  it('stays indeterminate without the trusted key', async () => {
    const key = await newSimKey()
    const { cert } = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
    })
    const verdict = await verifyRatlsCertificate(firstDer(cert))
    assert.equal(verdict.verdict, 'indeterminate')
    assert.equal(verdict.accepted, false)
  })

  it('rejects evidence older than the maximum age', async () => {
    const key = await newSimKey()
    const old = new Date(Date.now() - 2 * 86_400_000)
    const { cert } = await createRatlsCertificate({
      attester: simAttester(key, { at: old }),
      encoding: 'tcg-dice',
    })
    const verdict = await verifyRatlsCertificate(firstDer(cert), simOptions(key))
    assert.equal(status(verdict, 'evidence-age'), 'fail')
    assert.equal(verdict.code, 'ERR_VERIFY_STALE')
  })

  it('rejects a pubkey-hash of another key', async () => {
    const key = await newSimKey()
    const claims = encodeTcgClaims({ pubkeyHash: { algorithmId: 1, digest: new Uint8Array(32) } })
    const forged = await wrongClaimsCertificate(key, claims)
    const verdict = await verifyRatlsCertificate(forged, simOptions(key))
    assert.equal(status(verdict, 'pubkey-hash'), 'fail')
    assert.equal(status(verdict, 'key-binding'), 'pass')
    assert.equal(verdict.code, 'ERR_VERIFY_BINDING')
  })

  it('accepts a certificate issued by a CA', async () => {
    const key = await newSimKey()
    const { generateKeyPairSync } = await import('node:crypto')
    const ca = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    const caDer = buildCertificate({
      publicKey: ca.publicKey,
      selfKey: ca.privateKey,
      commonName: 'workload CA',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
    })
    const { cert, der } = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
      key: generateKeyPairSync('ed25519'),
      issuer: { certificate: encodePem('CERTIFICATE', caDer), privateKey: ca.privateKey },
    })
    assert.equal(decodePem(cert).length, 2)
    const leaf = parseCertificate(der)
    assert.equal(leaf.issuer, 'CN=workload CA')
    assert.equal(leaf.signatureAlgorithmOid, '1.2.840.10045.4.3.3')
    const verdict = await verifyRatlsCertificate(der, simOptions(key))
    assert.equal(verdict.verdict, 'valid', verdict.reason)
    assert.equal(status(verdict, 'certificate-signature'), undefined)
  })

  it('caches the evidence verification by digest', async () => {
    const key = await newSimKey()
    const { cert } = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
    })
    const cache = new RatlsCache({ maxEntries: 2 })
    const first = await verifyRatlsCertificate(firstDer(cert), simOptions(key, { cache }))
    const second = await verifyRatlsCertificate(firstDer(cert), simOptions(key, { cache }))
    assert.equal(first.cached, false)
    assert.equal(second.cached, true)
    assert.equal(second.verdict, 'valid')
    assert.equal(cache.size, 1)
  })

  it('reports a certificate that does not decode', async () => {
    const verdict = await verifyRatlsCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))
    assert.equal(verdict.code, 'ERR_PARSE_CERTIFICATE')
    assert.equal(verdict.accepted, false)
  })
})

/**
 * Builds a self-signed certificate whose TCG claims name another key. The evidence binds these claims,
 * so only the pubkey-hash check can catch it.
 */
async function wrongClaimsCertificate(
  key: Awaited<ReturnType<typeof newSimKey>>,
  claims: Uint8Array,
): Promise<Uint8Array> {
  const { createHash, generateKeyPairSync } = await import('node:crypto')
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const reportData = new Uint8Array(64)
  reportData.set(createHash('sha256').update(claims).digest())
  const evidence = await simAttester(key).attest(reportData)
  const now = Date.now()
  return buildCertificate({
    publicKey: pair.publicKey,
    selfKey: pair.privateKey,
    commonName: 'forged',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    extensions: [{ oid: '2.23.133.5.4.9', value: encodeTcgEvidence(evidence, claims) }],
  })
}
