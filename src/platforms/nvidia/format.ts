/**
 * NVIDIA GPU attestation reports: the SPDM 1.1 GET_MEASUREMENTS request a verifier sent, followed
 * by the MEASUREMENTS response the GPU signed. NVIDIA's tools store the pair as hex text
 * (`attestation_report.hex`); binary input is accepted too. Pure: no crypto, no I/O.
 *
 * The signature is found through the length fields, never by taking the last bytes: a real report
 * captured by Trustee carries one zero byte after its signature. Zero bytes after the signature
 * are tolerated and counted; any other trailing byte is rejected.
 *
 * @see DMTF DSP0274 (SPDM) version 1.1, GET_MEASUREMENTS and MEASUREMENTS
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import { fromHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import {
  ALL_MEASUREMENTS,
  BLOCK_HEADER_SIZE,
  DMTF_MEASUREMENT_HEADER_SIZE,
  DMTF_MEASUREMENT_SPECIFICATION,
  GET_MEASUREMENTS,
  MAX_REPORT_SIZE,
  MAX_SLOT_ID,
  MEASUREMENTS,
  NONCE_SIZE,
  REQUEST_SIZE,
  RESPONSE_HEADER_SIZE,
  SIGNATURE_REQUESTED,
  SIGNATURE_SIZE,
  SLOT_ID_MASK,
  SPDM_ERROR,
  SPDM_VERSION_1_1,
} from './layout.js'
import { type NvidiaOpaqueData, parseOpaqueData } from './opaque-data.js'

const REQUEST = 'GET_MEASUREMENTS'
const RESPONSE = 'MEASUREMENTS'

/** The verifier's GET_MEASUREMENTS request, as the GPU received it. */
export interface GetMeasurementsRequest {
  readonly spdmVersion: number
  /** Param1, the request attributes. Bit 0 requests a signature, which confide requires. */
  readonly param1: number
  /** Param2, the measurement operation: 0xff for every block, or one block's index. */
  readonly measurementOperation: number
  /** The verifier's nonce, which the signature binds. */
  readonly nonce: Uint8Array
  /** The certificate slot whose key signs the response (SlotIDParam bits 0 to 3). */
  readonly slotId: number
}

/** One measurement block whose Measurement is in the DMTF format. */
export interface SpdmMeasurementBlock {
  /** Index, 1 to 254. */
  readonly index: number
  readonly measurementSpecification: number
  /** DMTFSpecMeasurementValueType: bit 7 set means a raw bit stream, bits 0 to 6 the kind. */
  readonly valueType: number
  /** DMTFSpecMeasurementValue: a digest (48 bytes of SHA-384 on Hopper) or a raw value. */
  readonly value: Uint8Array
}

/** The GPU's MEASUREMENTS response. */
export interface MeasurementsResponse {
  readonly spdmVersion: number
  readonly param1: number
  readonly param2: number
  readonly numberOfBlocks: number
  readonly measurementRecordLength: number
  /** The blocks in the order received. */
  readonly blocks: readonly SpdmMeasurementBlock[]
  /** The responder's nonce. */
  readonly nonce: Uint8Array
  readonly opaqueLength: number
  readonly opaqueData: NvidiaOpaqueData
  /** ECDSA P-384 signature as r‖s. */
  readonly signature: Uint8Array
}

/** A decoded GPU attestation report. */
export interface NvidiaReport {
  /** Whether the input was hex text or binary. */
  readonly form: 'hex' | 'binary'
  readonly request: GetMeasurementsRequest
  readonly response: MeasurementsResponse
  /** The request and the response up to its signature: the bytes the signature covers. */
  readonly signedBytes: Uint8Array
  /** Zero bytes that follow the signature. */
  readonly trailingBytes: number
}

function malformed(message: string, structure: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `${structure}: ${message}`, {
    structure,
    ...(field === undefined ? {} : { field }),
  })
}

function checkVersion(version: number, structure: string): void {
  if (version === SPDM_VERSION_1_1) return
  const text = `${version >> 4}.${version & 0x0f}`
  throw new ParseError(
    'ERR_PARSE_UNSUPPORTED_VERSION',
    `${structure}: SPDM version ${text} is not supported (1.1)`,
    { structure, field: 'SPDMVersion', offset: 0 },
  )
}

