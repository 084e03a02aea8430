/**
 * COSE_Sign1 structures (RFC 9052) signed with ECDSA, as Arm CCA tokens carry them. Unlike the
 * Nitro reader, which accepts only its one header, this reads the algorithm from the protected
 * header and accepts other header parameters. Pure: no crypto, no I/O.
 *
 * @see RFC 9052, §4.2 (COSE_Sign1), §4.4 (Sig_structure) and §3.1 (`crit`)
 * @see RFC 9053, §2.1 (ECDSA algorithm values)
 * @module
 */
import { Tag } from 'cbor-x'
import { concatBytes } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import type { DigestAlgorithm, NamedCurve } from '../../crypto/port.js'
import { decodeStrictCbor } from './cbor.js'

/** CBOR tag of a tagged COSE_Sign1 structure. */
export const COSE_SIGN1_TAG = 18
/** Protected header label of the algorithm. */
export const COSE_HEADER_ALG = 1
/** Protected header label of the critical-parameters list. */
export const COSE_HEADER_CRIT = 2

/** An ECDSA algorithm of COSE: its hash, its curve and the size of its r‖s signature. */
export interface CoseEcdsaAlgorithm {
  readonly name: 'ES256' | 'ES384' | 'ES512'
  readonly value: number
  readonly hash: DigestAlgorithm
  readonly curve: NamedCurve
  readonly signatureSize: number
}

/** The ECDSA algorithms of RFC 9053, by their COSE values. */
export const COSE_ECDSA_ALGORITHMS: ReadonlyMap<number, CoseEcdsaAlgorithm> = new Map([
  [-7, { name: 'ES256', value: -7, hash: 'SHA-256', curve: 'P-256', signatureSize: 64 }],
  [-35, { name: 'ES384', value: -35, hash: 'SHA-384', curve: 'P-384', signatureSize: 96 }],
  [-36, { name: 'ES512', value: -36, hash: 'SHA-512', curve: 'P-521', signatureSize: 132 }],
])

/** A decoded COSE_Sign1 with the bytes its signature covers. */
export interface CoseSign1Message {
  /** Whether the structure was wrapped in CBOR tag 18. */
  readonly tagged: boolean
  /** The protected header as received (a serialized map). */
  readonly protectedHeader: Uint8Array
  readonly algorithm: CoseEcdsaAlgorithm
  readonly payload: Uint8Array
  /** The signature, r‖s. */
  readonly signature: Uint8Array
  /** The Sig_structure `["Signature1", protected, h'', payload]`, which the signature covers. */
  readonly toBeSigned: Uint8Array
}

/** Encodes the header of a CBOR byte string of `length` bytes. */
function byteStringHeader(length: number): Uint8Array {
  if (length < 24) return Uint8Array.of(0x40 | length)
  if (length < 0x100) return Uint8Array.of(0x58, length)
  if (length < 0x10000) return Uint8Array.of(0x59, length >> 8, length & 0xff)
  return Uint8Array.of(
    0x5a,
    length >>> 24,
    (length >> 16) & 0xff,
    (length >> 8) & 0xff,
    length & 0xff,
  )
}

/** The Sig_structure context and the CBOR header of a 4-item array (RFC 9052, §4.4). */
const SIG_STRUCTURE_PREFIX = Uint8Array.of(0x84, 0x6a, ...new TextEncoder().encode('Signature1'))
const EMPTY_EXTERNAL_AAD = Uint8Array.of(0x40)

/** Builds the Sig_structure of a COSE_Sign1 with empty external data. */
export function sign1ToBeSigned(protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array {
  return concatBytes(
    SIG_STRUCTURE_PREFIX,
    byteStringHeader(protectedHeader.length),
    protectedHeader,
    EMPTY_EXTERNAL_AAD,
    byteStringHeader(payload.length),
    payload,
  )
}

function malformed(structure: string, message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `${structure}: ${message}`, {
    structure,
    ...(field === undefined ? {} : { field }),
  })
}

/** Reads the algorithm from a protected header, rejecting any `crit` parameter. */
function algorithmOf(protectedHeader: Uint8Array, structure: string): CoseEcdsaAlgorithm {
  if (protectedHeader.length === 0) throw malformed(structure, 'the protected header is empty')
  const header = decodeStrictCbor(protectedHeader, `${structure} protected header`)
  if (!(header instanceof Map)) throw malformed(structure, 'the protected header is not a map')
  // Critical parameters must be understood (RFC 9052, §3.1), and this reader understands none.
  if (header.has(COSE_HEADER_CRIT)) {
    throw malformed(structure, 'the protected header lists critical parameters (crit)')
  }
  const value = header.get(COSE_HEADER_ALG)
  const algorithm = typeof value === 'number' ? COSE_ECDSA_ALGORITHMS.get(value) : undefined
  if (algorithm === undefined) {
    const names = [...COSE_ECDSA_ALGORITHMS.values()].map((a) => `${a.name} (${a.value})`)
    throw malformed(structure, `alg is ${String(value)}, not one of ${names.join(', ')}`, 'alg')
  }

  return algorithm
}

/**
 * Decodes a COSE_Sign1, tagged (18) or untagged, whose payload is attached and whose algorithm
 * is ES256, ES384 or ES512. The unprotected header must be a map and is otherwise ignored,
 * because nothing in it is signed. The payload is copied.
 *
 * @throws ParseError `ERR_PARSE_TRUNCATED`, `ERR_PARSE_MALFORMED` or `ERR_PARSE_OVERSIZED`
 */
export function parseCoseSign1Message(
  bytes: Uint8Array,
  structure: string,
  maxPayloadSize: number,
): CoseSign1Message {
  const decoded = decodeStrictCbor(bytes, structure, COSE_SIGN1_TAG)
  const tagged = decoded instanceof Tag
  const value: unknown = tagged ? decoded.value : decoded
  if (!Array.isArray(value) || value.length !== 4) {
    throw malformed(structure, 'not a COSE_Sign1 array of 4 items')
  }
  const [protectedValue, unprotected, payload, signature] = value as unknown[]
  if (!(protectedValue instanceof Uint8Array)) {
    throw malformed(structure, 'the protected header is not a byte string')
  }
  const protectedHeader = new Uint8Array(protectedValue)
  const algorithm = algorithmOf(protectedHeader, structure)
  if (!(unprotected instanceof Map)) {
    throw malformed(structure, 'the unprotected header is not a map')
  }
  if (!(payload instanceof Uint8Array)) {
    throw malformed(structure, 'the payload is not an attached byte string', 'payload')
  }
  if (payload.length > maxPayloadSize) {
    const message = `${structure}: the payload is ${payload.length} bytes, more than ${maxPayloadSize}`
    throw new ParseError('ERR_PARSE_OVERSIZED', message, { structure, field: 'payload' })
  }
  if (!(signature instanceof Uint8Array) || signature.length !== algorithm.signatureSize) {
    const size = signature instanceof Uint8Array ? `${signature.length} bytes` : 'not bytes'
    const message = `the ${algorithm.name} signature is ${size}, not ${algorithm.signatureSize} bytes`
    throw malformed(structure, message, 'signature')
  }

  // The Sig_structure ends with the payload, so the payload is kept as a view of that copy.
  const toBeSigned = sign1ToBeSigned(protectedHeader, payload)
  return {
    tagged,
    protectedHeader,
    algorithm,
    payload: toBeSigned.subarray(toBeSigned.length - payload.length),
    signature: new Uint8Array(signature),
    toBeSigned,
  }
}
