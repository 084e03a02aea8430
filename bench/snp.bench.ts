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
 * bench/harness.ts describes how the subjects are measured and the environment variables that
 * change the run. Run the process pinned to one CPU (`taskset -c 0 npm run bench:snp`) so that
 * WebCrypto's thread pool cannot borrow other cores.
 */
import { type KeyObject, verify as nodeVerify, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CollateralBundle } from '../src/core/collateral-bundle.js'
import { parseSnpReport, rawSnpSignature, type SnpReport } from '../src/platforms/snp/index.js'
import { bundleFromDir, corpusRoot } from '../test/helpers/corpus.js'
import {
  type Comparison,
  confideSubject,
  formatPercent,
  printComparisonTable,
  runBench,
  type Subject,
} from './harness.js'

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

async function main(): Promise<void> {
  const loaded = CASES.map(loadCase)
  const tinfoil = await loadTinfoil()
  const subjects: Subject[] = []
  const tinfoilFailures: string[] = []
  for (const item of loaded) {
    subjects.push(
      confideSubject(item.label, item.bytes, {
        platform: 'snp',
        at: item.at,
        collateral: item.bundle,
      }),
    )
    if (item.tinfoil) {
      const subject = await tinfoilSubject(item, tinfoil)
      if (typeof subject === 'string') tinfoilFailures.push(`tinfoil ${item.label}: ${subject}`)
      else subjects.push(subject)
    }
    subjects.push(floorSubject(item))
  }

  const comparison: Comparison = {
    caseColumn: 'report',
    cases: loaded.map((item) => item.label),
    peer: 'tinfoil',
    formatPeerRatio: formatPercent,
  }
  await runBench({
    title: 'AMD SEV-SNP report verification, one core, sequential, VCEK chain cached',
    subjects,
    report: (results) => {
      printComparisonTable(results, comparison)
      for (const failure of tinfoilFailures) console.log(`\n${failure}`)
    },
  })
}

await main()
