/**
 * Gramine's `/dev/attestation` pseudo-files, inside an SGX enclave run by Gramine: write 64 bytes
 * to `user_report_data`, then read the DCAP quote from `quote`.
 *
 * @see Gramine documentation, "Attestation and Secret Provisioning", section "Low-level
 *   /dev/attestation interface".
 * @module
 */
import { join } from 'node:path'
import {
  AttestError,
  type Attester,
  type AttestFileSystem,
  attestFailure,
  NODE_FILE_SYSTEM,
  padReportData,
  systemErrorCode,
} from './attester.js'

/** Folder of the pseudo-files, relative to the file system root. */
export const GRAMINE_ATTESTATION_FOLDER = 'dev/attestation'

export interface GramineAttesterOptions {
  /** Root of the file system to look in (default `/`). Tests point it at a fake tree. */
  readonly root?: string
  /** File operations (default the real file system). */
  readonly fileSystem?: AttestFileSystem
}

function folderOf(options: GramineAttesterOptions): string {
  return join(options.root ?? '/', GRAMINE_ATTESTATION_FOLDER)
}

/**
 * Returns Gramine's attestation type (`dcap`, `epid` or `none`), or undefined outside Gramine.
 *
 * @throws AttestError `ERR_ATTEST_FAILED` when `attestation_type` exists but cannot be read.
 */
export async function probeGramineType(
  options: GramineAttesterOptions = {},
): Promise<string | undefined> {
  const fs = options.fileSystem ?? NODE_FILE_SYSTEM
  const path = join(folderOf(options), 'attestation_type')
  try {
    return new TextDecoder().decode(await fs.readFile(path)).trim()
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined
    throw attestFailure('reading', path, error)
  }
}

/**
 * Chains the requests of this process. `user_report_data` and `quote` are one state per enclave,
 * so two requests at once could read each other's quote.
 */
let queue: Promise<unknown> = Promise.resolve()

function serialized<T>(work: () => Promise<T>): Promise<T> {
  const result = queue.then(work, work)
  queue = result.catch(() => undefined)

  return result
}

/**
 * Creates an attester over Gramine's `/dev/attestation`. Only DCAP quotes are read: EPID
 * attestation is retired and confide does not verify it.
 *
 * @throws AttestError `ERR_ATTEST_UNAVAILABLE` outside Gramine or with attestation type `none`,
 *   `ERR_ATTEST_UNSUPPORTED` for type `epid` or another type.
 */
export async function createGramineAttester(
  options: GramineAttesterOptions = {},
): Promise<Attester> {
  const fs = options.fileSystem ?? NODE_FILE_SYSTEM
  const folder = folderOf(options)
  const type = await probeGramineType(options)
  if (type === undefined || type === 'none') {
    const found = type === undefined ? 'does not exist' : 'has attestation type none'
    throw new AttestError('ERR_ATTEST_UNAVAILABLE', `${folder} ${found}`)
  }
  if (type !== 'dcap') {
    throw new AttestError(
      'ERR_ATTEST_UNSUPPORTED',
      `Gramine attestation type ${type} is not supported; set sgx.remote_attestation = "dcap" in the manifest`,
    )
  }

  return {
    name: 'gramine',
    platform: 'sgx',
    attest: (reportData) => {
      const padded = padReportData(reportData)
      return serialized(async () => {
        const dataPath = join(folder, 'user_report_data')
        await fs.writeFile(dataPath, padded).catch((error: unknown) => {
          throw attestFailure('writing', dataPath, error)
        })
        const quotePath = join(folder, 'quote')
        const quote = await fs.readFile(quotePath).catch((error: unknown) => {
          throw attestFailure('reading', quotePath, error)
        })
        if (quote.length === 0) {
          throw new AttestError('ERR_ATTEST_FAILED', `${quotePath} returned an empty quote`)
        }

        return quote
      })
    },
  }
}
