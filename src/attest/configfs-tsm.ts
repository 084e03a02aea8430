/**
 * The Linux configfs-tsm report interface (Linux 6.7 and later), which TDX and SEV-SNP guests
 * share: create a report entry, write up to 64 bytes to `inblob`, read `outblob` (and, for
 * SEV-SNP, the certificate table in `auxblob`), and remove the entry.
 *
 * @see Linux, Documentation/ABI/testing/configfs-tsm-report (attributes `inblob`, `outblob`,
 *   `auxblob`, `provider`, `generation`, `privlevel`, `privlevel_floor`).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { concatBytes, isAllZero } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import { SNP_TABLE_ENTRY_SIZE } from '../platforms/snp/certificate-table.js'
import { SNP_REPORT_SIZE } from '../platforms/snp/report-layout.js'
import {
  AttestError,
  type Attester,
  type AttestFileSystem,
  attestFailure,
  NODE_FILE_SYSTEM,
  padReportData,
  systemErrorCode,
} from './attester.js'

/** Folder of report entries, relative to the file system root. */
export const TSM_REPORT_FOLDER = 'sys/kernel/config/tsm/report'

/** Highest privilege level the ABI defines (`TSM_REPORT_PRIVLEVEL_MAX`). */
const PRIVLEVEL_MAX = 3

/** Platform of each provider confide reads, by the name in the `provider` attribute. */
const PLATFORM_BY_PROVIDER: Readonly<Record<string, string>> = {
  tdx_guest: 'tdx',
  sev_guest: 'snp',
}

/** Default maximum number of attempts when other writers keep changing the report entry. */
const DEFAULT_MAX_ATTEMPTS = 5

/**
 * Errors from mkdir that mean configfs-tsm is present but no TEE driver registered a provider.
 * The kernel returns ENXIO. The others are what older or patched kernels return.
 */
const NO_PROVIDER_CODES = new Set(['ENXIO', 'ENODEV', 'EOPNOTSUPP', 'ENOTSUP'])

/** Options of `createTsmAttester` and `probeTsmProvider`. */
export interface TsmAttesterOptions {
  /** Root of the file system to look in (default `/`). Tests point it at a fake tree. */
  readonly root?: string
  /** File operations (default the real file system). */
  readonly fileSystem?: AttestFileSystem
  /**
   * Privilege level to write to `privlevel` (SEV-SNP: the VMPL). Absent: the attribute is not
   * written and the kernel uses `privlevel_floor`.
   */
  readonly privlevel?: number
  /** Maximum number of attempts when another writer changes the entry meanwhile (default 5). */
  readonly maxAttempts?: number
}

interface Blobs {
  readonly provider: string
  readonly outblob: Uint8Array
  readonly auxblob: Uint8Array
}

function reportFolder(options: TsmAttesterOptions): string {
  return join(options.root ?? '/', TSM_REPORT_FOLDER)
}

function entryName(): string {
  return `confide-${process.pid}-${randomBytes(6).toString('hex')}`
}

async function readText(fs: AttestFileSystem, path: string): Promise<string> {
  try {
    return new TextDecoder().decode(await fs.readFile(path)).trim()
  } catch (error) {
    throw attestFailure('reading', path, error)
  }
}

async function readNumber(fs: AttestFileSystem, path: string): Promise<number> {
  const text = await readText(fs, path)
  if (!/^\d+$/.test(text)) {
    throw new AttestError(
      'ERR_ATTEST_FAILED',
      `${path} contains "${text}", which is not a decimal number`,
    )
  }

  return Number(text)
}

async function readOptional(fs: AttestFileSystem, path: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(path)
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return new Uint8Array(0)
    throw attestFailure('reading', path, error)
  }
}

async function write(fs: AttestFileSystem, path: string, data: Uint8Array): Promise<void> {
  try {
    await fs.writeFile(path, data)
  } catch (error) {
    throw attestFailure('writing', path, error)
  }
}

/**
 * Returns the provider of the machine's configfs-tsm (`tdx_guest`, `sev_guest`, ...), or
 * undefined when there is no configfs-tsm or no TEE driver behind it. Creates and removes one
 * report entry to find out.
 *
 * @throws AttestError `ERR_ATTEST_FAILED` when the entry cannot be created for another reason,
 *   such as missing permission.
 */
export async function probeTsmProvider(
  options: TsmAttesterOptions = {},
): Promise<string | undefined> {
  const fs = options.fileSystem ?? NODE_FILE_SYSTEM
  const entry = join(reportFolder(options), entryName())
  try {
    await fs.mkdir(entry)
  } catch (error) {
    const code = systemErrorCode(error)
    if (code === 'ENOENT' || (code !== undefined && NO_PROVIDER_CODES.has(code))) return undefined
    throw attestFailure('creating', entry, error)
  }
  try {
    return await readText(fs, join(entry, 'provider'))
  } finally {
    await fs.rmdir(entry).catch(() => undefined)
  }
}

