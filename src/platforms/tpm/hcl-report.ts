/**
 * Azure's HCL report, which the paravisor of a confidential VM stores in the vTPM (NV index
 * 0x01400001), read for either hardware report it wraps: an SEV-SNP report (report type 2) or a
 * TDX TDREPORT (type 4). Its runtime data (the IGVM request's variable data) is JSON whose
 * `keys` list contains the vTPM attestation key as the JWK with `kid` "HCLAkPub". The hardware
 * report's report data starts with a digest of that JSON, and that binds the vTPM to the
 * hardware. Pure: no crypto, no I/O.
 *
 * The layout is the one src/platforms/snp/hcl.ts describes: header at 0x000, hardware report area
 * of 1184 bytes at 0x020 (a 1024-byte TDREPORT uses its start), IGVM request data at 0x4C0.
 *
 * @see Microsoft, azure-cvm-tooling, `az-cvm-vtpm/src/hcl/mod.rs` (the public description of this
 *   layout and of the HCLAkPub key)
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import { ParseError } from '../../core/errors.js'
import type { ClaimValue } from '../../core/types.js'
import type { DigestAlgorithm } from '../../crypto/port.js'
import { HCL_REPORT_OFFSET, HCL_REQUEST_DATA_OFFSET, HCL_SIGNATURE } from '../snp/hcl.js'
import { SNP_REPORT_SIZE } from '../snp/report-layout.js'

/** IGVM report types of the hardware report. */
export const HCL_REPORT_TYPES = { snp: 2, tdx: 4 } as const
/** Size of a TDX TDREPORT, which an HCL report of type 4 wraps. */
export const TDREPORT_SIZE = 1024
/** The `kid` of the vTPM attestation key in the runtime data. */
export const HCL_AK_KEY_ID = 'HCLAkPub'
/** Largest runtime data read, well above the 1 to 2 KiB of JSON that Azure's is estimated at. */
export const MAX_RUNTIME_DATA_SIZE = 64 * 1024

const HASH_TYPES: Readonly<Record<number, DigestAlgorithm>> = {
  1: 'SHA-256',
  2: 'SHA-384',
  3: 'SHA-512',
}

/** An HCL report, split into its parts. */
export interface HclReport {
  readonly hardware: keyof typeof HCL_REPORT_TYPES
  /** The hardware report: 1184 bytes of SEV-SNP report, or a 1024-byte TDREPORT. */
  readonly hardwareReport: Uint8Array
  /** The digest of `runtimeData` that the hardware report's report data starts with. */
  readonly hashAlgorithm: DigestAlgorithm
  /** The runtime data as received (JSON text). */
  readonly runtimeData: Uint8Array
  /** The runtime data decoded, or undefined when it is not JSON. */
  readonly runtimeClaims: ClaimValue | undefined
  /** The `HCLAkPub` JWK from the runtime data, or undefined when it has none. */
  readonly akJwk: { readonly [key: string]: unknown } | undefined
  /** The whole HCL report, copied. */
  readonly bytes: Uint8Array
}

function findAkJwk(claims: unknown): { readonly [key: string]: unknown } | undefined {
  if (typeof claims !== 'object' || claims === null) return undefined
  const keys = (claims as { keys?: unknown }).keys
  if (!Array.isArray(keys)) return undefined
  const found = keys.find(
    (key: unknown) =>
      typeof key === 'object' && key !== null && (key as { kid?: unknown }).kid === HCL_AK_KEY_ID,
  )
  return found as { readonly [key: string]: unknown } | undefined
}

function decodeRuntimeData(bytes: Uint8Array): ClaimValue | undefined {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as ClaimValue
  } catch {
    // Runtime data that is not JSON carries no key; the attestation-key check reports that.
    return undefined
  }
}

/**
 * Decodes an HCL report that wraps an SEV-SNP report or a TDX TDREPORT.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` (bad signature or hash type),
 *   `ERR_PARSE_UNSUPPORTED_TEE_TYPE` (another report type), `ERR_PARSE_OVERSIZED` or
 *   `ERR_PARSE_TRUNCATED`
 */
export function parseHclReport(bytes: Uint8Array): HclReport {
  const reader = new ByteReader(bytes, 'HclReport')
  if (reader.u32le('SIGNATURE') !== HCL_SIGNATURE) {
    throw new ParseError('ERR_PARSE_MALFORMED', 'HCL report does not start with "HCLA"', {
      structure: 'HclReport',
      field: 'SIGNATURE',
      offset: 0,
    })
  }
  reader.skip(HCL_REQUEST_DATA_OFFSET - reader.offset, 'HW_REPORT')
  reader.u32le('DATA_SIZE')
  reader.u32le('REQUEST_DATA_VERSION')
  const reportType = reader.u32le('REPORT_TYPE')
  const hardware =
    reportType === HCL_REPORT_TYPES.snp
      ? 'snp'
      : reportType === HCL_REPORT_TYPES.tdx
        ? 'tdx'
        : undefined
  if (hardware === undefined) {
    const message = `HCL report type ${reportType} is neither SEV-SNP (2) nor TDX (4)`
    throw reader.error('ERR_PARSE_UNSUPPORTED_TEE_TYPE', message, 'REPORT_TYPE')
  }
  const hashType = reader.u32le('REPORT_DATA_HASH_TYPE')
  const hashAlgorithm = HASH_TYPES[hashType]
  if (hashAlgorithm === undefined) {
    const message = `HCL report data hash type ${hashType} is not 1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)`
    throw reader.error('ERR_PARSE_MALFORMED', message, 'REPORT_DATA_HASH_TYPE')
  }
  const size = reader.u32le('VARIABLE_DATA_SIZE')
  if (size > MAX_RUNTIME_DATA_SIZE) {
    const message = `HCL runtime data is ${size} bytes, more than ${MAX_RUNTIME_DATA_SIZE}`
    throw reader.error('ERR_PARSE_OVERSIZED', message, 'VARIABLE_DATA_SIZE')
  }
  const runtimeData = reader.bytes(size, 'VARIABLE_DATA')
  const reportSize = hardware === 'snp' ? SNP_REPORT_SIZE : TDREPORT_SIZE
  const runtimeClaims = decodeRuntimeData(runtimeData)

  return {
    hardware,
    hardwareReport: bytes.slice(HCL_REPORT_OFFSET, HCL_REPORT_OFFSET + reportSize),
    hashAlgorithm,
    runtimeData,
    runtimeClaims,
    akJwk: findAkJwk(runtimeClaims),
    bytes: bytes.slice(),
  }
}
