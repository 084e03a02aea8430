import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Policy } from '../../src/appraisal/policy.js'
import { decodePem, encodePem, toHex } from '../../src/core/bytes.js'
import { parseCertificate } from '../../src/pki/certificate.js'
import { RatlsCache } from '../../src/ratls/cache.js'
import { createRatlsCertificate } from '../../src/ratls/certificate.js'
import {
  encodeTcgClaims,
  encodeTcgEvidence,
  GRAMINE_QUOTE_OID,
  GRAMINE_QUOTE_OID_INTENDED,
  INTEL_SGX_SDK_QUOTE_OID,
  TCG_DICE_TAGGED_EVIDENCE_OID,
} from '../../src/ratls/extensions.js'
import { type RatlsVerdict, verifyRatlsCertificate } from '../../src/ratls/verify.js'
import { buildCertificate, type ExtensionInput } from '../../src/ratls/x509-builder.js'
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

/** The label of the checks of each raw-quote extension in the interop certificates. */
const INTEROP_LABELS: Readonly<Record<string, string>> = {
  [GRAMINE_QUOTE_OID]: 'gramine',
  [INTEL_SGX_SDK_QUOTE_OID]: 'intel-sgx-sdk',
}

/** Returns the raw-quote extensions an interop expect.json lists and whether each binds the key. */
function interopRawQuotes(expect: object): { oid: string; bindingHolds: boolean }[] {
  const { extensions } = expect as {
    readonly extensions: readonly { oid: string; report_data_binding_holds: boolean }[]
  }
  return extensions
    .filter((e) => e.oid !== TCG_DICE_TAGGED_EVIDENCE_OID)
    .map((e) => ({ oid: e.oid, bindingHolds: e.report_data_binding_holds }))
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
      for (const { oid, bindingHolds } of interopRawQuotes(expect)) {
        const label = INTEROP_LABELS[oid]
        assert.ok(label, oid)
        assert.equal(status(verdict, `evidence:${label}`), 'skipped')
        assert.equal(status(verdict, `key-binding:${label}`), bindingHolds ? 'pass' : 'fail')
      }
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
    assert.equal(status(verdict, 'evidence:gramine'), 'fail')
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

const MEASUREMENT_A = new Uint8Array(48).fill(0xaa)
const MEASUREMENT_B = new Uint8Array(48).fill(0xbb)

/** Allows sim evidence whose launch measurement is MEASUREMENT_A, and no other. */
const POLICY_A: Policy = {
  id: 'test:sim-measurement-a',
  allowSimulated: true,
  referenceValues: {
    require: ['measurement'],
    values: [
      {
        platform: 'sim',
        claim: 'measurement',
        values: [toHex(MEASUREMENT_A)],
        provenance: { source: 'test' },
      },
    ],
  },
}

/** One raw-quote extension of `severalExtensionCertificate`. */
interface RawQuoteInput {
  readonly oid: string
  /** The launch measurement. Absent: the extension carries the TCG extension's evidence bytes. */
  readonly mrTd?: Uint8Array
  /** Report data the quote binds. Default: what the OID's encoding binds for the certificate. */
  readonly reportData?: Uint8Array
}

/**
 * Builds a self-signed certificate with a TCG DICE extension of sim evidence measuring
 * `tcgMrTd`, followed by raw-quote extensions of sim evidence. Without `reportData`, a Gramine
 * quote binds the SHA-256 of the key and an Intel SGX SDK quote binds the TCG claims, as the two
 * projects write them.
 */
async function severalExtensionCertificate(
  key: Awaited<ReturnType<typeof newSimKey>>,
  tcgMrTd: Uint8Array,
  rawQuotes: readonly RawQuoteInput[],
  options: { repeatTcg?: boolean } = {},
): Promise<Uint8Array> {
  const { createHash, generateKeyPairSync } = await import('node:crypto')
  const { simEvidence } = await import('../../src/platforms/sim/attester.js')
  const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }))
  const claims = encodeTcgClaims({ pubkeyHash: { algorithmId: 1, digest: sha256(spki) } })
  const tcgEvidence = simEvidence(key, { reportData: sha256(claims), mrTd: tcgMrTd })
  const tcg = { oid: TCG_DICE_TAGGED_EVIDENCE_OID, value: encodeTcgEvidence(tcgEvidence, claims) }
  const extensions: ExtensionInput[] = options.repeatTcg === true ? [tcg, tcg] : [tcg]
  for (const { oid, mrTd, reportData } of rawQuotes) {
    const bound = oid === INTEL_SGX_SDK_QUOTE_OID ? sha256(claims) : sha256(spki)
    const evidence =
      mrTd === undefined ? tcgEvidence : simEvidence(key, { reportData: reportData ?? bound, mrTd })
    extensions.push({ oid, value: evidence })
  }
  const now = Date.now()
  return buildCertificate({
    publicKey: pair.publicKey,
    selfKey: pair.privateKey,
    commonName: 'several extensions',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    extensions,
  })
}

