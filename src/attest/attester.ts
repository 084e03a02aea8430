/**
 * The attester interface: how a workload inside a TEE gets evidence bound to data it chooses.
 *
 * @module
 */
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { ConfideError, ConfigError, type ErrorCode } from '../core/errors.js'

/** Size of the report data field that every supported TEE signs, in bytes. */
export const REPORT_DATA_SIZE = 64

/** Produces evidence from inside a TEE. */
export interface Attester {
  /** Interface the evidence comes from: `configfs-tsm`, `gramine` or `sim`. */
  readonly name: string
  /** Platform name of the evidence, as `confide verify` reports it: `tdx`, `snp`, `sgx`, `sim`. */
  readonly platform: string
  /**
   * Returns evidence whose report data is `reportData`, zero-padded to 64 bytes, in the form
   * `confide verify` reads.
   *
   * @throws ConfigError `ERR_CONFIG_INVALID` when `reportData` is longer than 64 bytes.
   * @throws AttestError `ERR_ATTEST_FAILED`, `ERR_ATTEST_RACE` or `ERR_ATTEST_UNSUPPORTED`.
   */
  attest(reportData: Uint8Array): Promise<Uint8Array>
}

export type AttestErrorCode = Extract<ErrorCode, `ERR_ATTEST_${string}`>

/** The machine's attestation interface is missing, unusable, or failed. */
export class AttestError extends ConfideError {
  declare readonly code: AttestErrorCode
}

/**
 * File operations an attester performs on a kernel or library interface. Tests pass a fake that
 * acts as the kernel: configfs creates attribute files on mkdir and fills `outblob` on read.
 */
export interface AttestFileSystem {
  mkdir(path: string): Promise<void>
  /** Removes a configfs entry. The kernel removes its attribute files with it. */
  rmdir(path: string): Promise<void>
  readFile(path: string): Promise<Uint8Array>
  writeFile(path: string, data: Uint8Array): Promise<void>
}

/** The real file system. */
export const NODE_FILE_SYSTEM: AttestFileSystem = {
  mkdir: async (path) => {
    await mkdir(path)
  },
  rmdir: (path) => rmdir(path),
  readFile: async (path) => new Uint8Array(await readFile(path)),
  writeFile: (path, data) => writeFile(path, data),
}

/**
 * A file system over plain folders, for tests and for trees copied from a TEE: `rmdir` removes
 * the folder with its files, as configfs does.
 */
export const PLAIN_FILE_SYSTEM: AttestFileSystem = {
  ...NODE_FILE_SYSTEM,
  rmdir: (path) => rm(path, { recursive: true, force: true }),
}

/**
 * Returns `reportData` zero-padded to 64 bytes.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when it is longer.
 */
export function padReportData(reportData: Uint8Array): Uint8Array {
  if (reportData.length > REPORT_DATA_SIZE) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `report data is ${reportData.length} bytes; a TEE signs at most ${REPORT_DATA_SIZE}`,
    )
  }
  const padded = new Uint8Array(REPORT_DATA_SIZE)
  padded.set(reportData)

  return padded
}

/** Returns the `code` of a Node system error (`ENOENT`, `EACCES`, ...), or undefined. */
export function systemErrorCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code
  return undefined
}

/** Wraps a failed file operation on a TEE interface as `ERR_ATTEST_FAILED`. */
export function attestFailure(action: string, path: string, cause: unknown): AttestError {
  const code = systemErrorCode(cause)
  const reason = cause instanceof Error ? cause.message : String(cause)
  const hint = code === 'EACCES' || code === 'EPERM' ? '; run as root or get write access' : ''

  return new AttestError('ERR_ATTEST_FAILED', `${action} ${path} failed: ${reason}${hint}`, {
    cause,
  })
}
