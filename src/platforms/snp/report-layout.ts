/**
 * Byte layout of the SEV-SNP ATTESTATION_REPORT structure (1184 bytes, little-endian).
 *
 * Source: AMD, "SEV Secure Nested Paging Firmware ABI Specification" (publication 56860). The
 * version 2 layout is Table 22 (ATTESTATION_REPORT Structure, §7.3) of revision 1.55. Revision
 * 1.56 added the CPUID fields in version 3, and revision 1.58 (Table 23) added
 * LAUNCH_MIT_VECTOR and CURRENT_MIT_VECTOR in version 5. No public revision describes version 4,
 * and the version 4 reports seen in the field have the version 3 layout.
 *
 * @module
 */

/** Read method of a field. A `reserved` field must be zero, and an `unchecked` one is skipped. */
export type ReportFieldType = 'u8' | 'u32' | 'u64' | 'bytes' | 'reserved' | 'unchecked'

/** One field of the report, present in the report versions `versions` (inclusive). */
export interface ReportField {
  readonly name: string
  readonly offset: number
  readonly size: number
  readonly type: ReportFieldType
  readonly versions: readonly [number, number]
}

/** Lowest report version confide parses. */
export const MIN_REPORT_VERSION = 2
/** Highest report version confide parses. */
export const MAX_REPORT_VERSION = 5

const ALL = [MIN_REPORT_VERSION, MAX_REPORT_VERSION] as const

/** Every field of every supported version, in offset order. Filter by version before use. */
export const SNP_REPORT_LAYOUT: readonly ReportField[] = [
  { name: 'VERSION', offset: 0x000, size: 4, type: 'u32', versions: ALL },
  { name: 'GUEST_SVN', offset: 0x004, size: 4, type: 'u32', versions: ALL },
  { name: 'POLICY', offset: 0x008, size: 8, type: 'u64', versions: ALL },
  { name: 'FAMILY_ID', offset: 0x010, size: 16, type: 'bytes', versions: ALL },
  { name: 'IMAGE_ID', offset: 0x020, size: 16, type: 'bytes', versions: ALL },
  { name: 'VMPL', offset: 0x030, size: 4, type: 'u32', versions: ALL },
  { name: 'SIGNATURE_ALGO', offset: 0x034, size: 4, type: 'u32', versions: ALL },
  { name: 'CURRENT_TCB', offset: 0x038, size: 8, type: 'bytes', versions: ALL },
  { name: 'PLATFORM_INFO', offset: 0x040, size: 8, type: 'u64', versions: ALL },
  // Bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY, bits 31:5 reserved.
  { name: 'KEY_INFO', offset: 0x048, size: 4, type: 'u32', versions: ALL },
  { name: 'RESERVED_04C', offset: 0x04c, size: 4, type: 'reserved', versions: ALL },
  { name: 'REPORT_DATA', offset: 0x050, size: 64, type: 'bytes', versions: ALL },
  { name: 'MEASUREMENT', offset: 0x090, size: 48, type: 'bytes', versions: ALL },
  { name: 'HOST_DATA', offset: 0x0c0, size: 32, type: 'bytes', versions: ALL },
  { name: 'ID_KEY_DIGEST', offset: 0x0e0, size: 48, type: 'bytes', versions: ALL },
  { name: 'AUTHOR_KEY_DIGEST', offset: 0x110, size: 48, type: 'bytes', versions: ALL },
  { name: 'REPORT_ID', offset: 0x140, size: 32, type: 'bytes', versions: ALL },
  { name: 'REPORT_ID_MA', offset: 0x160, size: 32, type: 'bytes', versions: ALL },
  { name: 'REPORTED_TCB', offset: 0x180, size: 8, type: 'bytes', versions: ALL },
  { name: 'RESERVED_188', offset: 0x188, size: 24, type: 'reserved', versions: [2, 2] },
  { name: 'CPUID_FAM_ID', offset: 0x188, size: 1, type: 'u8', versions: [3, 5] },
  { name: 'CPUID_MOD_ID', offset: 0x189, size: 1, type: 'u8', versions: [3, 5] },
  { name: 'CPUID_STEP', offset: 0x18a, size: 1, type: 'u8', versions: [3, 5] },
  { name: 'RESERVED_18B', offset: 0x18b, size: 21, type: 'reserved', versions: [3, 5] },
  { name: 'CHIP_ID', offset: 0x1a0, size: 64, type: 'bytes', versions: ALL },
  { name: 'COMMITTED_TCB', offset: 0x1e0, size: 8, type: 'bytes', versions: ALL },
  { name: 'CURRENT_BUILD', offset: 0x1e8, size: 1, type: 'u8', versions: ALL },
  { name: 'CURRENT_MINOR', offset: 0x1e9, size: 1, type: 'u8', versions: ALL },
  { name: 'CURRENT_MAJOR', offset: 0x1ea, size: 1, type: 'u8', versions: ALL },
  { name: 'RESERVED_1EB', offset: 0x1eb, size: 1, type: 'reserved', versions: ALL },
  { name: 'COMMITTED_BUILD', offset: 0x1ec, size: 1, type: 'u8', versions: ALL },
  { name: 'COMMITTED_MINOR', offset: 0x1ed, size: 1, type: 'u8', versions: ALL },
  { name: 'COMMITTED_MAJOR', offset: 0x1ee, size: 1, type: 'u8', versions: ALL },
  { name: 'RESERVED_1EF', offset: 0x1ef, size: 1, type: 'reserved', versions: ALL },
  { name: 'LAUNCH_TCB', offset: 0x1f0, size: 8, type: 'bytes', versions: ALL },
  { name: 'RESERVED_1F8', offset: 0x1f8, size: 168, type: 'reserved', versions: [2, 3] },
  // NOTE: version 4 is under AMD embargo. Its reports seen so far match version 3, but one report
  // from Turin is described with the 16 bytes of the version 5 mitigation vectors filled, so these
  // bytes are skipped.
  { name: 'RESERVED_1F8_V4', offset: 0x1f8, size: 16, type: 'unchecked', versions: [4, 4] },
  { name: 'LAUNCH_MIT_VECTOR', offset: 0x1f8, size: 8, type: 'u64', versions: [5, 5] },
  { name: 'CURRENT_MIT_VECTOR', offset: 0x200, size: 8, type: 'u64', versions: [5, 5] },
  { name: 'RESERVED_208', offset: 0x208, size: 152, type: 'reserved', versions: [4, 5] },
  // SIGNATURE for SIGNATURE_ALGO 1 (ECDSA P-384 with SHA-384): R and S as 72-byte little-endian
  // integers, then zero padding to 512 bytes.
  { name: 'SIGNATURE_R', offset: 0x2a0, size: 72, type: 'bytes', versions: ALL },
  { name: 'SIGNATURE_S', offset: 0x2e8, size: 72, type: 'bytes', versions: ALL },
  { name: 'SIGNATURE_RESERVED', offset: 0x330, size: 368, type: 'reserved', versions: ALL },
]

/** Size of the report in every supported version. */
export const SNP_REPORT_SIZE = 0x4a0

/** Offset of SIGNATURE. The signature covers every byte before it. */
export const SNP_SIGNED_SIZE = 0x2a0

/** Returns the fields of one report version, in offset order. */
export function reportFields(version: number): readonly ReportField[] {
  return SNP_REPORT_LAYOUT.filter((f) => version >= f.versions[0] && version <= f.versions[1])
}
