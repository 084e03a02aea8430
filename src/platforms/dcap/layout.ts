/**
 * Byte layouts of the DCAP quote structures, from Intel's "SGX ECDSA Quote Library API" (quote
 * format v3, appendix A.4) and "TDX DCAP Quoting Library API" (quote v4 and v5, appendix A.3).
 * Field names are the specification's; offsets are from the start of each structure.
 *
 * @module
 */
import type { ByteReader } from '../../core/byte-reader.js'

/** One fixed-size field of a layout. */
export interface LayoutField {
  readonly name: string
  readonly offset: number
  readonly size: number
}

/** Quote header, 48 bytes, shared by v3, v4 and v5. In v3 TEE_TYPE is reserved and zero. */
export const QUOTE_HEADER = [
  { name: 'VERSION', offset: 0, size: 2 },
  { name: 'ATT_KEY_TYPE', offset: 2, size: 2 },
  { name: 'TEE_TYPE', offset: 4, size: 4 },
  { name: 'QE_SVN', offset: 8, size: 2 },
  { name: 'PCE_SVN', offset: 10, size: 2 },
  { name: 'QE_VENDOR_ID', offset: 12, size: 16 },
  { name: 'USER_DATA', offset: 28, size: 20 },
] as const satisfies readonly LayoutField[]

/** SGX report body (sgx_report_body_t), 384 bytes: the enclave's REPORT, and the QE report. */
export const SGX_REPORT_BODY = [
  { name: 'CPUSVN', offset: 0, size: 16 },
  { name: 'MISCSELECT', offset: 16, size: 4 },
  { name: 'RESERVED1', offset: 20, size: 12 },
  { name: 'ISVEXTPRODID', offset: 32, size: 16 },
  { name: 'ATTRIBUTES', offset: 48, size: 16 },
  { name: 'MRENCLAVE', offset: 64, size: 32 },
  { name: 'RESERVED2', offset: 96, size: 32 },
  { name: 'MRSIGNER', offset: 128, size: 32 },
  { name: 'RESERVED3', offset: 160, size: 32 },
  { name: 'CONFIGID', offset: 192, size: 64 },
  { name: 'ISVPRODID', offset: 256, size: 2 },
  { name: 'ISVSVN', offset: 258, size: 2 },
  { name: 'CONFIGSVN', offset: 260, size: 2 },
  { name: 'RESERVED4', offset: 262, size: 42 },
  { name: 'ISVFAMILYID', offset: 304, size: 16 },
  { name: 'REPORTDATA', offset: 320, size: 64 },
] as const satisfies readonly LayoutField[]

/** TD report body of TDX 1.0 (TD 1.0 body), 584 bytes. */
export const TD10_REPORT_BODY = [
  { name: 'TEE_TCB_SVN', offset: 0, size: 16 },
  { name: 'MRSEAM', offset: 16, size: 48 },
  { name: 'MRSIGNERSEAM', offset: 64, size: 48 },
  { name: 'SEAMATTRIBUTES', offset: 112, size: 8 },
  { name: 'TDATTRIBUTES', offset: 120, size: 8 },
  { name: 'XFAM', offset: 128, size: 8 },
  { name: 'MRTD', offset: 136, size: 48 },
  { name: 'MRCONFIGID', offset: 184, size: 48 },
  { name: 'MROWNER', offset: 232, size: 48 },
  { name: 'MROWNERCONFIG', offset: 280, size: 48 },
  { name: 'RTMR0', offset: 328, size: 48 },
  { name: 'RTMR1', offset: 376, size: 48 },
  { name: 'RTMR2', offset: 424, size: 48 },
  { name: 'RTMR3', offset: 472, size: 48 },
  { name: 'REPORTDATA', offset: 520, size: 64 },
] as const satisfies readonly LayoutField[]

/** TD report body of TDX 1.5 (TD 1.5 body), 648 bytes: the TD 1.0 body plus two fields. */
export const TD15_REPORT_BODY = [
  ...TD10_REPORT_BODY,
  { name: 'TEE_TCB_SVN_2', offset: 584, size: 16 },
  { name: 'MRSERVICETD', offset: 600, size: 48 },
] as const satisfies readonly LayoutField[]

/** Total size of a layout. */
export function layoutSize(layout: readonly LayoutField[]): number {
  const last = layout[layout.length - 1]
  return last === undefined ? 0 : last.offset + last.size
}

export const QUOTE_HEADER_SIZE = layoutSize(QUOTE_HEADER)
export const SGX_REPORT_BODY_SIZE = layoutSize(SGX_REPORT_BODY)
export const TD10_REPORT_BODY_SIZE = layoutSize(TD10_REPORT_BODY)
export const TD15_REPORT_BODY_SIZE = layoutSize(TD15_REPORT_BODY)

/** The fields of a layout, read as byte copies, by specification name. */
export type LayoutValues<L extends readonly LayoutField[]> = {
  readonly [F in L[number] as F['name']]: Uint8Array
}

/** Reads every field of a layout, in order, from the reader's current position. */
export function readLayout<L extends readonly LayoutField[]>(
  reader: ByteReader,
  layout: L,
): LayoutValues<L> {
  const start = reader.offset
  const values: Record<string, Uint8Array> = {}
  for (const field of layout) {
    if (reader.offset !== start + field.offset) {
      throw reader.error('ERR_PARSE_MALFORMED', `layout gap before ${field.name}`, field.name)
    }
    values[field.name] = reader.bytes(field.size, field.name)
  }
  return values as LayoutValues<L>
}

/** Reads a little-endian unsigned integer of up to 4 bytes from a field's bytes. */
export function fieldUint(bytes: Uint8Array): number {
  let value = 0
  for (let i = bytes.length - 1; i >= 0; i--) value = value * 256 + (bytes[i] ?? 0)
  return value
}