function readRequest(reader: ByteReader): GetMeasurementsRequest {
  const spdmVersion = reader.u8('SPDMVersion')
  checkVersion(spdmVersion, REQUEST)
  const code = reader.u8('RequestResponseCode')
  if (code !== GET_MEASUREMENTS) {
    const message = `RequestResponseCode is 0x${code.toString(16)}, not 0xe0`
    throw malformed(message, REQUEST, 'RequestResponseCode')
  }
  const param1 = reader.u8('Param1')
  if ((param1 & SIGNATURE_REQUESTED) === 0) {
    throw malformed('the request did not ask for a signature (Param1 bit 0)', REQUEST, 'Param1')
  }
  const measurementOperation = reader.u8('Param2')
  if (measurementOperation === 0) {
    throw malformed('the request asked for the number of blocks, not for blocks', REQUEST, 'Param2')
  }
  const nonce = reader.bytes(NONCE_SIZE, 'Nonce')
  const slot = reader.u8('SlotIDParam')
  if ((slot & ~SLOT_ID_MASK) !== 0 || slot > MAX_SLOT_ID) {
    throw malformed(`SlotIDParam 0x${slot.toString(16)} names no slot`, REQUEST, 'SlotIDParam')
  }

  return { spdmVersion, param1, measurementOperation, nonce, slotId: slot }
}

function readBlock(record: ByteReader): SpdmMeasurementBlock {
  const index = record.u8('Index')
  if (index === 0 || index === ALL_MEASUREMENTS) {
    throw malformed(`measurement block index ${index} is reserved`, RESPONSE, 'Index')
  }
  const measurementSpecification = record.u8('MeasurementSpecification')
  if (measurementSpecification !== DMTF_MEASUREMENT_SPECIFICATION) {
    const message = `block ${index} has MeasurementSpecification 0x${measurementSpecification.toString(16)}, not DMTF (0x01)`
    throw malformed(message, RESPONSE, 'MeasurementSpecification')
  }
  const size = record.u16le('MeasurementSize')
  const measurement = record.sub(size, 'Measurement')
  const valueType = measurement.u8('DMTFSpecMeasurementValueType')
  const valueSize = measurement.u16le('DMTFSpecMeasurementValueSize')
  if (DMTF_MEASUREMENT_HEADER_SIZE + valueSize !== size) {
    const message = `block ${index} has MeasurementSize ${size} but a ${valueSize}-byte value`
    throw malformed(message, RESPONSE, 'DMTFSpecMeasurementValueSize')
  }

  return {
    index,
    measurementSpecification,
    valueType,
    value: measurement.bytes(valueSize, 'DMTFSpecMeasurementValue'),
  }
}

/** Reads exactly `count` blocks that fill the record, with no index given twice. */
function readRecord(record: ByteReader, count: number): SpdmMeasurementBlock[] {
  const blocks: SpdmMeasurementBlock[] = []
  const seen = new Set<number>()
  for (let i = 0; i < count; i++) {
    if (record.remaining < BLOCK_HEADER_SIZE) {
      throw record.error(
        'ERR_PARSE_TRUNCATED',
        `${RESPONSE}: the record ends before block ${i + 1} of ${count}`,
      )
    }
    const block = readBlock(record)
    if (seen.has(block.index)) {
      throw malformed(`measurement block ${block.index} appears twice`, RESPONSE, 'Index')
    }
    seen.add(block.index)
    blocks.push(block)
  }
  if (record.remaining !== 0) {
    const message = `${record.remaining} bytes of the measurement record follow its ${count} blocks`
    throw malformed(message, RESPONSE, 'MeasurementRecord')
  }

  return blocks
}

function readResponse(reader: ByteReader): MeasurementsResponse {
  const spdmVersion = reader.u8('SPDMVersion')
  checkVersion(spdmVersion, RESPONSE)
  const code = reader.u8('RequestResponseCode')
  if (code === SPDM_ERROR)
    throw malformed('the GPU returned an SPDM ERROR response instead of MEASUREMENTS', RESPONSE)
  if (code !== MEASUREMENTS) {
    const message = `RequestResponseCode is 0x${code.toString(16)}, not 0x60`
    throw malformed(message, RESPONSE, 'RequestResponseCode')
  }
  const param1 = reader.u8('Param1')
  const param2 = reader.u8('Param2')
  const numberOfBlocks = reader.u8('NumberOfBlocks')
  const length = reader.bytes(3, 'MeasurementRecordLength')
  const measurementRecordLength = length[0]! | (length[1]! << 8) | (length[2]! << 16)
  const blocks = readRecord(
    reader.sub(measurementRecordLength, 'MeasurementRecord'),
    numberOfBlocks,
  )
  const nonce = reader.bytes(NONCE_SIZE, 'Nonce')
  const opaqueLength = reader.u16le('OpaqueLength')
  const opaqueBase = reader.absoluteOffset
  const opaqueData = parseOpaqueData(reader.bytes(opaqueLength, 'OpaqueData'), opaqueBase)
  const signature = reader.bytes(SIGNATURE_SIZE, 'Signature')

  return {
    spdmVersion,
    param1,
    param2,
    numberOfBlocks,
    measurementRecordLength,
    blocks,
    nonce,
    opaqueLength,
    opaqueData,
    signature,
  }
}

