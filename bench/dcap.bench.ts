/**
 * Throughput of Intel DCAP quote verification on one core, in one process and one run:
 *
 * - confide: `verifyEvidence` on the quote bytes (parse included) with one CollateralBundle and
 *   one VerificationCache reused, so decoded collateral and verified chains come from the cache,
 *   while dates are still judged on every call. Every call must return the verdict `valid`.
 * - dcap-qvl: `verify` of `@phala/dcap-qvl` on the same quote and the same collateral.
 * - floor: the two ECDSA P-256 verifications that every quote requires, with node:crypto: the QE
 *   report signature with the PCK key already imported, and the quote signature after importing
 *   the attestation key from its raw 64-byte point.
 *
 * The bench also times three ways to import the raw attestation key. bench/harness.ts describes
 * how the subjects are measured and the environment variables that change the run. Run with
 * `taskset -c 0 npm run bench`.
 */
import {
  createPublicKey,
  type KeyObject,
  KeyObject as NodeKeyObject,
  verify as nodeVerify,
  webcrypto,
  X509Certificate,
} from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { verify as dcapQvlVerify } from '@phala/dcap-qvl'
import { decodePem, toHex } from '../src/core/bytes.js'
import type { CollateralBundle } from '../src/core/collateral-bundle.js'
import { type DcapQuote, parseQuote } from '../src/platforms/dcap/quote.js'
import { parseSignedJson } from '../src/platforms/dcap/signed-json.js'
import { bundleFromDir, corpusRoot } from '../test/helpers/corpus.js'
import {
  type BenchResults,
  confideSubject,
  formatOps,
  formatTimes,
  printComparisonTable,
  printTable,
  runBench,
  type Subject,
} from './harness.js'

/** Key imports are cheap and steady, so they get a quarter of the time. */
const IMPORT_WEIGHT = 0.25

/** The collateral object that `@phala/dcap-qvl` verifies against. */
type DcapQvlCollateral = Parameters<typeof dcapQvlVerify>[1]

interface BenchCase {
  readonly label: string
  readonly platform: 'sgx' | 'tdx'
  readonly dir: string
}

const CASES: readonly BenchCase[] = [
  {
    label: 'SGX v3',
    platform: 'sgx',
    dir: join(corpusRoot, 'intel-sgx', 'sgx-v3-dcapqvl-config-swhardening'),
  },
  {
    label: 'TDX v4',
    platform: 'tdx',
    dir: join(corpusRoot, 'intel-tdx', 'tdx-v4-tinfoil-full-collateral-uptodate'),
  },
]

interface LoadedCase extends BenchCase {
  readonly quoteBytes: Uint8Array
  readonly quote: DcapQuote
  readonly at: Date
  readonly expectedTcbStatus: string
  readonly bundle: CollateralBundle
  readonly dcapQvlCollateral: DcapQvlCollateral
}

function readFile(dir: string, path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, path)))
}

function readText(dir: string, path: string): string {
  return readFileSync(join(dir, path), 'utf8')
}

/**
 * Builds dcap-qvl's collateral object from Intel PCS files: the signed JSON bodies as their exact
 * signed text, CRLs and signatures as hex. dcap-qvl takes one PCK CRL: the one of the PCK's issuer.
 */
function dcapQvlCollateralFromFiles(dir: string): DcapQvlCollateral {
  const tcbInfo = parseSignedJson(readFile(dir, 'tcb_info.json'), 'tcbInfo', 'TcbInfo')
  const qeIdentity = parseSignedJson(
    readFile(dir, 'qe_identity.json'),
    'enclaveIdentity',
    'QeIdentity',
  )
  const text = new TextDecoder()
  return {
    pck_crl_issuer_chain: readText(dir, 'pck_crl_issuer_chain.pem'),
    root_ca_crl: toHex(readFile(dir, 'root_ca_crl.der')),
    pck_crl: toHex(readFile(dir, 'pck_crl.der')),
    tcb_info_issuer_chain: readText(dir, 'tcb_info_issuer_chain.pem'),
    tcb_info: text.decode(tcbInfo.body),
    tcb_info_signature: toHex(tcbInfo.signature),
    qe_identity_issuer_chain: readText(dir, 'qe_identity_issuer_chain.pem'),
    qe_identity: text.decode(qeIdentity.body),
    qe_identity_signature: toHex(qeIdentity.signature),
  }
}

/** Reads a case: dcap-qvl's own collateral file when the case has one, else the PCS files. */
function loadCase(benchCase: BenchCase): LoadedCase {
  const expect = JSON.parse(readText(benchCase.dir, 'expect.json'))
  const collateralDir = join(benchCase.dir, 'collateral')
  let dcapQvlCollateral: DcapQvlCollateral
  try {
    dcapQvlCollateral = JSON.parse(readText(collateralDir, 'dcap-qvl-collateral.json'))
  } catch {
    dcapQvlCollateral = dcapQvlCollateralFromFiles(collateralDir)
  }
  const quoteBytes = readFile(benchCase.dir, 'quote.bin')

  return {
    ...benchCase,
    quoteBytes,
    quote: parseQuote(quoteBytes),
    at: new Date(expect.verification_time),
    expectedTcbStatus: expect.expected.tcb_status,
    bundle: bundleFromDir(collateralDir),
    dcapQvlCollateral,
  }
}

