/**
 * Throughput of AWS Nitro attestation document verification on one core, in one process and one
 * run. Each subject verifies the same corpus documents:
 *
 * - confide: parse and verify the COSE bytes with the `nitro` platform and one VerificationCache
 *   reused, as for a stream of documents from one enclave host. The CA bundle comes from the
 *   cache, while the signing certificate (new in every document), both signatures and every date
 *   are checked on every call. Every call must return the verdict `valid`.
 * - @0xsequence/tee-verifier: `SignedAttestation.fromDocument` on the base64 text, then
 *   `verifyRootOfTrust` at the same instant, `rootCertFingerprint` and `verifySignature`.
 * - @evervault/wasm-attestation-bindings: `validateAttestationDocPcrs` with the document's own
 *   PCR0, PCR1, PCR2 and PCR8. `Date.now`, which the WebAssembly reads the clock through, is
 *   pinned to the same instant while it runs.
 * - floor: the two ECDSA P-384 verifications every document needs, with node:crypto and the keys
 *   already imported: the signing certificate's signature and the COSE signature.
 * - floor+import: the floor plus the import of the signing certificate's key through WebCrypto's
 *   raw format, which on Node 20 is faster than the SPKI DER and JWK imports.
 *
 * bench/harness.ts describes how the subjects are measured and the environment variables that
 * change the run. Run with `taskset -c 0 npm run bench:nitro`.
 */
import {
  KeyObject,
  type KeyObject as KeyObjectType,
  verify as nodeVerify,
  webcrypto,
  X509Certificate,
} from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { SignedAttestation } from '@0xsequence/tee-verifier'
import { initSync, PCRs, validateAttestationDocPcrs } from '@evervault/wasm-attestation-bindings'
import { toBase64, toHex } from '../src/core/bytes.js'
import { VerificationCache } from '../src/core/cache.js'
import { createNodeCrypto } from '../src/crypto/node.js'
import { AWS_NITRO_ROOT_G1_SHA256 } from '../src/platforms/nitro/anchors.js'
import { type NitroEvidence, parseNitroEvidence } from '../src/platforms/nitro/evidence.js'
import { nitroPlatform } from '../src/platforms/nitro/index.js'
import { corpusRoot } from '../test/helpers/corpus.js'
import {
  type BenchResults,
  formatOps,
  formatPercent,
  printTable,
  requireValid,
  runBench,
  type Subject,
} from './harness.js'

interface BenchDocument {
  readonly label: string
  readonly bytes: Uint8Array
  readonly base64: string
  readonly at: Date
  readonly evidence: NitroEvidence
}

const CASES = ['nitro-evervault-beta-prod', 'nitro-blocky-prod']

function loadDocument(name: string): BenchDocument {
  const dir = join(corpusRoot, 'aws-nitro', name)
  const bytes = new Uint8Array(readFileSync(join(dir, 'attestation_doc.cose')))
  const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8'))
  return {
    label: `${name} (${bytes.length} B)`,
    bytes,
    base64: toBase64(bytes),
    at: new Date(expect.verification_time),
    evidence: parseNitroEvidence(bytes),
  }
}

function confideSubject(document: BenchDocument): Subject {
  const platform = nitroPlatform()
  const context = { at: document.at, crypto: createNodeCrypto(), cache: new VerificationCache() }
  return {
    name: `confide ${document.label}`,
    run: async () => {
      const result = await platform.verify(platform.parse(document.bytes), context)
      requireValid(result, document.label)
    },
  }
}

/**
 * Runs tee-verifier's `rootCertFingerprint`, which reads `window.crypto`. `window` exists only for
 * that call, because pkijs looks for its crypto engine elsewhere when `window` is defined.
 */
async function rootFingerprint(attestation: SignedAttestation): Promise<string> {
  const global = globalThis as { window?: unknown }
  global.window = globalThis
  try {
    return await attestation.rootCertFingerprint()
  } finally {
    delete global.window
  }
}

function sequenceSubject(document: BenchDocument): Subject {
  return {
    name: `tee-verifier ${document.label}`,
    run: async () => {
      const attestation = SignedAttestation.fromDocument(document.base64)
      const chain = await attestation.verifyRootOfTrust(document.at)
      const root = (await rootFingerprint(attestation)) === AWS_NITRO_ROOT_G1_SHA256
      const signature = await attestation.verifySignature()
      if (!chain || !root || !signature) {
        throw new Error(
          `tee-verifier rejected: chain ${chain}, root ${root}, signature ${signature}`,
        )
      }
    },
  }
}

