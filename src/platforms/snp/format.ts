/**
 * SEV-SNP evidence as bytes: a bare ATTESTATION_REPORT, a report followed by its certificate
 * table (an extended report, as go-sev-guest stores SNP_GET_EXT_REPORT output), or Azure's HCL
 * report wrapping a report. Pure: no crypto, no I/O.
 *
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import { isAllZero } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import { parseCertificateTable, SNP_TABLE_GUIDS, type SnpTableEntry } from './certificate-table.js'
import { HCL_REPORT_OFFSET, type HclEnvelope, hasHclSignature, parseHclEnvelope } from './hcl.js'
import { productFromCpuid, type SnpProduct } from './product.js'
import {
  MAX_REPORT_VERSION,
  MIN_REPORT_VERSION,
  type ReportField,
  reportFields,
  SNP_REPORT_SIZE,
  SNP_SIGNED_SIZE,
} from './report-layout.js'

/** The key that signed a report, from KEY_INFO.SIGNING_KEY: 0 VCEK, 1 VLEK, 7 none. */
export type SnpSigningKey = 'vcek' | 'vlek' | 'none'

/** A firmware version as major.minor.build. */
export interface SnpFirmwareVersion {
  readonly major: number
  readonly minor: number
  readonly build: number
}

/** CPUID family, model and stepping, each the combined extended and base value. */
export interface SnpCpuid {
  readonly family: number
  readonly model: number
  readonly stepping: number
}

/** A decoded ATTESTATION_REPORT. Byte fields are copies, and TCB fields are the raw 8 bytes. */
export interface SnpReport {
  readonly version: number
  readonly guestSvn: number
  readonly policy: bigint
  readonly familyId: Uint8Array
  readonly imageId: Uint8Array
  readonly vmpl: number
  readonly signatureAlgo: number
  readonly currentTcb: Uint8Array
  readonly platformInfo: bigint
  readonly keyInfo: number
  readonly signingKey: SnpSigningKey
  readonly maskChipKey: boolean
  readonly authorKeyEn: boolean
  readonly reportData: Uint8Array
  readonly measurement: Uint8Array
  readonly hostData: Uint8Array
  readonly idKeyDigest: Uint8Array
  readonly authorKeyDigest: Uint8Array
  readonly reportId: Uint8Array
  readonly reportIdMa: Uint8Array
  readonly reportedTcb: Uint8Array
  /** Present from version 3. */
  readonly cpuid: SnpCpuid | undefined
  /** Product the CPUID fields denote, or undefined for version 2 or an unknown processor. */
  readonly cpuidProduct: SnpProduct | undefined
  readonly chipId: Uint8Array
  readonly committedTcb: Uint8Array
  readonly currentVersion: SnpFirmwareVersion
  readonly committedVersion: SnpFirmwareVersion
  readonly launchTcb: Uint8Array
  /** Present from version 5. */
  readonly launchMitVector: bigint | undefined
  /** Present from version 5. */
  readonly currentMitVector: bigint | undefined
  /** R of the signature, 72 bytes, little-endian. */
  readonly signatureR: Uint8Array
  /** S of the signature, 72 bytes, little-endian. */
  readonly signatureS: Uint8Array
  /** The 1184 report bytes, copied. */
  readonly bytes: Uint8Array
  /** Bytes 0 to 0x29F, which the signature covers (a view of `bytes`). */
  readonly signedBytes: Uint8Array
}

/** Parsed SEV-SNP evidence. */
export interface SnpEvidence {
  /** Wrapper the report came in. */
  readonly container: 'report' | 'extended-report' | 'hcl'
  readonly report: SnpReport
  /** Certificates carried with an extended report, or none. */
  readonly certificates: readonly SnpTableEntry[]
  /** Header and runtime data of an HCL report, if the report came in one. */
  readonly hcl?: HclEnvelope
}

const STRUCTURE = 'SnpReport'
const SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1
const POLICY_RESERVED_ONE_BIT = 17n
/** Policy bits 63:26, reserved and zero. Bit 25 (PAGE_SWAP_DISABLE) is the highest defined. */
const POLICY_RESERVED_MASK = ~((1n << 26n) - 1n) & 0xffff_ffff_ffff_ffffn
const KEY_INFO_RESERVED_MASK = ~0x1f >>> 0
const SIGNING_KEYS: Readonly<Record<number, SnpSigningKey>> = { 0: 'vcek', 1: 'vlek', 7: 'none' }

type FieldValue = number | bigint | Uint8Array

function readFields(reader: ByteReader, fields: readonly ReportField[]): Map<string, FieldValue> {
  const values = new Map<string, FieldValue>()
  for (const field of fields) {
    if (field.type === 'u8') values.set(field.name, reader.u8(field.name))
    else if (field.type === 'u32') values.set(field.name, reader.u32le(field.name))
    else if (field.type === 'u64') values.set(field.name, reader.u64le(field.name))
    else if (field.type === 'bytes') values.set(field.name, reader.bytes(field.size, field.name))
    else if (field.type === 'unchecked') reader.skip(field.size, field.name)
    else {
      const offset = reader.absoluteOffset
      if (!isAllZero(reader.bytes(field.size, field.name))) {
        throw new ParseError(
          'ERR_PARSE_RESERVED_NONZERO',
          `reserved field ${field.name} at offset 0x${offset.toString(16)} is not zero`,
          { structure: STRUCTURE, field: field.name, offset },
        )
      }
    }
  }
  return values
}

