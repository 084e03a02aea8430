/**
 * Throughput of SEV-SNP report verification on one core, in one process and one run:
 *
 * - confide: `verifyEvidence` on the report bytes, parse and claims included. One CollateralBundle
 *   and one VerificationCache are reused, so the decoded certificates and the verified
 *   VCEK → ASK → ARK signatures come from the cache. Validity dates are still judged on every
 *   call, and every call must return the verdict `valid`.
 * - tinfoil: `@tinfoilsh/verifier` 1.1, which verifies Genoa reports only. Its public
 *   `verifyAttestation` also enforces Tinfoil's deployment policy (TSME on, and more), which the
 *   Azure Genoa report of the corpus does not meet, so the bench calls the same steps below that
 *   policy: `new Report(bytes)` and its internal `verifyAttestation(chain, report)` (chain
 *   signatures, then the report signature), with the ARK/ASK/VCEK chain object built once. It has
 *   no cache, so it checks the three chain signatures on every call, and it judges dates at the
 *   wall-clock time.
 * - floor: the one ECDSA P-384 verification every report requires, with node:crypto and the VCEK
 *   key already imported.
 *
 * Every subject runs sequentially on the main thread. Run the process pinned to one CPU
 * (`taskset -c 0 npm run bench:snp`) so WebCrypto's thread pool cannot borrow other cores. Each
 * subject is warmed up. A round then gives each subject the same time in short slices taken in
 * turn, and the median of the rounds is reported.
 *
 * The environment variables BENCH_MS (measured time per round, default 2000), BENCH_ROUNDS
 * (default 3) and BENCH_ONLY (a regular expression on subject names) change the run.
 */
