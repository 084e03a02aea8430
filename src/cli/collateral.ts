/**
 * `confide collateral fetch EVIDENCE... --out DIR` fetches what evidence needs into bundle
 * directories; `confide collateral serve DIR` serves bundles with the Intel PCS and AMD KDS paths.
 * Also the fetching step `confide verify` runs before it verifies.
 *
 * @module
 */
import { basename, extname, join } from 'node:path'
import type { Command } from 'commander'
import { indexCollateral, indexSize } from '../collateral/bundle-index.js'
import { writeCollateralDirectory } from '../collateral/bundle-writer.js'
import { loadCollateralDirectory } from '../collateral/directory.js'
import {
  type FetchCollateralResult,
  fetchCollateral,
  type ItemOutcome,
} from '../collateral/fetch-collateral.js'
import { readBoundedFile } from '../collateral/read-file.js'
import { DEFAULT_SERVE_PORT, serveCollateral } from '../collateral/serve.js'
import { type CollateralSession, openCollateralSession } from '../collateral/session.js'
import type { CollateralBundle } from '../core/collateral-bundle.js'
import { ConfideError, ConfigError } from '../core/errors.js'
import type { Expectation } from '../core/platform.js'
import { platformRegistry, type VerifyEvidenceOptions } from '../verify.js'
import { EXIT } from './exit-codes.js'

/** Largest evidence file read. Quotes and reports are a few KiB. */
const MAX_EVIDENCE_SIZE = 1024 * 1024

/** Flags that choose the collateral sources, shared by `verify` and `collateral fetch`. */
export interface CollateralFlags {
  readonly pccs?: string
  readonly kds?: string
  readonly nvidiaRim?: string
  readonly nvidiaOcsp?: string
  readonly store?: string
  readonly offline?: boolean
  readonly allowStaleCollateral?: boolean
  readonly refresh?: boolean
}

function openSession(flags: CollateralFlags): CollateralSession {
  return openCollateralSession({
    ...(flags.pccs === undefined ? {} : { pccsUrl: flags.pccs }),
    ...(flags.kds === undefined ? {} : { kdsUrl: flags.kds }),
    ...(flags.nvidiaRim === undefined ? {} : { nvidiaRimUrl: flags.nvidiaRim }),
    ...(flags.nvidiaOcsp === undefined ? {} : { nvidiaOcspUrl: flags.nvidiaOcsp }),
    ...(flags.store === undefined ? {} : { store: flags.store }),
    ...(flags.offline === true ? { offline: true } : {}),
    ...(flags.allowStaleCollateral === true ? { allowStaleCollateral: true } : {}),
    ...(flags.refresh === true ? { refresh: true } : {}),
  })
}

function describe(error: ConfideError): string {
  return `${error.message} (${error.code})`
}

/** Returns one line per failed or stale item. */
function problemLines(outcomes: readonly ItemOutcome[]): string[] {
  return outcomes.flatMap((outcome) => {
    if (outcome.error === undefined) return []
    if (outcome.origin === 'stale-cache') {
      return [`using an expired copy of ${outcome.label}: ${describe(outcome.error)}`]
    }
    const optional = outcome.optional ? ' (optional, verification goes on without it)' : ''
    return [`${describe(outcome.error)}${optional}`]
  })
}

/** The collateral `verify` runs with, and the fetch problems to print after the report. */
export interface VerifyCollateral {
  readonly collateral: CollateralBundle | undefined
  readonly problems: readonly string[]
}

const EXPECTATIONS: readonly Expectation[] = [
  'expectedReportData',
  'expectedNonce',
  'expectedUserData',
]

/**
 * Completes `options.collateral` with what the cache and the network have for `bytes`. Offline,
 * only the cache is read, and missing items are left to the report. Nothing is fetched for
 * options that `verifyEvidence` rejects (an expected value the platform has no field for), so
 * its error comes first.
 *
 * @throws ParseError when the evidence cannot be decoded; ConfigError for a bad option.
 */
