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
 * Every subject runs sequentially on the main thread. Each one is warmed up, then measured for a
 * fixed time per round, rounds taken in turn, and the median round is reported. A ratio is the
 * median of the ratios within each round, where both subjects ran seconds apart, so a slow spell
 * of a shared machine weighs on both sides of it.
 *
 * Run with `npm run bench`. The environment variables BENCH_MS (measured time per round, default
 * 1200), BENCH_ROUNDS (default 5) and BENCH_ONLY (a regular expression on subject names, for
 * profiling one subject) change the run.
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
import { cpus } from 'node:os'
import { join } from 'node:path'
import { verify as dcapQvlVerify } from '@phala/dcap-qvl'
import { decodePem, toHex } from '../src/core/bytes.js'
import { VerificationCache } from '../src/core/cache.js'
import type { CollateralBundle } from '../src/core/collateral-bundle.js'
import { type DcapQuote, parseQuote } from '../src/platforms/dcap/quote.js'
import { parseSignedJson } from '../src/platforms/dcap/signed-json.js'
import { verifyEvidence } from '../src/verify.js'
import { bundleFromDir, corpusRoot } from '../test/helpers/corpus.js'

const WARMUP_MS = 500
const MEASURE_MS = Number(process.env.BENCH_MS ?? 1200)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
/** Key imports are cheap and steady, so they get a quarter of the time. */
const IMPORT_MEASURE_MS = MEASURE_MS / 4
const ONLY = process.env.BENCH_ONLY === undefined ? undefined : new RegExp(process.env.BENCH_ONLY)

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

interface Subject {
  readonly name: string
  readonly measureMs: number
  readonly run: () => unknown
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

function confideSubject(loaded: LoadedCase): Subject {
  const options = {
    platform: loaded.platform,
    at: loaded.at,
    collateral: loaded.bundle,
    cache: new VerificationCache(),
  }
  return {
    name: `confide ${loaded.label}`,
    measureMs: MEASURE_MS,
    run: async () => {
      const result = await verifyEvidence(loaded.quoteBytes, options)
      if (result.verdict !== 'valid') {
        const failed = result.checks.filter((check) => check.status !== 'pass')
        throw new Error(
          `confide returned ${result.verdict} for ${loaded.label}: ${JSON.stringify(failed)}`,
        )
      }
    },
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

  return { name: `dcap-qvl ${loaded.label}`, measureMs: MEASURE_MS, run }
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
    measureMs: MEASURE_MS,
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
    measureMs: IMPORT_MEASURE_MS,
    run: () => importKey(point),
  }))
}

/** One measured round: calls per wall-clock second, and process CPU time over wall time. */
interface Round {
  readonly opsPerSecond: number
  readonly cpuShare: number
}

