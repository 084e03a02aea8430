/**
 * Field layouts of the SPDM 1.1 messages in an NVIDIA GPU attestation report, with the names the
 * SPDM specification gives them. Offsets are relative to the start of each structure. Variable
 * parts (the measurement record, the opaque data) are read through their length fields.
 *
 * @see DMTF DSP0274 (SPDM) version 1.1: GET_MEASUREMENTS request, MEASUREMENTS response and the
 *   measurement block with its DMTF measurement field
 * @see NVIDIA nvtrust, guest_tools/gpu_verifiers/local_gpu_verifier/src/verifier/attestation/
 *   spdm_msrt_resp_msg.py (the same layout as NVIDIA's verifier reads it)
 * @module
 */

/** One fixed field of an SPDM structure. */
export interface LayoutField {
  readonly name: string
  readonly offset: number
  readonly size: number
}

/** SPDMVersion byte of SPDM 1.1 (major 1 in the high nibble, minor 1 in the low one). */
export const SPDM_VERSION_1_1 = 0x11
/** RequestResponseCode of GET_MEASUREMENTS. */
export const GET_MEASUREMENTS = 0xe0
/** RequestResponseCode of MEASUREMENTS, the successful response to GET_MEASUREMENTS. */
export const MEASUREMENTS = 0x60
/** RequestResponseCode of ERROR, which a responder sends instead of MEASUREMENTS. */
export const SPDM_ERROR = 0x7f
/** Bit 0 of the request's Param1: the requester asked for a signed response. */
export const SIGNATURE_REQUESTED = 0x01
/** Param2 of a request for every measurement block. */
export const ALL_MEASUREMENTS = 0xff
/** The SlotIDParam bits that name a certificate slot; the others are reserved. */
export const SLOT_ID_MASK = 0x0f
/** The largest slot number SPDM 1.1 defines. */
export const MAX_SLOT_ID = 7
/** Size of the requester's and the responder's nonce. */
export const NONCE_SIZE = 32

/** GET_MEASUREMENTS with a signature requested: 37 bytes. */
export const REQUEST_LAYOUT: readonly LayoutField[] = Object.freeze([
  { name: 'SPDMVersion', offset: 0, size: 1 },
  { name: 'RequestResponseCode', offset: 1, size: 1 },
  { name: 'Param1', offset: 2, size: 1 },
  { name: 'Param2', offset: 3, size: 1 },
  { name: 'Nonce', offset: 4, size: NONCE_SIZE },
  { name: 'SlotIDParam', offset: 36, size: 1 },
])

/** Size of the request: the end of its last field. */
export const REQUEST_SIZE = 37

/**
 * The fixed start of MEASUREMENTS. MeasurementRecord (MeasurementRecordLength bytes), Nonce (32),
 * OpaqueLength (2), OpaqueData (OpaqueLength bytes) and Signature follow in that order.
 */
export const RESPONSE_HEADER_LAYOUT: readonly LayoutField[] = Object.freeze([
  { name: 'SPDMVersion', offset: 0, size: 1 },
  { name: 'RequestResponseCode', offset: 1, size: 1 },
  { name: 'Param1', offset: 2, size: 1 },
  { name: 'Param2', offset: 3, size: 1 },
  { name: 'NumberOfBlocks', offset: 4, size: 1 },
  { name: 'MeasurementRecordLength', offset: 5, size: 3 },
])

/** Size of the fixed start of MEASUREMENTS. */
export const RESPONSE_HEADER_SIZE = 8

/** A measurement block's header; MeasurementSize bytes of Measurement follow it. */
export const BLOCK_HEADER_LAYOUT: readonly LayoutField[] = Object.freeze([
  { name: 'Index', offset: 0, size: 1 },
  { name: 'MeasurementSpecification', offset: 1, size: 1 },
  { name: 'MeasurementSize', offset: 2, size: 2 },
])

export const BLOCK_HEADER_SIZE = 4

/** The header of a Measurement in the DMTF format; the value follows it. */
export const DMTF_MEASUREMENT_LAYOUT: readonly LayoutField[] = Object.freeze([
  { name: 'DMTFSpecMeasurementValueType', offset: 0, size: 1 },
  { name: 'DMTFSpecMeasurementValueSize', offset: 1, size: 2 },
])

export const DMTF_MEASUREMENT_HEADER_SIZE = 3

/** MeasurementSpecification bit 0: the Measurement field is in the DMTF format. */
export const DMTF_MEASUREMENT_SPECIFICATION = 0x01

/**
 * Size of the response's signature: ECDSA P-384 as r‖s. SPDM sizes the signature by the
 * negotiated algorithm, which the report does not record. NVIDIA GPUs sign with ECDSA P-384 over
 * SHA-384.
 */
export const SIGNATURE_SIZE = 96

/**
 * Largest report accepted, in bytes. SPDM 1.1 lets a measurement record reach 16 MiB, but a
 * Hopper GPU reports 64 blocks of 55 bytes, about 4 KiB in all.
 */
export const MAX_REPORT_SIZE = 64 * 1024