describe('verifyRatlsCertificate with several evidence extensions', () => {
  it('rejects a Gramine quote of another measurement', async () => {
    const key = await newSimKey()
    const der = await severalExtensionCertificate(key, MEASUREMENT_A, [
      { oid: GRAMINE_QUOTE_OID, mrTd: MEASUREMENT_B },
    ])
    const verdict = await verifyRatlsCertificate(der, simOptions(key, { policy: POLICY_A }))
    assert.equal(status(verdict, 'appraisal'), 'pass')
    assert.equal(status(verdict, 'key-binding:gramine'), 'pass')
    assert.equal(status(verdict, 'appraisal:gramine'), 'fail')
    assert.equal(verdict.code, 'ERR_VERIFY_POLICY')
    assert.match(verdict.reason, /^appraisal:gramine: /)
    assert.equal(verdict.accepted, false)
  })

  it('accepts a Gramine quote of the same measurement', async () => {
    const key = await newSimKey()
    const der = await severalExtensionCertificate(key, MEASUREMENT_A, [
      { oid: GRAMINE_QUOTE_OID, mrTd: MEASUREMENT_A },
    ])
    const verdict = await verifyRatlsCertificate(der, simOptions(key, { policy: POLICY_A }))
    assert.equal(verdict.verdict, 'valid', verdict.reason)
    assert.equal(verdict.extension?.encoding, 'tcg-dice')
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
        'evidence:gramine',
        'key-binding:gramine',
        'evidence-age:gramine',
        'appraisal:gramine',
      ],
    )
  })

  it('accepts the same quote under the Intel SGX SDK OID', async () => {
    const key = await newSimKey()
    const der = await severalExtensionCertificate(key, MEASUREMENT_A, [
      { oid: INTEL_SGX_SDK_QUOTE_OID },
    ])
    const verdict = await verifyRatlsCertificate(der, simOptions(key, { policy: POLICY_A }))
    assert.equal(verdict.verdict, 'valid', verdict.reason)
    assert.equal(status(verdict, 'key-binding:intel-sgx-sdk'), 'pass')
    assert.equal(status(verdict, 'appraisal:intel-sgx-sdk'), 'pass')
  })

  it('rejects a repeated TCG extension', async () => {
    const key = await newSimKey()
    const der = await severalExtensionCertificate(key, MEASUREMENT_A, [], { repeatTcg: true })
    const verdict = await verifyRatlsCertificate(der, simOptions(key, { policy: POLICY_A }))
    assert.equal(status(verdict, 'extension'), 'fail')
    assert.equal(verdict.code, 'ERR_PARSE_MALFORMED')
    assert.match(verdict.reason, /^extension: .*2 extensions with OID 2\.23\.133\.5\.4\.9/)
    assert.equal(status(verdict, 'evidence'), undefined)
    assert.equal(verdict.accepted, false)
  })

  for (const oid of [GRAMINE_QUOTE_OID, INTEL_SGX_SDK_QUOTE_OID]) {
    const label = INTEROP_LABELS[oid] ?? oid
    it(`rejects a ${label} quote that binds another key`, async () => {
      const key = await newSimKey()
      const der = await severalExtensionCertificate(key, MEASUREMENT_A, [
        { oid, mrTd: MEASUREMENT_A, reportData: new Uint8Array(32).fill(1) },
      ])
      const verdict = await verifyRatlsCertificate(der, simOptions(key, { policy: POLICY_A }))
      assert.equal(status(verdict, 'key-binding'), 'pass')
      assert.equal(status(verdict, `evidence:${label}`), 'pass')
      assert.equal(status(verdict, `key-binding:${label}`), 'fail')
      assert.equal(verdict.code, 'ERR_VERIFY_BINDING')
      assert.equal(verdict.accepted, false)
    })
  }

  it("labels Gramine's intended OID by its OID after the written one", async () => {
    const key = await newSimKey()
    const der = await severalExtensionCertificate(key, MEASUREMENT_A, [
      { oid: GRAMINE_QUOTE_OID, mrTd: MEASUREMENT_A },
      { oid: GRAMINE_QUOTE_OID_INTENDED, mrTd: MEASUREMENT_B },
    ])
    const verdict = await verifyRatlsCertificate(der, simOptions(key, { policy: POLICY_A }))
    assert.equal(status(verdict, 'appraisal:gramine'), 'pass')
    assert.equal(status(verdict, `appraisal:${GRAMINE_QUOTE_OID_INTENDED}`), 'fail')
    assert.equal(verdict.accepted, false)
  })

  it('verifies a quote under two OIDs once', async () => {
    const key = await newSimKey()
    const der = await severalExtensionCertificate(key, MEASUREMENT_A, [
      { oid: INTEL_SGX_SDK_QUOTE_OID },
    ])
    const cache = new RatlsCache()
    const verdict = await verifyRatlsCertificate(der, simOptions(key, { policy: POLICY_A, cache }))
    assert.equal(verdict.verdict, 'valid', verdict.reason)
    assert.equal(cache.size, 1)
  })
})