const HEX_TEXT = /^[0-9a-fA-F\s]*$/
const WHITESPACE = /\s+/g
const latin1 = new TextDecoder('latin1')

/**
 * Turns hex text (whitespace allowed anywhere) into bytes. Input holding any other character is
 * binary and is returned as is.
 */
function reportBytes(input: Uint8Array): { bytes: Uint8Array; form: 'hex' | 'binary' } {
  const text = latin1.decode(input)
  if (!HEX_TEXT.test(text)) return { bytes: input, form: 'binary' }
  const digits = text.replace(WHITESPACE, '')
  if (digits.length % 2 !== 0) {
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      'NVIDIA report: hex text has an odd number of digits',
      {
        structure: 'NvidiaReport',
        offset: 0,
      },
    )
  }

  return { bytes: fromHex(digits), form: 'hex' }
}

function checkTrailing(bytes: Uint8Array, end: number): number {
  for (let offset = end; offset < bytes.length; offset++) {
    if (bytes[offset] !== 0) {
      throw new ParseError(
        'ERR_PARSE_MALFORMED',
        `${RESPONSE}: ${bytes.length - end} bytes follow the signature and not all are zero`,
        { structure: RESPONSE, field: 'Signature', offset },
      )
    }
  }

  return bytes.length - end
}

/**
 * Decodes a GPU attestation report given as hex text or binary: the 37-byte GET_MEASUREMENTS
 * request with a signature requested, then the MEASUREMENTS response. Both must be SPDM 1.1.
 * Every measurement block must be in the DMTF format, the blocks must fill MeasurementRecordLength
 * exactly, and the opaque data must decode (see parseOpaqueData). No signature is checked.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for a report over 64 KiB, `ERR_PARSE_TRUNCATED` when a
 *   length field points past the end, `ERR_PARSE_UNSUPPORTED_VERSION` for another SPDM version, or
 *   `ERR_PARSE_MALFORMED`.
 */
export function parseNvidiaReport(input: Uint8Array): NvidiaReport {
  if (input.length > MAX_REPORT_SIZE * 3) throw oversized(input.length)
  const { bytes, form } = reportBytes(input)
  if (bytes.length > MAX_REPORT_SIZE) throw oversized(bytes.length)
  const reader = new ByteReader(bytes, REQUEST)
  const request = readRequest(reader.sub(REQUEST_SIZE, REQUEST))
  const response = readResponse(reader.sub(bytes.length - REQUEST_SIZE, RESPONSE))
  const signatureStart =
    REQUEST_SIZE +
    RESPONSE_HEADER_SIZE +
    response.measurementRecordLength +
    NONCE_SIZE +
    2 +
    response.opaqueLength

  return {
    form,
    request,
    response,
    signedBytes: bytes.slice(0, signatureStart),
    trailingBytes: checkTrailing(bytes, signatureStart + SIGNATURE_SIZE),
  }
}

function oversized(size: number): ParseError {
  return new ParseError(
    'ERR_PARSE_OVERSIZED',
    `NVIDIA report is ${size} bytes, more than ${MAX_REPORT_SIZE}`,
    { structure: 'NvidiaReport' },
  )
}

const TEXT_PREFIX = /^\s{0,16}11e0/i

/** Tells whether bytes start like a GPU report: binary 0x11 0xe0, or hex text `11e0`. */
export function sniffNvidiaReport(bytes: Uint8Array): boolean {
  if (bytes[0] === SPDM_VERSION_1_1) return bytes[1] === GET_MEASUREMENTS
  return TEXT_PREFIX.test(latin1.decode(bytes.subarray(0, 24)))
}
