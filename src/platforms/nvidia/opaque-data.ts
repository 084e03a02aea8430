/**
 * The OpaqueData of an NVIDIA GPU's MEASUREMENTS response: a list of fields, each a little-endian
 * u16 DataType, a u16 DataSize and DataSize bytes. NVIDIA's verifiers name the types
 * `OPAQUE_FIELD_ID_<NAME>`. This module keeps every field and decodes the ones a verifier reads:
 * driver and VBIOS versions, FWID, NVDEC0 status, measurement counts, chip and project names.
 * Pure: no crypto, no I/O.
 *
 * @see NVIDIA nvtrust, local_gpu_verifier attestation/spdm_msrt_resp_msg.py (`OpaqueData`), and
 *   verifier/utils (`format_vbios_version`)
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import { toHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'

const STRUCTURE = 'OpaqueData'

/** NVIDIA's opaque data types by number, named as `OPAQUE_FIELD_ID_<name>`. */
export const OPAQUE_FIELD_TYPES: Readonly<Record<number, string>> = {
  1: 'CERT_ISSUER_NAME',
  2: 'CERT_AUTHORITY_KEY_IDENTIFIER',
  3: 'DRIVER_VERSION',
  4: 'GPU_INFO',
  5: 'SKU',
  6: 'VBIOS_VERSION',
  7: 'MANUFACTURER_ID',
  8: 'TAMPER_DETECTION',
  9: 'SMC',
  10: 'VPR',
  11: 'NVDEC0_STATUS',
  12: 'MSRSCNT',
  13: 'CPRINFO',
  14: 'BOARD_ID',
  15: 'CHIP_SKU',
  16: 'CHIP_SKU_MOD',
  17: 'PROJECT',
  18: 'PROJECT_SKU',
  19: 'PROJECT_SKU_MOD',
  20: 'FWID',
  21: 'PROTECTED_PCIE_STATUS',
  22: 'SWITCH_PDI',
  23: 'FLOORSWEPT_PORTS',
  24: 'POSITION_ID',
  25: 'LOCK_SWITCH_STATUS',
  32: 'GPU_LINK_CONN',
  33: 'SYS_ENABLE_STATUS',
  34: 'OPAQUE_DATA_VERSION',
  35: 'CHIP_INFO',
  36: 'FEATURE_FLAG',
  255: 'INVALID',
}

/** The opaque data types this module decodes. */
export const OPAQUE_TYPE = {
  driverVersion: 3,
  vbiosVersion: 6,
  nvdec0Status: 11,
  measurementCounts: 12,
  chipSku: 15,
  project: 17,
  projectSku: 18,
  fwid: 20,
  chipInfo: 35,
} as const

/** NVDEC0_STATUS byte of a GPU whose video decoder 0 is enabled, and of one where it is disabled. */
export const NVDEC0_ENABLED = 0xaa
export const NVDEC0_DISABLED = 0x55

/** Size of VBIOS_VERSION on a GPU. */
const VBIOS_VERSION_SIZE = 8
/** Size of each entry of MSRSCNT, a little-endian u32. */
const MEASUREMENT_COUNT_SIZE = 4

/** One field of the opaque data, as received. */
export interface OpaqueField {
  readonly type: number
  /** The name after `OPAQUE_FIELD_ID_`, or `TYPE_<n>` for a type NVIDIA has not named. */
  readonly name: string
  readonly value: Uint8Array
}

/** The decoded opaque data: every field in order, and the values verifiers read. */
export interface NvidiaOpaqueData {
  readonly fields: readonly OpaqueField[]
  /** DRIVER_VERSION as text, such as `550.90.07`. */
  readonly driverVersion: string | undefined
  /** VBIOS_VERSION in NVIDIA's dotted form, such as `96.00.9f.00.01`. */
  readonly vbiosVersion: string | undefined
  /** FWID: the digest of the firmware that owns the signing key. */
  readonly fwid: Uint8Array | undefined
  /** NVDEC0_STATUS: 0xaa when the decoder is enabled, 0x55 when disabled. */
  readonly nvdec0Status: number | undefined
  /** MSRSCNT: how many times each measurement was extended, by block index minus one. */
  readonly measurementCounts: readonly number[] | undefined
  readonly chipSku: string | undefined
  readonly project: string | undefined
  readonly projectSku: string | undefined
  readonly chipInfo: string | undefined
}

function malformed(message: string, field: string, offset: number): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `opaque data: ${message}`, {
    structure: STRUCTURE,
    field,
    offset,
  })
}

/** Returns the name NVIDIA gives a type, or `TYPE_<n>`. */
export function opaqueFieldName(type: number): string {
  return OPAQUE_FIELD_TYPES[type] ?? `TYPE_${type}`
}

