/**
 * Throughput of the workload-side checks on one core, in one process and one run, with the
 * simulated TEE (its evidence is signed with Ed25519, so the platform's own cost is small and
 * what is measured is mostly confide's):
 *
 * - ratls-verify: `verifyRatlsCertificate` on a self-signed RA-TLS certificate (P-256 key, TCG
 *   DICE encoding) under a policy, without a cache: the certificate signature, the sim evidence
 *   signature, the key binding and the appraisal on every call. The crypto adapter keeps the
 *   imported keys, as for a client that meets the same server again.
 * - ratls-verify-new-cert: the same over 300 certificates in turn, more than the adapter keeps,
 *   so every call imports the certificate's key, as for a new server each time.
 * - ratls-verify-cached: the same with a `RatlsCache`, as a client that meets the same server
 *   again: the evidence verification comes from the cache, the certificate is still checked.
 * - ratls-floor: the two signature verifications every uncached call needs, with node:crypto and
 *   the keys already imported: ECDSA P-256 over the certificate and Ed25519 over the evidence.
 * - output-verify: `verifyOutput` on a bundle with two sealed inputs listed: the evidence, the
 *   binding, the policy, the Ed25519 output signature, the measurement and the inputs.
 * - output-floor: its two Ed25519 verifications, keys imported.
 * - seal-input and open-input: HPKE base mode (DHKEM(X25519, HKDF-SHA256), AES-256-GCM) on a
 *   1 KiB input.
 *
 * bench/harness.ts describes how the subjects are measured and the environment variables that
 * change the run. Run with `taskset -c 0 npm run bench:workload`.
 */
import { createPublicKey, type KeyObject, verify as nodeVerify, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Policy } from '../src/appraisal/policy.js'
import { createOutput } from '../src/outputs/create.js'
import { createWorkloadIdentity, identityReportData } from '../src/outputs/identity.js'
import { openInput, sealInput } from '../src/outputs/seal.js'
import { verifyOutput } from '../src/outputs/verify.js'
import { parseCertificate } from '../src/pki/certificate.js'
import { simEvidence } from '../src/platforms/sim/attester.js'
import { loadSimKey } from '../src/platforms/sim/dev-key.js'
import { RatlsCache } from '../src/ratls/cache.js'
import { createRatlsCertificate } from '../src/ratls/certificate.js'
import { verifyRatlsCertificate } from '../src/ratls/verify.js'
import { formatOps, formatPercent, printTable, runBench, type Subject } from './harness.js'

const POLICY: Policy = { id: 'bench:sim', platforms: ['sim'], allowSimulated: true }

/** Returns the signed body and signature of sim evidence, as its verifier reads them. */
function simSignature(evidence: Uint8Array): { body: Uint8Array; signature: Uint8Array } {
  const envelope = JSON.parse(new TextDecoder().decode(evidence)) as {
    body: string
    signature: string
  }
  return {
    body: new Uint8Array(Buffer.from(envelope.body, 'base64url')),
    signature: new Uint8Array(Buffer.from(envelope.signature, 'base64url')),
  }
}