/** Writes `privlevel` after checking it against `privlevel_floor`. */
async function writePrivlevel(fs: AttestFileSystem, entry: string, privlevel: number) {
  const floorPath = join(entry, 'privlevel_floor')
  const floor = await readOptional(fs, floorPath)
  if (floor.length === 0) {
    throw new AttestError(
      'ERR_ATTEST_UNSUPPORTED',
      `${floorPath} does not exist: this configfs-tsm provider takes no privilege level`,
    )
  }
  const floorValue = await readNumber(fs, floorPath)
  if (privlevel < floorValue) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `privilege level ${privlevel} is below the floor ${floorValue} of this guest`,
    )
  }
  await write(fs, join(entry, 'privlevel'), new TextEncoder().encode(`${privlevel}\n`))
}

/**
 * Runs one request in a fresh entry. Returns undefined when `generation` shows a write other
 * than this request's own, because the blobs may then belong to another writer's input.
 */
async function requestOnce(
  fs: AttestFileSystem,
  folder: string,
  inblob: Uint8Array,
  privlevel: number | undefined,
): Promise<Blobs | undefined> {
  const entry = join(folder, entryName())
  try {
    await fs.mkdir(entry)
  } catch (error) {
    throw attestFailure('creating', entry, error)
  }
  try {
    const generationPath = join(entry, 'generation')
    const before = await readNumber(fs, generationPath)
    let writes = 0
    if (privlevel !== undefined) {
      await writePrivlevel(fs, entry, privlevel)
      writes += 1
    }
    await write(fs, join(entry, 'inblob'), inblob)
    writes += 1

    const provider = await readText(fs, join(entry, 'provider'))
    const outblobPath = join(entry, 'outblob')
    let outblob: Uint8Array
    try {
      outblob = await fs.readFile(outblobPath)
    } catch (error) {
      throw attestFailure('reading', outblobPath, error)
    }
    const auxblob =
      provider === 'sev_guest' ? await readOptional(fs, join(entry, 'auxblob')) : new Uint8Array(0)
    const after = await readNumber(fs, generationPath)

    return after === before + writes ? { provider, outblob, auxblob } : undefined
  } finally {
    // The entry goes whatever happened: a leftover entry keeps its report in kernel memory.
    await fs.rmdir(entry).catch(() => undefined)
  }
}

/**
 * Returns the evidence in the form `confide verify` reads: a TDX quote as it is, an SEV-SNP
 * report followed by its certificate table (the extended-report form), or the bare report when
 * the host supplied no certificates.
 */
export function tsmEvidence(provider: string, outblob: Uint8Array, auxblob: Uint8Array) {
  if (outblob.length === 0) {
    throw new AttestError(
      'ERR_ATTEST_FAILED',
      `configfs-tsm provider ${provider} returned no report`,
    )
  }
  if (provider !== 'sev_guest') return outblob
  const emptyTable =
    auxblob.length < SNP_TABLE_ENTRY_SIZE || isAllZero(auxblob.subarray(0, SNP_TABLE_ENTRY_SIZE))
  if (emptyTable) return outblob
  if (outblob.length !== SNP_REPORT_SIZE) {
    throw new AttestError(
      'ERR_ATTEST_UNSUPPORTED',
      `sev_guest outblob is ${outblob.length} bytes, not a ${SNP_REPORT_SIZE}-byte report`,
    )
  }

  return concatBytes(outblob, auxblob)
}

/**
 * Creates an attester over configfs-tsm. Finds the provider first, so `platform` is known.
 *
 * Each `attest` creates its own report entry, so concurrent requests from this and other
 * processes do not share one. It checks `generation` before and after, and retries when it grew by
 * more than this request's own writes, as another writer to the same entry would cause.
 *
 * @throws AttestError `ERR_ATTEST_UNAVAILABLE` when the machine has no configfs-tsm provider,
 *   `ERR_ATTEST_UNSUPPORTED` for a provider other than `tdx_guest` or `sev_guest`.
 * @throws ConfigError `ERR_CONFIG_INVALID` for a privilege level outside 0 to 3.
 */
export async function createTsmAttester(options: TsmAttesterOptions = {}): Promise<Attester> {
  const { privlevel, maxAttempts = DEFAULT_MAX_ATTEMPTS } = options
  const inRange =
    Number.isInteger(privlevel) && Number(privlevel) >= 0 && Number(privlevel) <= PRIVLEVEL_MAX
  if (privlevel !== undefined && !inRange) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `privilege level ${privlevel} is not an integer from 0 to ${PRIVLEVEL_MAX}`,
    )
  }
  const fs = options.fileSystem ?? NODE_FILE_SYSTEM
  const folder = reportFolder(options)
  const provider = await probeTsmProvider(options)
  if (provider === undefined) {
    throw new AttestError('ERR_ATTEST_UNAVAILABLE', `${folder} has no configfs-tsm provider`)
  }
  const platform = PLATFORM_BY_PROVIDER[provider]
  if (platform === undefined) {
    throw new AttestError(
      'ERR_ATTEST_UNSUPPORTED',
      `configfs-tsm provider ${provider} is not supported, confide reads only tdx_guest and sev_guest`,
    )
  }

  return {
    name: 'configfs-tsm',
    platform,
    attest: async (reportData) => {
      const inblob = padReportData(reportData)
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const blobs = await requestOnce(fs, folder, inblob, privlevel)
        if (blobs !== undefined) return tsmEvidence(blobs.provider, blobs.outblob, blobs.auxblob)
      }
      throw new AttestError(
        'ERR_ATTEST_RACE',
        `configfs-tsm generation changed by another writer in each of ${maxAttempts} tries`,
      )
    },
  }
}
