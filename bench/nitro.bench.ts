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
 * Every subject runs sequentially on the main thread. Each one is warmed up, then measured for a
 * fixed time per round, rounds taken in turn, and the median round is reported.
 *
 * Run with `npm run bench:nitro`. BENCH_MS (measured time per round, default 2000) and
 * BENCH_ROUNDS (default 3) change the run.
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
import { cpus } from 'node:os'
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

const WARMUP_MS = 500
const MEASURE_MS = Number(process.env.BENCH_MS ?? 2000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

interface BenchDocument {
  readonly label: string
  readonly bytes: Uint8Array
  readonly base64: string
  readonly at: Date
  readonly evidence: NitroEvidence
}

interface Subject {
  readonly name: string
  readonly run: () => unknown
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
      if (result.verdict !== 'valid') {
        const failed = result.checks.filter((check) => check.status !== 'pass')
        throw new Error(`confide returned ${result.verdict}: ${JSON.stringify(failed)}`)
      }
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

/** Runs `run` back to back for at least `ms` milliseconds and returns calls per second. */
async function opsPerSecond(run: () => unknown, ms: number): Promise<number> {
  const start = performance.now()
  let count = 0
  let elapsed = 0
  do {
    const pending = run()
    if (pending instanceof Promise) await pending
    count++
    elapsed = performance.now() - start
  } while (elapsed < ms)

  return (count * 1000) / elapsed
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length % 2 === 1) return sorted[middle]!

  return (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function measureAll(subjects: readonly Subject[]): Promise<Map<string, number>> {
  for (const subject of subjects) await opsPerSecond(subject.run, WARMUP_MS)
  const rounds = new Map<string, number[]>(subjects.map((subject) => [subject.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const subject of subjects) {
      rounds.get(subject.name)!.push(await opsPerSecond(subject.run, MEASURE_MS))
    }
  }

  return new Map([...rounds].map(([name, values]) => [name, median(values)]))
}

function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
  console.log(line(header).join('  '))
  for (const row of rows) console.log(line(row).join('  '))
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
  const rejections: string[] = []
  for (const subject of candidates) {
    try {
      await subject.run()
      subjects.push(subject)
    } catch (error) {
      // Only peers may reject a document, because confide and the floor must accept every one.
      if (/^(confide|floor)/.test(subject.name)) throw error
      rejections.push(`${subject.name}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  console.log('AWS Nitro attestation document verification, one core, sequential')
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical CPUs`,
  )
  console.log(
    `docs/s: median of ${ROUNDS} rounds of ${MEASURE_MS} ms after ${WARMUP_MS} ms of warm-up\n`,
  )
  const results = await measureAll(subjects)

  const names = ['confide', 'tee-verifier', 'evervault', 'floor', 'floor+import']
  for (const document of documents) {
    const rate = (name: string) => results.get(`${name} ${document.label}`) ?? Number.NaN
    const confide = rate('confide')
    console.log(document.label)
    printTable(
      ['subject', 'docs/s', 'confide / subject'],
      names.map((name) => {
        const value = rate(name)
        if (Number.isNaN(value)) return [name, 'rejected', 'n/a']
        return [
          name,
          Math.round(value).toLocaleString('en-US'),
          `${((confide / value) * 100).toFixed(0)} %`,
        ]
      }),
    )
    console.log('')
  }
  for (const rejection of rejections) console.log(`rejected by ${rejection}`)
}

await main()