/** Returns dcap-qvl's subject, or the reason it cannot verify this quote. */
function dcapQvlSubject(loaded: LoadedCase): Subject | string {
  const nowSeconds = loaded.at.getTime() / 1000
  const run = () => dcapQvlVerify(loaded.quoteBytes, loaded.dcapQvlCollateral, nowSeconds)
  try {
    const report = run()
    if (report.status !== loaded.expectedTcbStatus)
      return `returned TCB status ${report.status}, expected ${loaded.expectedTcbStatus}`
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined
    return `threw "${String(error)}"${cause === undefined ? '' : ` (cause: ${cause.message})`}`
  }

  return { name: `dcap-qvl ${loaded.label}`, run }
}

const ECDSA_P256_IMPORT = { name: 'ECDSA', namedCurve: 'P-256' } as const
const UNCOMPRESSED_POINT = new Uint8Array([0x04])
/** DER of a SubjectPublicKeyInfo for id-ecPublicKey on prime256v1, up to the point's bytes. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')

/** Imports a raw P-256 point through WebCrypto's `raw` format: the fastest path on Node 20. */
async function importRawWebCrypto(point: Uint8Array): Promise<KeyObject> {
  const raw = Buffer.concat([UNCOMPRESSED_POINT, point])
  const key = await webcrypto.subtle.importKey('raw', raw, ECDSA_P256_IMPORT, true, ['verify'])
  return NodeKeyObject.from(key)
}

function importRawJwk(point: Uint8Array): KeyObject {
  const coordinate = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: coordinate(point.subarray(0, 32)),
    y: coordinate(point.subarray(32)),
  }
  return createPublicKey({ key: jwk, format: 'jwk' })
}

function importRawSpki(point: Uint8Array): KeyObject {
  const der = Buffer.concat([P256_SPKI_PREFIX, UNCOMPRESSED_POINT, point])
  return createPublicKey({ key: der, format: 'der', type: 'spki' })
}

/** Ways to turn a raw 64-byte P-256 point into a KeyObject, by name. */
const KEY_IMPORTS: ReadonlyArray<readonly [string, (point: Uint8Array) => unknown]> = [
  ['WebCrypto raw', importRawWebCrypto],
  ['JWK', importRawJwk],
  ['SPKI DER', importRawSpki],
]

function pckKey(quote: DcapQuote): KeyObject {
  const leaf = decodePem(new TextDecoder().decode(quote.pckChainPem))[0]
  if (leaf === undefined) throw new Error('the quote carries no PCK certificate')
  return new X509Certificate(Buffer.from(leaf.der)).publicKey
}

function floorSubject(loaded: LoadedCase): Subject {
  const quote = loaded.quote
  const pck = pckKey(quote)
  const verifyP256 = (key: KeyObject, data: Uint8Array, signature: Uint8Array) => {
    if (!nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature))
      throw new Error(`a signature of the ${loaded.label} quote does not verify`)
  }
  return {
    name: `floor ${loaded.label}`,
    run: async () => {
      verifyP256(pck, quote.qeReport.bytes, quote.qeReportSignature)
      const attestationKey = await importRawWebCrypto(quote.attestationKey)
      verifyP256(attestationKey, quote.signedBytes, quote.signature)
    },
  }
}

function importSubjects(point: Uint8Array): Subject[] {
  return KEY_IMPORTS.map(([name, importKey]) => ({
    name: `import ${name}`,
    weight: IMPORT_WEIGHT,
    run: () => importKey(point),
  }))
}

function printResults(
  loaded: readonly LoadedCase[],
  results: BenchResults,
  dcapQvlFailures: readonly string[],
): void {
  printComparisonTable(results, {
    caseColumn: 'quote',
    cases: loaded.map((item) => item.label),
    peer: 'dcap-qvl',
    formatPeerRatio: formatTimes,
  })
  for (const failure of dcapQvlFailures) console.log(`\n${failure}`)

  console.log('\nAttestation key import: raw 64-byte P-256 point to a KeyObject')
  printTable(
    ['path', 'ops/s'],
    KEY_IMPORTS.map(([name]) => [name, formatOps(results.opsPerSecond(`import ${name}`))]),
  )
}

async function main(): Promise<void> {
  const loaded = CASES.map(loadCase)
  const subjects: Subject[] = []
  const dcapQvlFailures: string[] = []
  for (const item of loaded) {
    subjects.push(
      confideSubject(item.label, item.quoteBytes, {
        platform: item.platform,
        at: item.at,
        collateral: item.bundle,
      }),
    )
    const dcapQvl = dcapQvlSubject(item)
    if (typeof dcapQvl === 'string') dcapQvlFailures.push(`dcap-qvl ${item.label}: ${dcapQvl}`)
    else subjects.push(dcapQvl)
    subjects.push(floorSubject(item))
  }
  subjects.push(...importSubjects(loaded[0]!.quote.attestationKey))

  await runBench({
    title: 'Intel DCAP quote verification, one core, sequential',
    subjects,
    report: (results) => printResults(loaded, results, dcapQvlFailures),
  })
}

await main()