function fieldError(
  code: ParseError['code'],
  message: string,
  name: string,
  base: number,
): ParseError {
  const offset = base + (reportFields(MIN_REPORT_VERSION).find((f) => f.name === name)?.offset ?? 0)
  return new ParseError(code, message, { structure: STRUCTURE, field: name, offset })
}

function checkPolicy(policy: bigint, base: number): void {
  if (((policy >> POLICY_RESERVED_ONE_BIT) & 1n) === 0n) {
    throw fieldError(
      'ERR_PARSE_MALFORMED',
      'POLICY bit 17 is reserved and must be 1',
      'POLICY',
      base,
    )
  }
  if ((policy & POLICY_RESERVED_MASK) !== 0n) {
    throw fieldError(
      'ERR_PARSE_RESERVED_NONZERO',
      `POLICY 0x${policy.toString(16)} sets reserved bits 63:26`,
      'POLICY',
      base,
    )
  }
}

function signingKeyOf(keyInfo: number, base: number): SnpSigningKey {
  if ((keyInfo & KEY_INFO_RESERVED_MASK) !== 0) {
    throw fieldError(
      'ERR_PARSE_RESERVED_NONZERO',
      `KEY_INFO 0x${keyInfo.toString(16)} sets reserved bits 31:5`,
      'KEY_INFO',
      base,
    )
  }
  const code = (keyInfo >> 2) & 0x7
  const key = SIGNING_KEYS[code]
  if (key === undefined) {
    throw fieldError(
      'ERR_PARSE_MALFORMED',
      `KEY_INFO.SIGNING_KEY ${code} is reserved (0 VCEK, 1 VLEK, 7 none)`,
      'KEY_INFO',
      base,
    )
  }
  return key
}

function readVersion(reader: ByteReader): number {
  const version = reader.u32le('VERSION')
  if (version < MIN_REPORT_VERSION || version > MAX_REPORT_VERSION) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_VERSION',
      `report version ${version} is not supported (${MIN_REPORT_VERSION}..${MAX_REPORT_VERSION})`,
      { structure: STRUCTURE, field: 'VERSION', offset: reader.absoluteOffset - 4 },
    )
  }
  return version
}

/**
 * Decodes the 1184-byte ATTESTATION_REPORT at the start of `bytes` (later bytes are ignored).
 *
 * Rejects an unsupported VERSION before reading any field whose place depends on it. Checks every
 * reserved range, the reserved bits of POLICY and KEY_INFO, POLICY bit 17 (always one), and that
 * SIGNATURE_ALGO is ECDSA P-384 with SHA-384. Does not check the signature.
 *
 * @param base offset of `bytes` in the whole input, for error offsets
 * @throws ParseError `ERR_PARSE_TRUNCATED`, `ERR_PARSE_UNSUPPORTED_VERSION`,
 *   `ERR_PARSE_RESERVED_NONZERO`, `ERR_PARSE_MALFORMED` or `ERR_PARSE_UNSUPPORTED_KEY_TYPE`.
 * @see the layout table in report-layout.ts for the specification source.
 */