/** Runs `run` back to back for at least `ms` milliseconds. */
async function measureRound(run: () => unknown, ms: number): Promise<Round> {
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  let count = 0
  let elapsed = 0
  do {
    const pending = run()
    if (pending instanceof Promise) await pending
    count++
    elapsed = performance.now() - start
  } while (elapsed < ms)
  const cpu = process.cpuUsage(cpuStart)
  const cpuMs = (cpu.user + cpu.system) / 1000

  return { opsPerSecond: (count * 1000) / elapsed, cpuShare: cpuMs / elapsed }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length % 2 === 1) return sorted[middle]!

  return (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * Warms every subject up, then measures them in turn, ROUNDS times, so that a busy spell of the
 * machine falls on every subject alike. Returns the rounds of each subject by name.
 */
async function measureAll(subjects: readonly Subject[]): Promise<Map<string, Round[]>> {
  for (const subject of subjects) await measureRound(subject.run, WARMUP_MS)
  const rounds = new Map<string, Round[]>(subjects.map((subject) => [subject.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const subject of subjects) {
      rounds.get(subject.name)!.push(await measureRound(subject.run, subject.measureMs))
    }
  }

  return rounds
}

/** Median ops/s of a subject, or undefined when it was not measured. */
function medianOps(rounds: ReadonlyMap<string, readonly Round[]>, name: string) {
  const measured = rounds.get(name)
  if (measured === undefined || measured.length === 0) return undefined

  return median(measured.map((round) => round.opsPerSecond))
}

function formatOps(ops: number | undefined): string {
  return ops === undefined ? 'n/a' : Math.round(ops).toLocaleString('en-US')
}

/** Median over the rounds of the ratio of two subjects' ops/s in the same round. */
function medianRatio(
  rounds: ReadonlyMap<string, readonly Round[]>,
  numerator: string,
  denominator: string,
): number | undefined {
  const top = rounds.get(numerator)
  const bottom = rounds.get(denominator)
  if (top === undefined || bottom === undefined || top.length === 0) return undefined

  return median(top.map((round, i) => round.opsPerSecond / bottom[i]!.opsPerSecond))
}

function formatPercent(ratio: number | undefined): string {
  return ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(0)} %`
}

function formatTimes(ratio: number | undefined): string {
  return ratio === undefined ? 'n/a' : `${ratio.toFixed(1)}x`
}

function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
  console.log(line(header))
  for (const row of rows) console.log(line(row))
}

function printResults(
  loaded: readonly LoadedCase[],
  rounds: ReadonlyMap<string, readonly Round[]>,
  dcapQvlFailures: readonly string[],
): void {
  printTable(
    ['quote', 'confide', 'dcap-qvl', 'floor', 'confide/floor', 'confide/dcap-qvl'],
    loaded.map((item) => {
      const [confide, dcapQvl, floor] = ['confide', 'dcap-qvl', 'floor'].map(
        (subject) => `${subject} ${item.label}`,
      ) as [string, string, string]
      return [
        item.label,
        formatOps(medianOps(rounds, confide)),
        formatOps(medianOps(rounds, dcapQvl)),
        formatOps(medianOps(rounds, floor)),
        formatPercent(medianRatio(rounds, confide, floor)),
        formatTimes(medianRatio(rounds, confide, dcapQvl)),
      ]
    }),
  )
  for (const failure of dcapQvlFailures) console.log(`\n${failure}`)

  console.log('\nAttestation key import: raw 64-byte P-256 point to a KeyObject')
  printTable(
    ['path', 'ops/s'],
    KEY_IMPORTS.map(([name]) => [name, formatOps(medianOps(rounds, `import ${name}`))]),
  )

  // A CPU share well under 100 % means another process took this core during the rounds.
  console.log('\nRounds: (max - min) / median of ops/s, and process CPU time / wall time')
  printTable(
    ['subject', 'spread', 'CPU share'],
    [...rounds].map(([name, measured]) => {
      const ops = measured.map((round) => round.opsPerSecond)
      const spread = (Math.max(...ops) - Math.min(...ops)) / median(ops)
      const share = median(measured.map((round) => round.cpuShare))
      return [name, `${(spread * 100).toFixed(1)} %`, `${(share * 100).toFixed(0)} %`]
    }),
  )
}

async function main(): Promise<void> {
  const loaded = CASES.map(loadCase)
  const subjects: Subject[] = []
  const dcapQvlFailures: string[] = []
  for (const item of loaded) {
    subjects.push(confideSubject(item))
    const dcapQvl = dcapQvlSubject(item)
    if (typeof dcapQvl === 'string') dcapQvlFailures.push(`dcap-qvl ${item.label}: ${dcapQvl}`)
    else subjects.push(dcapQvl)
    subjects.push(floorSubject(item))
  }
  subjects.push(...importSubjects(loaded[0]!.quote.attestationKey))
  const selected = subjects.filter((subject) => ONLY === undefined || ONLY.test(subject.name))

  console.log('Intel DCAP quote verification, one core, sequential')
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs`,
  )
  console.log(
    `ops/s: median of ${ROUNDS} rounds of ${MEASURE_MS} ms, after ${WARMUP_MS} ms warm-up\n`,
  )
  printResults(loaded, await measureAll(selected), dcapQvlFailures)
}

await main()