import { type KeyObject, verify as nodeVerify, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { VerificationCache } from '../src/core/cache.js'
import type { CollateralBundle } from '../src/core/collateral-bundle.js'
import { parseSnpReport, rawSnpSignature, type SnpReport } from '../src/platforms/snp/index.js'
import { verifyEvidence } from '../src/verify.js'
import { bundleFromDir, corpusRoot } from '../test/helpers/corpus.js'

const WARMUP_MS = 500
const MEASURE_MS = Number(process.env.BENCH_MS ?? 2000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
/** Slices per round and subject: short turns, so a burst of load hits every subject. */
const SLICES = 20
const ONLY = process.env.BENCH_ONLY === undefined ? undefined : new RegExp(process.env.BENCH_ONLY)

interface BenchCase {
  readonly label: string
  readonly dir: string
  /** Whether @tinfoilsh/verifier can verify this report (it pins Genoa only). */
  readonly tinfoil: boolean
}

const CASES: readonly BenchCase[] = [
  { label: 'Genoa v3', dir: 'snp-v3-genoa-vcek-azure', tinfoil: true },
  { label: 'Milan v3', dir: 'snp-v3-milan-vcek-msft', tinfoil: false },
  { label: 'Turin v5', dir: 'snp-v5-turin-vcek-msft', tinfoil: false },
]

interface LoadedCase extends BenchCase {
  readonly bytes: Uint8Array
  readonly report: SnpReport
  readonly vcek: Uint8Array
  readonly at: Date
  readonly bundle: CollateralBundle
}

interface Subject {
  readonly name: string
  readonly run: () => unknown
}

function loadCase(benchCase: BenchCase): LoadedCase {
  const dir = join(corpusRoot, 'amd-sev-snp', benchCase.dir)
  const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8'))
  const bytes = new Uint8Array(readFileSync(join(dir, 'report.bin')))
  return {
    ...benchCase,
    bytes,
    report: parseSnpReport(bytes),
    vcek: new Uint8Array(readFileSync(join(dir, 'certs', 'vcek.der'))),
    at: new Date(expect.verification_time),
    bundle: bundleFromDir(join(dir, 'certs')),
  }
}

function confideSubject(loaded: LoadedCase): Subject {
  const options = {
    platform: 'snp',
    at: loaded.at,
    collateral: loaded.bundle,
    cache: new VerificationCache(),
  }
  return {
    name: `confide ${loaded.label}`,
    run: async () => {
      const result = await verifyEvidence(loaded.bytes, options)
      if (result.verdict !== 'valid') {
        const failed = result.checks.filter((check) => check.status !== 'pass')
        throw new Error(
          `confide returned ${result.verdict} for ${loaded.label}: ${JSON.stringify(failed)}`,
        )
      }
    },
  }
}

/** The internal modules of @tinfoilsh/verifier that its package exports do not list. */
interface TinfoilInternals {
  readonly Report: new (bytes: Uint8Array) => unknown
  readonly CertificateChain: { fromReport(report: unknown, vcek: Uint8Array): Promise<unknown> }
  readonly verifyAttestation: (chain: unknown, report: unknown) => Promise<boolean>
}

async function loadTinfoil(): Promise<TinfoilInternals> {
  const entry = import.meta.resolve('@tinfoilsh/verifier')
  const load = (path: string) => import(new URL(path, entry).href)
  const [report, chain, verify] = await Promise.all([
    load('./sev/report.js'),
    load('./sev/cert-chain.js'),
    load('./sev/verify.js'),
  ])
  return {
    Report: report.Report,
    CertificateChain: chain.CertificateChain,
    verifyAttestation: verify.verifyAttestation,
  }
}

/** Returns tinfoil's subject, or the reason it cannot verify this report. */
async function tinfoilSubject(
  loaded: LoadedCase,
  tinfoil: TinfoilInternals,
): Promise<Subject | string> {
  try {
    const chain = await tinfoil.CertificateChain.fromReport(
      new tinfoil.Report(loaded.bytes),
      loaded.vcek,
    )
    const run = async () => {
      if (!(await tinfoil.verifyAttestation(chain, new tinfoil.Report(loaded.bytes)))) {
        throw new Error(`tinfoil rejected ${loaded.label}`)
      }
    }
    await run()
    return { name: `tinfoil ${loaded.label}`, run }
  } catch (error) {
    return `threw "${error instanceof Error ? error.message : String(error)}"`
  }
}

function floorSubject(loaded: LoadedCase): Subject {
  const key: KeyObject = new X509Certificate(Buffer.from(loaded.vcek)).publicKey
  const signature = rawSnpSignature(loaded.report)
  if (signature === undefined) throw new Error(`${loaded.label} has an oversized signature`)
  return {
    name: `floor ${loaded.label}`,
    run: () => {
      const options = { key, dsaEncoding: 'ieee-p1363' } as const
      if (!nodeVerify('sha384', loaded.report.signedBytes, options, signature)) {
        throw new Error(`the floor signature of ${loaded.label} does not verify`)
      }
    },
  }
}

/** Calls and time of one subject, added up over the slices of a round. */
interface Tally {
  count: number
  elapsed: number
}

/** Runs `run` back to back for at least `ms` milliseconds, adding calls and time to `tally`. */
async function runFor(run: () => unknown, ms: number, tally: Tally): Promise<void> {
  const start = performance.now()
  let count = 0
  let elapsed = 0
  do {
    const pending = run()
    if (pending instanceof Promise) await pending
    count++
    elapsed = performance.now() - start
  } while (elapsed < ms)
  tally.count += count
  tally.elapsed += elapsed
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length % 2 === 1) return sorted[middle]!

  return (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * Warms every subject up, then measures ROUNDS rounds. Each round gives every subject MEASURE_MS
 * in SLICES slices taken in turn, so load from other processes falls on all subjects alike.
 */
async function measureAll(subjects: readonly Subject[]): Promise<Map<string, number[]>> {
  for (const subject of subjects) await runFor(subject.run, WARMUP_MS, { count: 0, elapsed: 0 })
  const rounds = new Map<string, number[]>(subjects.map((subject) => [subject.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const tallies = subjects.map(() => ({ count: 0, elapsed: 0 }))
    for (let slice = 0; slice < SLICES; slice++) {
      for (const [index, subject] of subjects.entries()) {
        await runFor(subject.run, MEASURE_MS / SLICES, tallies[index]!)
      }
    }
    for (const [index, subject] of subjects.entries()) {
      const tally = tallies[index]!
      rounds.get(subject.name)!.push((tally.count * 1000) / tally.elapsed)
    }
  }

  return rounds
}

function formatOps(rounds: readonly number[] | undefined): string {
  if (rounds === undefined || rounds.length === 0) return 'n/a'
  return Math.round(median(rounds)).toLocaleString('en-US')
}

function formatRatio(numerator?: readonly number[], denominator?: readonly number[]): string {
  if (numerator === undefined || denominator === undefined) return 'n/a'
  if (numerator.length === 0 || denominator.length === 0) return 'n/a'
  return `${((median(numerator) / median(denominator)) * 100).toFixed(0)} %`
}

function spread(rounds: readonly number[]): string {
  const low = Math.min(...rounds)
  const high = Math.max(...rounds)
  return `${(((high - low) / median(rounds)) * 100).toFixed(1)} %`
}

function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
  console.log(line(header).join('  '))
  for (const row of rows) console.log(line(row).join('  '))
}

async function main(): Promise<void> {
  const loaded = CASES.map(loadCase)
  const tinfoil = await loadTinfoil()
  const subjects: Subject[] = []
  const tinfoilFailures: string[] = []
  for (const item of loaded) {
    subjects.push(confideSubject(item))
    if (item.tinfoil) {
      const subject = await tinfoilSubject(item, tinfoil)
      if (typeof subject === 'string') tinfoilFailures.push(`tinfoil ${item.label}: ${subject}`)
      else subjects.push(subject)
    }
    subjects.push(floorSubject(item))
  }
  const selected = subjects.filter((subject) => ONLY === undefined || ONLY.test(subject.name))

  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  console.log('AMD SEV-SNP report verification, one core, sequential, VCEK chain cached')
  console.log(`node ${process.version}, ${cpu}, ${cpus().length} logical CPUs`)
  const plan = `${ROUNDS} rounds of ${MEASURE_MS} ms in ${SLICES} slices`
  console.log(`ops/s: median of ${plan}, after ${WARMUP_MS} ms of warm-up\n`)
  const rounds = await measureAll(selected)

  printTable(
    ['report', 'confide', 'tinfoil', 'floor', 'confide/floor', 'confide/tinfoil'],
    loaded.map((item) => {
      const confide = rounds.get(`confide ${item.label}`)
      const other = rounds.get(`tinfoil ${item.label}`)
      const floor = rounds.get(`floor ${item.label}`)
      return [
        item.label,
        formatOps(confide),
        formatOps(other),
        formatOps(floor),
        formatRatio(confide, floor),
        formatRatio(confide, other),
      ]
    }),
  )
  for (const failure of tinfoilFailures) console.log(`\n${failure}`)

  console.log('\nSpread between rounds, (max - min) / median')
  printTable(
    ['subject', 'spread'],
    [...rounds]
      .filter(([, values]) => values.length > 0)
      .map(([name, values]) => [name, spread(values)]),
  )
}

await main()