function requireAccepted(accepted: boolean, label: string): void {
  if (!accepted) throw new Error(`${label} was not accepted`)
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'confide-bench-workload-'))
  try {
    const simKey = await loadSimKey({ path: join(folder, 'sim-key.pem'), env: {} })
    const simPublic: KeyObject = createPublicKey({
      key: Buffer.from(simKey.publicKeySpki),
      format: 'der',
      type: 'spki',
    })
    const verify = { trustedKeys: [simKey.publicKeySpki] }

    // RA-TLS: one certificate, verified again and again.
    const attester = {
      attest: async (reportData: Uint8Array) => simEvidence(simKey, { reportData }),
    }
    const certificate = await createRatlsCertificate({ attester, encoding: 'tcg-dice' })
    const x509 = new X509Certificate(Buffer.from(certificate.der))
    const certificatePublic = x509.publicKey
    const tbsAndSignature = certificateSignature(certificate.der)
    const evidenceSignature = simSignature(certificate.evidence)
    const cache = new RatlsCache()
    // More certificates than the crypto adapter keeps imported keys, so each call imports one.
    const fresh: Uint8Array[] = []
    for (let i = 0; i < 300; i++)
      fresh.push((await createRatlsCertificate({ attester, encoding: 'tcg-dice' })).der)
    let next = 0

    // Attested output: a workload, two sealed inputs, one bundle.
    const identity = await createWorkloadIdentity()
    const workloadEvidence = simEvidence(simKey, { reportData: identityReportData(identity) })
    const input = new Uint8Array(1024).fill(7)
    const sealed = await sealInput(identity.publicKeys, input, { label: 'bench' })
    const opened = await openInput(identity, sealed, { label: 'bench' })
    const bundle = await createOutput(
      {
        identity,
        evidence: workloadEvidence,
        result: { json: { sum: 42 } },
        inputs: [opened, opened],
      },
      { verify },
    )
    const outputSignature = { body: bundle.document, signature: bundle.signature }
    const workloadSignature = simSignature(workloadEvidence)
    const outputKey = createPublicKey({
      key: Buffer.from(identity.publicKeys.signingKey),
      format: 'der',
      type: 'spki',
    })

    const subjects: Subject[] = [
      {
        name: 'ratls-verify',
        run: async () => {
          const verdict = await verifyRatlsCertificate(certificate.der, { verify, policy: POLICY })
          requireAccepted(verdict.accepted, 'the RA-TLS certificate')
        },
      },
      {
        name: 'ratls-verify-new-cert',
        run: async () => {
          const der = fresh[next++ % fresh.length]!
          const verdict = await verifyRatlsCertificate(der, { verify, policy: POLICY })
          requireAccepted(verdict.accepted, 'the RA-TLS certificate')
        },
      },
      {
        name: 'ratls-verify-cached',
        run: async () => {
          const options = { verify, policy: POLICY, cache }
          const verdict = await verifyRatlsCertificate(certificate.der, options)
          requireAccepted(verdict.accepted, 'the RA-TLS certificate')
        },
      },
      {
        name: 'ratls-floor',
        run: () => {
          const good =
            nodeVerify('sha256', tbsAndSignature.tbs, certificatePublic, tbsAndSignature.sig) &&
            nodeVerify(null, evidenceSignature.body, simPublic, evidenceSignature.signature)
          requireAccepted(good, 'the floor signatures')
        },
      },
      {
        name: 'output-verify',
        run: async () => {
          const result = await verifyOutput(bundle, {
            verify,
            policy: POLICY,
            expectedInputDigest: opened.digest,
          })
          requireAccepted(result.verdict === 'valid', 'the output bundle')
        },
      },
      {
        name: 'output-floor',
        run: () => {
          const good =
            nodeVerify(null, workloadSignature.body, simPublic, workloadSignature.signature) &&
            nodeVerify(null, outputSignature.body, outputKey, outputSignature.signature)
          requireAccepted(good, 'the floor signatures')
        },
      },
      {
        name: 'seal-input',
        run: () => sealInput(identity.publicKeys, input, { label: 'bench' }),
      },
      {
        name: 'open-input',
        run: () => openInput(identity, sealed, { label: 'bench' }),
      },
    ]
    for (const subject of subjects) await subject.run()

    await runBench({
      title: 'RA-TLS certificate and attested output verification (simulated TEE), one core',
      subjects,
      report: (results) => {
        printTable(
          ['subject', 'ops/s', 'of its floor'],
          [
            [
              'ratls-verify',
              formatOps(results.opsPerSecond('ratls-verify')),
              formatPercent(results.ratio('ratls-verify', 'ratls-floor')),
            ],
            [
              'ratls-verify-new-cert',
              formatOps(results.opsPerSecond('ratls-verify-new-cert')),
              formatPercent(results.ratio('ratls-verify-new-cert', 'ratls-floor')),
            ],
            ['ratls-verify-cached', formatOps(results.opsPerSecond('ratls-verify-cached')), ''],
            ['ratls-floor', formatOps(results.opsPerSecond('ratls-floor')), ''],
            [
              'output-verify',
              formatOps(results.opsPerSecond('output-verify')),
              formatPercent(results.ratio('output-verify', 'output-floor')),
            ],
            ['output-floor', formatOps(results.opsPerSecond('output-floor')), ''],
            ['seal-input', formatOps(results.opsPerSecond('seal-input')), ''],
            ['open-input', formatOps(results.opsPerSecond('open-input')), ''],
          ],
        )
      },
    })
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}

/** Splits a DER certificate into its signed part and its ECDSA signature (DER). */
function certificateSignature(der: Uint8Array): { tbs: Uint8Array; sig: Uint8Array } {
  const certificate = parseCertificate(der)
  return { tbs: certificate.tbs, sig: certificate.signature }
}

await main()