export function parseSnpReport(bytes: Uint8Array, base = 0): SnpReport {
  const reader = new ByteReader(bytes, STRUCTURE, base)
  const version = readVersion(reader)
  const values = readFields(reader, reportFields(version).slice(1))
  const u32 = (name: string) => values.get(name) as number
  const u64 = (name: string) => values.get(name) as bigint
  const raw = (name: string) => values.get(name) as Uint8Array

  const signatureAlgo = u32('SIGNATURE_ALGO')
  if (signatureAlgo !== SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    throw fieldError(
      'ERR_PARSE_UNSUPPORTED_KEY_TYPE',
      `SIGNATURE_ALGO ${signatureAlgo} is not ECDSA P-384 with SHA-384 (1)`,
      'SIGNATURE_ALGO',
      base,
    )
  }
  checkPolicy(u64('POLICY'), base)
  const keyInfo = u32('KEY_INFO')
  const signingKey = signingKeyOf(keyInfo, base)
  const cpuid =
    version >= 3
      ? { family: u32('CPUID_FAM_ID'), model: u32('CPUID_MOD_ID'), stepping: u32('CPUID_STEP') }
      : undefined
  const copy = bytes.slice(0, SNP_REPORT_SIZE)

  return {
    version,
    guestSvn: u32('GUEST_SVN'),
    policy: u64('POLICY'),
    familyId: raw('FAMILY_ID'),
    imageId: raw('IMAGE_ID'),
    vmpl: u32('VMPL'),
    signatureAlgo,
    currentTcb: raw('CURRENT_TCB'),
    platformInfo: u64('PLATFORM_INFO'),
    keyInfo,
    signingKey,
    maskChipKey: (keyInfo & 0x2) !== 0,
    authorKeyEn: (keyInfo & 0x1) !== 0,
    reportData: raw('REPORT_DATA'),
    measurement: raw('MEASUREMENT'),
    hostData: raw('HOST_DATA'),
    idKeyDigest: raw('ID_KEY_DIGEST'),
    authorKeyDigest: raw('AUTHOR_KEY_DIGEST'),
    reportId: raw('REPORT_ID'),
    reportIdMa: raw('REPORT_ID_MA'),
    reportedTcb: raw('REPORTED_TCB'),
    cpuid,
    cpuidProduct: cpuid === undefined ? undefined : productFromCpuid(cpuid.family, cpuid.model),
    chipId: raw('CHIP_ID'),
    committedTcb: raw('COMMITTED_TCB'),
    currentVersion: {
      major: u32('CURRENT_MAJOR'),
      minor: u32('CURRENT_MINOR'),
      build: u32('CURRENT_BUILD'),
    },
    committedVersion: {
      major: u32('COMMITTED_MAJOR'),
      minor: u32('COMMITTED_MINOR'),
      build: u32('COMMITTED_BUILD'),
    },
    launchTcb: raw('LAUNCH_TCB'),
    launchMitVector: version >= 5 ? u64('LAUNCH_MIT_VECTOR') : undefined,
    currentMitVector: version >= 5 ? u64('CURRENT_MIT_VECTOR') : undefined,
    signatureR: raw('SIGNATURE_R'),
    signatureS: raw('SIGNATURE_S'),
    bytes: copy,
    signedBytes: copy.subarray(0, SNP_SIGNED_SIZE),
  }
}

/**
 * Decodes SEV-SNP evidence: an HCL report (recognized by its "HCLA" signature), a bare report
 * (exactly 1184 bytes), or a report followed by a certificate table.
 *
 * @throws ParseError as {@link parseSnpReport}, {@link parseCertificateTable} and
 *   {@link parseHclEnvelope} do.
 */
export function parseSnpEvidence(bytes: Uint8Array): SnpEvidence {
  if (hasHclSignature(bytes)) {
    const hcl = parseHclEnvelope(bytes)
    const report = parseSnpReport(bytes.subarray(HCL_REPORT_OFFSET), HCL_REPORT_OFFSET)
    return { container: 'hcl', report, certificates: [], hcl }
  }
  const report = parseSnpReport(bytes)
  if (bytes.length === SNP_REPORT_SIZE) return { container: 'report', report, certificates: [] }
  const certificates = parseCertificateTable(bytes.subarray(SNP_REPORT_SIZE), SNP_REPORT_SIZE)

  return { container: 'extended-report', report, certificates }
}

/** Tells whether 1184 bytes at `offset` look like a report: supported version, ECDSA, policy. */
function looksLikeReport(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length < offset + SNP_REPORT_SIZE) return false
  const reader = new ByteReader(bytes.subarray(offset, offset + SNP_REPORT_SIZE), STRUCTURE)
  const version = reader.u32le('VERSION')
  if (version < MIN_REPORT_VERSION || version > MAX_REPORT_VERSION) return false
  reader.skip(4, 'GUEST_SVN')
  const policy = reader.u64le('POLICY')
  reader.skip(0x34 - reader.offset, 'FAMILY_ID')
  const signatureAlgo = reader.u32le('SIGNATURE_ALGO')

  return (
    signatureAlgo === SIGNATURE_ALGO_ECDSA_P384_SHA384 &&
    ((policy >> POLICY_RESERVED_ONE_BIT) & 1n) === 1n &&
    (policy & POLICY_RESERVED_MASK) === 0n
  )
}

const KNOWN_GUID_PREFIXES = Object.values(SNP_TABLE_GUIDS).map((guid) => guid.slice(0, 8))

/** Tells whether a certificate table starts at `offset` with one of the defined GUIDs. */
function looksLikeTable(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length < offset + 4) return false
  const prefix = [0, 1, 2, 3].map((i) => (bytes[offset + i] ?? 0).toString(16).padStart(2, '0'))
  return KNOWN_GUID_PREFIXES.includes(prefix.join(''))
}

/**
 * Tells cheaply whether bytes are SEV-SNP evidence: a 1184-byte report with a supported version,
 * such a report followed by a certificate table whose first GUID is a known one, or an HCL report
 * containing such a report. Returns false rather than throwing.
 */
export function sniffSnpEvidence(bytes: Uint8Array): boolean {
  if (hasHclSignature(bytes)) return looksLikeReport(bytes, HCL_REPORT_OFFSET)
  if (!looksLikeReport(bytes, 0)) return false

  return bytes.length === SNP_REPORT_SIZE || looksLikeTable(bytes, SNP_REPORT_SIZE)
}