function loadEvervault(): void {
  const require = createRequire(import.meta.url)
  const wasm = require.resolve('@evervault/wasm-attestation-bindings/index_bg.wasm')
  initSync({ module: readFileSync(wasm) })
}

function evervaultSubject(document: BenchDocument): Subject {
  const pcr = (index: number) =>
    toHex(document.evidence.document.pcrs.get(index) ?? new Uint8Array())
  const time = document.at.getTime()
  return {
    name: `evervault ${document.label}`,
    run: () => {
      const expected = new PCRs(pcr(0), pcr(1), pcr(2), pcr(8))
      const now = Date.now
      Date.now = () => time
      try {
        if (!validateAttestationDocPcrs(document.base64, [expected])) {
          throw new Error('evervault rejected the document')
        }
      } finally {
        Date.now = now
      }
    },
  }
}

function floorSubjects(document: BenchDocument): Subject[] {
  const { evidence } = document
  const leaf = evidence.signingCertificate
  const issuerDer = evidence.document.cabundle[evidence.document.cabundle.length - 1]!
  const issuerKey = new X509Certificate(Buffer.from(issuerDer)).publicKey
  const leafKey = new X509Certificate(Buffer.from(leaf.der)).publicKey
  const leafPoint = leaf.spki.subarray(leaf.spki.length - 97)
  const check = (valid: boolean) => {
    if (!valid) throw new Error(`a floor signature of ${document.label} does not verify`)
  }
  const verifyBoth = (key: KeyObjectType) => {
    check(nodeVerify('sha384', leaf.tbs, { key: issuerKey, dsaEncoding: 'der' }, leaf.signature))
    check(
      nodeVerify(
        'sha384',
        evidence.cose.toBeSigned,
        { key, dsaEncoding: 'ieee-p1363' },
        evidence.cose.signature,
      ),
    )
  }
  const importLeaf = async () => {
    const algorithm = { name: 'ECDSA', namedCurve: 'P-384' }
    return KeyObject.from(
      await webcrypto.subtle.importKey('raw', leafPoint, algorithm, true, ['verify']),
    )
  }
  return [
    { name: `floor ${document.label}`, run: () => verifyBoth(leafKey) },
    { name: `floor+import ${document.label}`, run: async () => verifyBoth(await importLeaf()) },
  ]
}

const SUBJECT_KINDS = ['confide', 'tee-verifier', 'evervault', 'floor', 'floor+import']

/** Prints a table per document; `rejected` names the subjects that rejected a document. */
function printResults(
  documents: readonly BenchDocument[],
  results: BenchResults,
  rejected: ReadonlyMap<string, string>,
): void {
  for (const document of documents) {
    const confide = `confide ${document.label}`
    console.log(document.label)
    printTable(
      ['subject', 'docs/s', 'confide / subject'],
      SUBJECT_KINDS.map((kind) => {
        const name = `${kind} ${document.label}`
        if (rejected.has(name)) return [kind, 'rejected', 'n/a']
        return [
          kind,
          formatOps(results.opsPerSecond(name)),
          formatPercent(results.ratio(confide, name)),
        ]
      }),
    )
    console.log('')
  }
  for (const [name, reason] of rejected) console.log(`rejected by ${name}: ${reason}`)
}

async function main(): Promise<void> {
  loadEvervault()
  const documents = CASES.map(loadDocument)
  const candidates = documents.flatMap((document) => [
    confideSubject(document),
    sequenceSubject(document),
    evervaultSubject(document),
    ...floorSubjects(document),
  ])
  const subjects: Subject[] = []
  const rejected = new Map<string, string>()
  for (const subject of candidates) {
    try {
      await subject.run()
      subjects.push(subject)
    } catch (error) {
      // Only peers may reject a document, because confide and the floor must accept every one.
      if (/^(confide|floor)/.test(subject.name)) throw error
      rejected.set(subject.name, error instanceof Error ? error.message : String(error))
    }
  }

  await runBench({
    title: 'AWS Nitro attestation document verification, one core, sequential',
    unit: 'docs/s',
    subjects,
    report: (results) => printResults(documents, results, rejected),
  })
}

await main()
