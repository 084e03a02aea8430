/**
 * Azure's HCL report: the report that the paravisor (HCL) of an Azure confidential VM stores in
 * the vTPM. It wraps the hardware report and adds runtime data (JSON with the vTPM's keys) whose
 * hash the paravisor put into the hardware report's REPORT_DATA.
 *
 * Layout, little-endian:
 * - 0x000: header of 32 bytes (signature "HCLA", version, report size, request type, status and
 *   12 reserved bytes).
 * - 0x020: the hardware report area, 1184 bytes.
 * - 0x4C0: IGVM request data (data size, version, report type, report-data hash type and
 *   variable-data size, each a u32).
 * - 0x4D4: the variable data.
 *
 * Only the hardware report is signed. The header and the request data are bound to nothing, so
 * only the variable data, through its hash in REPORT_DATA, can be trusted.
 *
 * @see Microsoft, azure-cvm-tooling, `az-cvm-vtpm/src/hcl/mod.rs` (the public description of this
 *   layout).
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import type { DigestAlgorithm } from '../../crypto/port.js'
import { SNP_REPORT_SIZE } from './report-layout.js'

/** "HCLA" read as a little-endian u32. */
export const HCL_SIGNATURE = 0x414c4348
/** Offset of the hardware report inside the HCL report. */
export const HCL_REPORT_OFFSET = 0x20
/** Offset of the IGVM request data, after the hardware report area. */
export const HCL_REQUEST_DATA_OFFSET = HCL_REPORT_OFFSET + SNP_REPORT_SIZE
/** IGVM report type of an SEV-SNP report (a TDX report is 4). */
export const HCL_REPORT_TYPE_SNP = 2

const HASH_TYPES: Readonly<Record<number, DigestAlgorithm>> = {
  1: 'SHA-256',
  2: 'SHA-384',
  3: 'SHA-512',
}

/** The parts of an HCL report around the hardware report. */
export interface HclEnvelope {
  /** Header version. Not covered by any signature. */
  readonly version: number
  /** Version of the IGVM request data. Not covered by any signature. */
  readonly requestDataVersion: number
  /** The digest of `variableData` that REPORT_DATA must start with. */
  readonly hashAlgorithm: DigestAlgorithm
  /** The runtime data (JSON text in practice), copied. */
  readonly variableData: Uint8Array
}

/** Tells whether the bytes start with the HCL report signature. */
export function hasHclSignature(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x48 &&
    bytes[1] === 0x43 &&
    bytes[2] === 0x4c &&
    bytes[3] === 0x41
  )
}

/**
 * Reads the header and request data of an HCL report that wraps an SEV-SNP report. The hardware
 * report itself is left to the report parser.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` (bad signature or hash type),
 *   `ERR_PARSE_UNSUPPORTED_TEE_TYPE` (not an SNP report) or `ERR_PARSE_TRUNCATED`.
 */
export function parseHclEnvelope(bytes: Uint8Array): HclEnvelope {
  const reader = new ByteReader(bytes, 'HclReport')
  const signature = reader.u32le('SIGNATURE')
  if (signature !== HCL_SIGNATURE) {
    throw reader.error('ERR_PARSE_MALFORMED', 'HCL report does not start with "HCLA"', 'SIGNATURE')
  }
  const version = reader.u32le('VERSION')
  reader.skip(HCL_REQUEST_DATA_OFFSET - reader.offset, 'HW_REPORT')

  reader.u32le('DATA_SIZE')
  const requestDataVersion = reader.u32le('REQUEST_DATA_VERSION')
  const reportType = reader.u32le('REPORT_TYPE')
  if (reportType !== HCL_REPORT_TYPE_SNP) {
    throw reader.error(
      'ERR_PARSE_UNSUPPORTED_TEE_TYPE',
      `HCL report holds report type ${reportType}, not an SEV-SNP report (${HCL_REPORT_TYPE_SNP})`,
      'REPORT_TYPE',
    )
  }
  const hashType = reader.u32le('REPORT_DATA_HASH_TYPE')
  const hashAlgorithm = HASH_TYPES[hashType]
  if (hashAlgorithm === undefined) {
    throw reader.error(
      'ERR_PARSE_MALFORMED',
      `HCL report data hash type ${hashType} is not 1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)`,
      'REPORT_DATA_HASH_TYPE',
    )
  }
  const variableSize = reader.u32le('VARIABLE_DATA_SIZE')
  const variableData = reader.bytes(variableSize, 'VARIABLE_DATA')

  return { version, requestDataVersion, hashAlgorithm, variableData }
}