export async function collateralForVerify(
  bytes: Uint8Array,
  flags: CollateralFlags,
  options: VerifyEvidenceOptions,
): Promise<VerifyCollateral> {
  const unchanged = { collateral: options.collateral, problems: [] }
  const registry = platformRegistry()
  const platform =
    options.platform === undefined ? registry.detect(bytes) : registry.get(options.platform)
  const rejected = EXPECTATIONS.some(
    (name) => options[name] !== undefined && !platform.expectations.includes(name),
  )
  if (rejected) return unchanged

  const session = openSession(flags)
  try {
    const result = await fetchCollateral(bytes, {
      fetcher: session.fetcher,
      platform: platform.name,
      ...(options.collateral === undefined ? {} : { collateral: options.collateral }),
    })
    if (result.outcomes.length === 0) return unchanged
    const problems = flags.offline === true ? [] : problemLines(result.outcomes)
    return { collateral: result.bundle, problems }
  } finally {
    await session.close()
  }
}

/**
 * Progress of a fetch on a stream (stderr): a bar redrawn on one line on a terminal, one plain
 * line per item elsewhere, such as in a pipe.
 */
export class FetchProgress {
  readonly #stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'>
  readonly #total: number
  readonly #terminal: boolean
  #filesDone = 0
  #items = 0

  constructor(stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'>, total: number) {
    this.#stream = stream
    this.#total = total
    this.#terminal = stream.isTTY === true
  }

  item(file: string, outcome: ItemOutcome): void {
    this.#items++
    if (!this.#terminal) {
      const where =
        outcome.origin !== 'failed'
          ? `from ${outcome.origin}`
          : outcome.optional
            ? 'not available (optional)'
            : 'FAILED'
      this.#stream.write(`${file}: ${outcome.label} ${where}\n`)
      return
    }
    this.#draw(outcome.label)
  }

