/**
 * The timing harness that the benches share. It measures how many calls per second each subject
 * completes on one core, with this method:
 *
 * - Every subject runs on the main thread, one call at a time. A call that returns a promise is
 *   awaited before the next call starts.
 * - Warm-up: each subject first runs for 500 ms unmeasured, so that V8 has compiled its hot paths
 *   and the subject's caches are filled before any round starts.
 * - Rounds: in each of BENCH_ROUNDS rounds, every subject gets BENCH_MS of measured time (times
 *   its `weight`) in 10 slices. The slices go round the subjects in turn, so a burst of load from
 *   another process falls on every subject alike instead of on the one that happened to run then.
 *   A subject's rate in a round is its calls over its time, both summed over its slices.
 * - Figures: a subject's rate is the median of its rounds. A ratio between two subjects is the
 *   median over the rounds of the ratio within each round, where both ran side by side.
 * - Trust: for each subject the harness prints the spread of its rounds, (max - min) / median, and
 *   its CPU share: process CPU time (user + system) over wall time during its slices. A share well
 *   under 100 % means another process took the core. A share over 100 % means work ran on other
 *   threads, such as the libuv thread pool that WebCrypto uses, so run the process pinned to one
 *   CPU (`taskset -c 0`) to measure one core.
 *
 * NOTE: taking turns has a cost of its own, and it does not fall evenly. The first calls after a
 * switch run slower, likely because of cold CPU caches, and confide loses more there than the
 * floor. On a 2-CPU Xeon virtual machine (Node 20.20.2, DCAP bench, SGX quote), confide/floor read
 * 92 % to 95 % with these slices against 95 % to 100 % with one slice of 1 s per round.
 *
 * Three environment variables change the run. BENCH_MS is the measured time per subject and round
 * in milliseconds (default 1000). BENCH_ROUNDS is the number of rounds (default 5). BENCH_ONLY is a
 * regular expression on subject names that selects the subjects to run (default all), for
 * profiling one subject with `node --cpu-prof`.
 */
import { availableParallelism, cpus } from 'node:os'
import { VerificationCache } from '../src/core/cache.js'
import type { VerificationResult } from '../src/core/types.js'
import { type VerifyEvidenceOptions, verifyEvidence } from '../src/verify.js'

const WARMUP_MS = 500
/** Slices per subject and round. Short turns make a burst of load hit every subject. */
const SLICES = 10

/** A function to measure, by the name that tables and BENCH_ONLY refer to. */
export interface Subject {
  readonly name: string
  readonly run: () => unknown
  /** Fraction of BENCH_MS that this subject gets in each round, 1 when absent. */
  readonly weight?: number
}

/** A bench: the subjects to measure and the tables to print from their figures. */
export interface Bench {
  /** The first line of the output: what is measured, and how. */
  readonly title: string
  /** The rate that the header names, such as `docs/s`. Default: `ops/s`. */
  readonly unit?: string
  readonly subjects: readonly Subject[]
  /** Prints the bench's own tables. The harness prints the spread and CPU share table after. */
  readonly report: (results: BenchResults) => void
}

/** Median figures of the measured subjects, looked up by subject name. */
export interface BenchResults {
  /** Median calls per second of a subject, or undefined when it was not measured. */
  opsPerSecond(name: string): number | undefined
  /** Median over the rounds of numerator / denominator calls per second in the same round. */
  ratio(numerator: string, denominator: string): number | undefined
}

/** One measured round of a subject. */
interface Round {
  readonly opsPerSecond: number
  /** Process CPU time over wall time. */
  readonly cpuShare: number
}

/** Calls, wall time and CPU time of one subject, added up over the slices of a round. */
interface Tally {
  count: number
  elapsedMs: number
  cpuMs: number
}

interface Settings {
  readonly measureMs: number
  readonly rounds: number
  readonly only: RegExp | undefined
}

function readPositive(name: string, fallback: number, integer: boolean): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'a positive integer' : 'a positive number'
    throw new Error(`${name} must be ${kind}, got '${text}'`)
  }

  return value
}

function readSettings(): Settings {
  const only = process.env.BENCH_ONLY

  return {
    measureMs: readPositive('BENCH_MS', 1000, false),
    rounds: readPositive('BENCH_ROUNDS', 5, true),
    only: only === undefined || only === '' ? undefined : new RegExp(only),
  }
}

/** Runs `run` back to back for at least `ms` milliseconds and adds what it took to `tally`. */
async function runFor(run: () => unknown, ms: number, tally: Tally): Promise<void> {
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
  tally.count += count
  tally.elapsedMs += elapsed
  tally.cpuMs += (cpu.user + cpu.system) / 1000
}

function emptyTally(): Tally {
  return { count: 0, elapsedMs: 0, cpuMs: 0 }
}

/** Warms every subject up, then measures the rounds. Returns the rounds of each subject by name. */
async function measureAll(
  subjects: readonly Subject[],
  settings: Settings,
): Promise<Map<string, Round[]>> {
  for (const subject of subjects) await runFor(subject.run, WARMUP_MS, emptyTally())

  const rounds = new Map<string, Round[]>(subjects.map((subject) => [subject.name, []]))
  for (let round = 0; round < settings.rounds; round++) {
    const tallies = subjects.map(emptyTally)
    for (let slice = 0; slice < SLICES; slice++) {
      for (const [index, subject] of subjects.entries()) {
        const sliceMs = (settings.measureMs * (subject.weight ?? 1)) / SLICES
        await runFor(subject.run, sliceMs, tallies[index]!)
      }
    }
    for (const [index, subject] of subjects.entries()) {
      const tally = tallies[index]!
      rounds.get(subject.name)!.push({
        opsPerSecond: (tally.count * 1000) / tally.elapsedMs,
        cpuShare: tally.cpuMs / tally.elapsedMs,
      })
    }
  }

  return rounds
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length % 2 === 1) return sorted[middle]!

  return (sorted[middle - 1]! + sorted[middle]!) / 2
}