/**
 * Decodes text that NVIDIA pads with NUL bytes. Returns undefined when it contains anything
 * but printable ASCII before the padding.
 */
function paddedText(value: Uint8Array): string | undefined {
  let end = value.length
  while (end > 0 && value[end - 1] === 0) end--
  let text = ''
  for (const byte of value.subarray(0, end)) {
    if (byte < 0x20 || byte > 0x7e) return undefined
    text += String.fromCharCode(byte)
  }
  return text
}

/**
 * Formats VBIOS_VERSION as NVIDIA's verifier does: the 8 bytes b0..b7 read as a little-endian
 * number give `b3.b2.b1.b0.b4` in lower-case hex, so `00 9f 00 96 01 00 00 00` is `96.00.9f.00.01`.
 */
export function formatVbiosVersion(value: Uint8Array): string {
  return [3, 2, 1, 0, 4].map((i) => toHex(value.subarray(i, i + 1))).join('.')
}

function textField(field: OpaqueField, offset: number): string {
  const text = paddedText(field.value)
  if (text === undefined) throw malformed(`${field.name} is not ASCII text`, field.name, offset)

  return text
}

function measurementCounts(field: OpaqueField, offset: number): number[] {
  if (field.value.length % MEASUREMENT_COUNT_SIZE !== 0) {
    const message = `MSRSCNT is ${field.value.length} bytes, not a multiple of ${MEASUREMENT_COUNT_SIZE}`
    throw malformed(message, field.name, offset)
  }
  const reader = new ByteReader(field.value, STRUCTURE, offset)
  const counts: number[] = []
  while (reader.remaining > 0) counts.push(reader.u32le('MSRSCNT'))

  return counts
}

/** Reads the fields, rejecting one that runs past the end or a type given twice. */
function readFields(reader: ByteReader): { field: OpaqueField; offset: number }[] {
  const fields: { field: OpaqueField; offset: number }[] = []
  const seen = new Set<number>()
  while (reader.remaining > 0) {
    const offset = reader.absoluteOffset
    const type = reader.u16le('DataType')
    const size = reader.u16le('DataSize')
    const name = opaqueFieldName(type)
    const value = reader.bytes(size, name)
    if (seen.has(type)) throw malformed(`${name} appears twice`, name, offset)
    seen.add(type)
    fields.push({ field: { type, name, value }, offset })
  }

  return fields
}

/**
 * Decodes the OpaqueData of a MEASUREMENTS response. Every field must lie inside the data and
 * each type may appear once. Types NVIDIA has not named are kept undecoded.
 *
 * @param base offset of the opaque data within the whole report, for error locations
 * @throws ParseError `ERR_PARSE_TRUNCATED` for a field that runs past the end.
 * @throws ParseError `ERR_PARSE_MALFORMED` for a repeated type or a version that is not ASCII. The
 *   same code covers a VBIOS_VERSION that is not 8 bytes and an MSRSCNT of partial u32 values.
 */
export function parseOpaqueData(bytes: Uint8Array, base = 0): NvidiaOpaqueData {
  const located = readFields(new ByteReader(bytes, STRUCTURE, base))
  const find = (type: number) => located.find(({ field }) => field.type === type)
  const text = (type: number) => {
    const entry = find(type)
    return entry === undefined ? undefined : textField(entry.field, entry.offset)
  }

  const vbios = find(OPAQUE_TYPE.vbiosVersion)
  if (vbios !== undefined && vbios.field.value.length !== VBIOS_VERSION_SIZE) {
    const message = `VBIOS_VERSION is ${vbios.field.value.length} bytes, not ${VBIOS_VERSION_SIZE}`
    throw malformed(message, vbios.field.name, vbios.offset)
  }
  const counts = find(OPAQUE_TYPE.measurementCounts)
  const nvdec = find(OPAQUE_TYPE.nvdec0Status)?.field.value

  return {
    fields: located.map(({ field }) => field),
    driverVersion: text(OPAQUE_TYPE.driverVersion),
    vbiosVersion: vbios === undefined ? undefined : formatVbiosVersion(vbios.field.value),
    fwid: find(OPAQUE_TYPE.fwid)?.field.value,
    nvdec0Status: nvdec?.length === 1 ? nvdec[0] : undefined,
    measurementCounts:
      counts === undefined ? undefined : measurementCounts(counts.field, counts.offset),
    chipSku: text(OPAQUE_TYPE.chipSku),
    project: text(OPAQUE_TYPE.project),
    projectSku: text(OPAQUE_TYPE.projectSku),
    chipInfo: text(OPAQUE_TYPE.chipInfo),
  }
}