  fileDone(): void {
    this.#filesDone++
    if (this.#terminal) this.#draw('')
  }

  finish(): void {
    if (this.#terminal) this.#stream.write('\n')
  }

  #draw(label: string): void {
    const width = 24
    const filled = Math.round((this.#filesDone / Math.max(this.#total, 1)) * width)
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`
    const status = `${bar} ${this.#filesDone}/${this.#total} files, ${this.#items} items ${label}`
    const columns = this.#stream.columns ?? 80
    this.#stream.write(`\r\x1b[2K${status.slice(0, columns - 1)}`)
  }
}

/** Picks one output folder per evidence file: `out` itself for one file, else a subfolder each. */
function outputFolders(files: readonly string[], out: string): string[] {
  if (files.length === 1) return [out]
  const used = new Set<string>()
  return files.map((file) => {
    const stem = basename(file, extname(file)) || 'evidence'
    let name = stem
    for (let n = 2; used.has(name); n++) name = `${stem}-${n}`
    used.add(name)
    return join(out, name)
  })
}

interface FetchFlags extends CollateralFlags {
  readonly out: string
  readonly collateral?: string
  readonly platform?: string
}

/** Fetches and writes the bundle of one evidence file; returns its result. */
async function fetchOne(
  file: string,
  folder: string,
  flags: FetchFlags,
  session: CollateralSession,
  collateral: CollateralBundle | undefined,
  progress: FetchProgress,
): Promise<FetchCollateralResult> {
  const bytes = await readBoundedFile(file, 'evidence file', MAX_EVIDENCE_SIZE)
  const result = await fetchCollateral(bytes, {
    fetcher: session.fetcher,
    ...(collateral === undefined ? {} : { collateral }),
    ...(flags.platform === undefined ? {} : { platform: flags.platform }),
    onItem: (outcome) => progress.item(file, outcome),
  })
  await writeCollateralDirectory(folder, result.bundle)
  return result
}

/**
 * Runs `collateral fetch` and returns the exit code: 0 when every file got all it needs, 3 when
 * some required item is missing (what was obtained is written anyway), 2 when a file could not
 * be read or decoded.
 */
export async function runCollateralFetch(
  files: readonly string[],
  flags: FetchFlags,
  out: (text: string) => void,
): Promise<number> {
  const collateral =
    flags.collateral === undefined ? undefined : await loadCollateralDirectory(flags.collateral)
  const folders = outputFolders(files, flags.out)
  const session = openSession(flags)
  const progress = new FetchProgress(process.stderr, files.length)
  const lines: string[] = []
  let exitCode: number = EXIT.VALID
  try {
    for (const [index, file] of files.entries()) {
      const folder = folders[index] ?? flags.out
      try {
        const result = await fetchOne(file, folder, flags, session, collateral, progress)
        const obtained = result.outcomes.filter((o) => o.origin !== 'failed').length
        const state = result.complete ? 'complete' : 'INCOMPLETE'
        lines.push(`${file}: ${result.platform}, ${obtained} items obtained, ${state} -> ${folder}`)
        lines.push(...result.outcomes.filter((o) => o.error).map((o) => `  ${describe(o.error!)}`))
        if (!result.complete && exitCode === EXIT.VALID) exitCode = EXIT.INDETERMINATE
      } catch (error) {
        if (!(error instanceof ConfideError)) throw error
        lines.push(`${file}: ${describe(error)}`)
        exitCode = EXIT.USAGE
      }
      progress.fileDone()
    }
  } finally {
    progress.finish()
    await session.close()
  }
  out(`${lines.join('\n')}\n`)
  return exitCode
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SERVE_PORT
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new ConfigError('ERR_CONFIG_INVALID', `--port ${text} is not a port number (0 to 65535)`)
  }
  return port
}

/** Runs `collateral serve` until SIGINT or SIGTERM. */
async function runCollateralServe(
  dir: string,
  flags: { readonly port?: string; readonly host?: string },
): Promise<void> {
  const index = indexCollateral(await loadCollateralDirectory(dir))
  for (const problem of index.problems) process.stderr.write(`confide: skipped ${problem}\n`)
  const server = await serveCollateral(index, {
    port: parsePort(flags.port),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    onBadRequest: (target, error) => {
      const reason = error instanceof Error ? error.message : String(error)
      process.stderr.write(`confide: rejected request ${JSON.stringify(target)}: ${reason}\n`)
    },
  })
  process.stdout.write(
    `serving ${indexSize(index)} collateral items from ${dir} at ${server.url}\n`,
  )
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await server.close()
  process.stdout.write('stopped\n')
}

/** Adds the options that choose the collateral sources. */
export function addCollateralSourceOptions(command: Command): Command {
  return command
    .option(
      '--pccs <url>',
      'PCCS (or Intel PCS) base URL (default: CONFIDE_PCCS_URL, else Intel PCS)',
    )
    .option('--kds <url>', 'AMD KDS base URL (default: CONFIDE_KDS_URL, else AMD KDS)')
    .option(
      '--nvidia-rim <url>',
      "NVIDIA RIM service base URL (default: CONFIDE_NVIDIA_RIM_URL, else NVIDIA's)",
    )
    .option(
      '--nvidia-ocsp <url>',
      "OCSP responder for NVIDIA certificates (default: CONFIDE_NVIDIA_OCSP_URL, else NVIDIA's)",
    )
    .option(
      '--store <path>',
      'collateral cache: a SQLite file, or :memory: (default: CONFIDE_STORE, else the file confide/confide.db in XDG_DATA_HOME or ~/.local/share)',
    )
    .option(
      '--allow-stale-collateral',
      'use a cached item past its next-update time when no fresh copy can be fetched',
    )
}

/** Adds `collateral fetch` and `collateral serve` to the program. */
export function registerCollateral(program: Command, setExitCode: (code: number) => void): void {
  const collateral = program
    .command('collateral')
    .description('fetch collateral for offline use, or serve it to air-gapped verifiers')

  addCollateralSourceOptions(
    collateral
      .command('fetch')
      .description('fetch the collateral that evidence files need into bundle directories')
      .argument('<evidence...>', 'evidence files: quotes or SEV-SNP reports')
      .requiredOption(
        '--out <dir>',
        'bundle directory, read back by verify --collateral (one subfolder per file when several are given)',
      )
      .option('--collateral <dir>', 'collateral you already have; fetched files complete it')
      .option('--platform <name>', 'platform of the evidence (default: detected from the bytes)')
      .option('--offline', 'never use the network: take items only from the cache')
      .option('--refresh', 'fetch every item even when the cache contains a fresh copy'),
  ).action(async (files: string[], flags: FetchFlags) => {
    setExitCode(await runCollateralFetch(files, flags, (text) => process.stdout.write(text)))
  })

  collateral
    .command('serve')
    .description('serve a bundle directory with the Intel PCS (v4) and AMD KDS paths over HTTP')
    .argument('<dir>', 'bundle directory, such as one written by collateral fetch')
    .option('--port <n>', `TCP port; 0 picks a free one (default: ${DEFAULT_SERVE_PORT})`)
    .option('--host <address>', 'address to listen on (default: 127.0.0.1)')
    .action(async (dir: string, flags: { port?: string; host?: string }) => {
      await runCollateralServe(dir, flags)
    })
}