function resultsOf(rounds: ReadonlyMap<string, readonly Round[]>): BenchResults {
  return {
    opsPerSecond(name) {
      const measured = rounds.get(name)
      if (measured === undefined || measured.length === 0) return undefined

      return median(measured.map((round) => round.opsPerSecond))
    },
    ratio(numerator, denominator) {
      const top = rounds.get(numerator)
      const bottom = rounds.get(denominator)
      if (top === undefined || bottom === undefined) return undefined
      if (top.length === 0 || top.length !== bottom.length) return undefined

      return median(top.map((round, i) => round.opsPerSecond / bottom[i]!.opsPerSecond))
    },
  }
}

/** Throws unless confide returned the verdict `valid`, so that a bench never times a rejection. */
export function requireValid(result: VerificationResult, label: string): void {
  if (result.verdict === 'valid') return

  const failed = result.checks.filter((check) => check.status !== 'pass')
  throw new Error(`confide returned ${result.verdict} for ${label}: ${JSON.stringify(failed)}`)
}

/**
 * Creates the subject `confide LABEL`: `verifyEvidence` on the evidence bytes with `options` and
 * one VerificationCache kept across calls. Every call must return the verdict `valid`.
 */
export function confideSubject(
  label: string,
  evidence: Uint8Array,
  options: VerifyEvidenceOptions,
): Subject {
  const cached = { ...options, cache: new VerificationCache() }

  return {
    name: `confide ${label}`,
    run: async () => requireValid(await verifyEvidence(evidence, cached), label),
  }
}

/** Formats calls per second as a whole number with thousands separators, or `n/a`. */
export function formatOps(ops: number | undefined): string {
  return ops === undefined ? 'n/a' : Math.round(ops).toLocaleString('en-US')
}

/** Formats a ratio as a whole percentage, or `n/a`. */
export function formatPercent(ratio: number | undefined): string {
  return ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(0)} %`
}

/** Formats a ratio as a factor with one decimal, such as `31.9x`, or `n/a`. */
export function formatTimes(ratio: number | undefined): string {
  return ratio === undefined ? 'n/a' : `${ratio.toFixed(1)}x`
}

/** Prints a table in aligned columns: the first column left-aligned, the others right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
  console.log(line(header))
  for (const row of rows) console.log(line(row))
}

/** The rows and the peer of a comparison table. */
export interface Comparison {
  /** Heading of the first column, which names the case of each row. */
  readonly caseColumn: string
  /** Case labels. The subjects of a row are named `confide LABEL`, `PEER LABEL`, `floor LABEL`. */
  readonly cases: readonly string[]
  readonly peer: string
  /** Formats confide's rate over the peer's, as a percentage or a factor. */
  readonly formatPeerRatio: (ratio: number | undefined) => string
}

/**
 * Prints one row per case: the calls per second of confide, the peer and the floor, then confide's
 * rate as a share of the floor's and against the peer's.
 */
export function printComparisonTable(results: BenchResults, comparison: Comparison): void {
  const { peer } = comparison
  printTable(
    [comparison.caseColumn, 'confide', peer, 'floor', 'confide/floor', `confide/${peer}`],
    comparison.cases.map((label) => {
      const [confide, other, floor] = ['confide', peer, 'floor'].map(
        (subject) => `${subject} ${label}`,
      ) as [string, string, string]
      return [
        label,
        formatOps(results.opsPerSecond(confide)),
        formatOps(results.opsPerSecond(other)),
        formatOps(results.opsPerSecond(floor)),
        formatPercent(results.ratio(confide, floor)),
        comparison.formatPeerRatio(results.ratio(confide, other)),
      ]
    }),
  )
}

function printHeader(bench: Bench, settings: Settings): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const usable = availableParallelism()
  const plan = `${settings.rounds} rounds of ${settings.measureMs} ms in ${SLICES} slices`
  console.log(bench.title)
  console.log(`node ${process.version}, ${cpu}, ${cpus().length} logical CPUs, ${usable} usable`)
  console.log(`${bench.unit ?? 'ops/s'}: median of ${plan}, after ${WARMUP_MS} ms of warm-up\n`)
}

function printRounds(rounds: ReadonlyMap<string, readonly Round[]>): void {
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

/**
 * Measures the subjects that BENCH_ONLY selects and prints the header, the bench's report and the
 * spread and CPU share of every measured subject.
 *
 * @throws Error when an environment variable is invalid, when BENCH_ONLY selects no subject, or
 *   when a subject's call throws.
 */
export async function runBench(bench: Bench): Promise<void> {
  const settings = readSettings()
  const { only } = settings
  const selected = bench.subjects.filter((subject) => only === undefined || only.test(subject.name))
  if (selected.length === 0) {
    const names = bench.subjects.map((subject) => subject.name).join(', ')
    throw new Error(`BENCH_ONLY '${only?.source}' selects no subject. The subjects are: ${names}`)
  }

  printHeader(bench, settings)
  const rounds = await measureAll(selected, settings)
  bench.report(resultsOf(rounds))
  printRounds(rounds)
}
