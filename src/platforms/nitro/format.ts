/**
 * The AWS Nitro Enclaves attestation document: a COSE_Sign1 structure (RFC 9052) signed with
 * ES384, whose payload is a CBOR map in the shape AWS specifies. Pure: no crypto, no I/O.
 *
 * @see AWS, aws-nitro-enclaves-nsm-api, docs/attestation_process.md, §2.2 (document CDDL) and
 *   §3.2 (syntactic validation)
 * @see RFC 9052, §4.2 (COSE_Sign1) and §4.4 (Sig_structure)
 * @module
 */
import { Tag } from 'cbor-x'
import { ParseError } from '../../core/errors.js'
import { decodeStrictCbor } from '../cose/cbor.js'
import { sign1ToBeSigned } from '../cose/sign1.js'

/** CBOR tag of a tagged COSE_Sign1 structure. */
export const COSE_SIGN1_TAG = 18
/** COSE header label of the algorithm. */
export const COSE_HEADER_ALG = 1
/** COSE algorithm ES384: ECDSA with SHA-384 on P-384. */
export const COSE_ALG_ES384 = -35
/** An ES384 signature is r‖s, 48 bytes each. */
export const ES384_SIGNATURE_SIZE = 96
/** Largest payload AWS specifies for the COSE_Sign1 of a document. */
export const MAX_PAYLOAD_SIZE = 16384
/** Largest DER certificate AWS specifies (`cert = bytes .size (1..1024)`). */
export const MAX_CERTIFICATE_SIZE = 1024
/**
 * Largest `public_key`, `user_data` and `nonce` (`user_data = bytes .size (0..1024)` in the CDDL).
 * AWS's prose lists 512 for `user_data` and `nonce`, but real documents carry 1024 bytes.
 */
export const MAX_USER_DATA_SIZE = 1024
/** Sizes a PCR value may have. */
export const PCR_SIZES: readonly number[] = [32, 48, 64]
/** PCR indexes run from 0 to 31, and a document has 1 to 32 of them. */
export const MAX_PCR_INDEX = 31
export const MAX_PCR_COUNT = 32
/** The only digest AWS specifies for PCR values. */
export const NITRO_DIGEST = 'SHA384'
/** Largest time value a JavaScript Date can hold, in milliseconds since the epoch. */
const MAX_DATE_MS = 8.64e15

const STRUCTURE = 'AttestationDocument'
const COSE_STRUCTURE = 'COSE_Sign1'

/** The payload of a Nitro attestation document, by its AWS field names in camelCase. */
export interface AttestationDocument {
  /** `module_id`: the issuing Nitro hypervisor module. */
  readonly moduleId: string
  /** `digest`: the digest of the PCR values, always `SHA384`. */
  readonly digest: string
  /** `timestamp`: when the document was created, in milliseconds since the Unix epoch (UTC). */
  readonly timestamp: number
  /** `pcrs`: the locked PCRs by index, in increasing index order. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>
  /** `certificate`: DER of the certificate whose key signed the document. */
  readonly certificate: Uint8Array
  /** `cabundle`: DER of the issuing CA certificates, root first. */
  readonly cabundle: readonly Uint8Array[]
  /** `public_key`: a key the enclave offered. Undefined when absent or null. */
  readonly publicKey: Uint8Array | undefined
  /** `user_data`: data the enclave bound into the document. Undefined when absent or null. */
  readonly userData: Uint8Array | undefined
  /** `nonce`: the challenge the enclave received. Undefined when absent or null. */
  readonly nonce: Uint8Array | undefined
}

/** A decoded COSE_Sign1 structure with the bytes its signature covers. */
export interface CoseSign1 {
  /** Whether the structure was wrapped in CBOR tag 18. */
  readonly tagged: boolean
  /** The protected header as received (a serialized map). */
  readonly protectedHeader: Uint8Array
  readonly payload: Uint8Array
  /** The ES384 signature, r‖s. */
  readonly signature: Uint8Array
  /** The Sig_structure `["Signature1", protected, h'', payload]`, which the signature covers. */
  readonly toBeSigned: Uint8Array
}

/** Fields of the COSE_Sign1 envelope. Every other field name belongs to the payload. */
const COSE_FIELDS = new Set(['payload', 'signature'])

/** Locates a field in the envelope when it is undefined or an envelope field, else the payload. */
function locate(field: string | undefined): { structure: string; field?: string } {
  if (field === undefined) return { structure: COSE_STRUCTURE }
  return { structure: COSE_FIELDS.has(field) ? COSE_STRUCTURE : STRUCTURE, field }
}

/** Creates a parse error whose message starts with the structure the field belongs to. */
function parseError(
  code: 'ERR_PARSE_MALFORMED' | 'ERR_PARSE_OVERSIZED',
  message: string,
  field: string | undefined,
): ParseError {
  const location = locate(field)
  const prefix = location.structure === STRUCTURE ? 'attestation document' : COSE_STRUCTURE
  return new ParseError(code, `${prefix}: ${message}`, location)
}

/** Creates a parse error about the COSE_Sign1 envelope, or about a field of the payload. */
function malformed(message: string, field?: string): ParseError {
  return parseError('ERR_PARSE_MALFORMED', message, field)
}

/** Creates a parse error about the payload as a whole. */
function documentMalformed(message: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `attestation document: ${message}`, {
    structure: STRUCTURE,
  })
}

/**
 * Checks a byte string of decoded CBOR and returns it as decoded, a view of the input.
 * `field` names a payload field, or `payload` and `signature` for the envelope.
 */
function checkedBytes(value: unknown, field: string, min: number, max: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw malformed(`${field} is not a byte string`, field)
  if (value.length > max) {
    const message = `${field} is ${value.length} bytes, more than ${max}`
    throw parseError('ERR_PARSE_OVERSIZED', message, field)
  }
  if (value.length < min) {
    throw malformed(`${field} is ${value.length} bytes, fewer than ${min}`, field)
  }

  return value
}

/** Checks a byte string of decoded CBOR and copies it, so the caller owns the result. */
function bytesField(value: unknown, field: string, min: number, max: number): Uint8Array {
  return new Uint8Array(checkedBytes(value, field, min, max))
}

/** Checks that the protected header is exactly `{1: -35}`: alg ES384 and nothing else. */
function checkProtectedHeader(protectedHeader: Uint8Array): void {
  const header = decodeStrictCbor(protectedHeader, 'COSE_Sign1 protected header')
  if (!(header instanceof Map)) throw malformed('protected header is not a map')
  const alg = header.get(COSE_HEADER_ALG)
  if (alg !== COSE_ALG_ES384) {
    throw malformed(`protected header alg is ${String(alg)}, not ES384 (${COSE_ALG_ES384})`)
  }
  if (header.size !== 1) throw malformed('protected header has parameters other than alg')
}

/**
 * Decodes a COSE_Sign1 structure, tagged (18) or untagged, and checks its envelope: the
 * protected header must be `{1: -35}`, the unprotected header empty, the payload 1 to 16384 bytes
 * and the signature 96 bytes. The payload is not decoded here (see parseAttestationDocument).
 *
 * @throws ParseError `ERR_PARSE_TRUNCATED`, `ERR_PARSE_MALFORMED` or `ERR_PARSE_OVERSIZED`
 */
export function parseCoseSign1(bytes: Uint8Array): CoseSign1 {
  const decoded = decodeStrictCbor(bytes, COSE_STRUCTURE, COSE_SIGN1_TAG)
  const tagged = decoded instanceof Tag
  const structure: unknown = tagged ? decoded.value : decoded
  if (!Array.isArray(structure) || structure.length !== 4) {
    throw malformed('not an array of 4 items')
  }
  const [protectedValue, unprotected, payloadValue, signatureValue] = structure as unknown[]
  if (!(protectedValue instanceof Uint8Array)) throw malformed('protected header is not bytes')
  const protectedHeader = new Uint8Array(protectedValue)
  checkProtectedHeader(protectedHeader)
  if (!(unprotected instanceof Map) || unprotected.size !== 0) {
    throw malformed('unprotected header is not an empty map')
  }
  const payloadView = checkedBytes(payloadValue, 'payload', 1, MAX_PAYLOAD_SIZE)
  const signature = bytesField(signatureValue, 'signature', 0, ES384_SIGNATURE_SIZE)
  if (signature.length !== ES384_SIGNATURE_SIZE) {
    const message = `signature is ${signature.length} bytes, not ${ES384_SIGNATURE_SIZE}`
    throw malformed(message, 'signature')
  }

  // The Sig_structure ends with the payload, so the payload is kept as a view of that copy.
  const toBeSigned = sign1ToBeSigned(protectedHeader, payloadView)

  return {
    tagged,
    protectedHeader,
    payload: toBeSigned.subarray(toBeSigned.length - payloadView.length),
    signature,
    toBeSigned,
  }
}

const REQUIRED_FIELDS = ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle']
const OPTIONAL_FIELDS = ['public_key', 'user_data', 'nonce']
const KNOWN_FIELDS = new Set([...REQUIRED_FIELDS, ...OPTIONAL_FIELDS])

function textField(value: unknown, field: string): string {
  if (typeof value !== 'string') throw malformed(`${field} is not a text string`, field)
  if (value.length === 0) throw malformed(`${field} is empty`, field)

  return value
}

function timestampField(value: unknown): number {
  const ms = typeof value === 'bigint' && value <= BigInt(MAX_DATE_MS) ? Number(value) : value
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_DATE_MS) {
    throw malformed('timestamp is not a positive integer of milliseconds', 'timestamp')
  }

  return ms
}

function pcrsField(value: unknown): Map<number, Uint8Array> {
  if (!(value instanceof Map)) throw malformed('pcrs is not a map', 'pcrs')
  if (value.size < 1 || value.size > MAX_PCR_COUNT) {
    throw malformed(`pcrs has ${value.size} entries, not 1 to ${MAX_PCR_COUNT}`, 'pcrs')
  }
  const entries: [number, Uint8Array][] = []
  for (const [index, pcr] of value) {
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index > MAX_PCR_INDEX
    ) {
      throw malformed(`pcrs has the key ${String(index)}, not an index from 0 to 31`, 'pcrs')
    }
    const bytes = bytesField(pcr, `pcrs[${index}]`, 0, 64)
    if (!PCR_SIZES.includes(bytes.length)) {
      throw malformed(`pcrs[${index}] is ${bytes.length} bytes, not 32, 48 or 64`, 'pcrs')
    }
    entries.push([index, bytes])
  }

  return new Map(entries.sort((a, b) => a[0] - b[0]))
}

function cabundleField(value: unknown): Uint8Array[] {
  if (!Array.isArray(value)) throw malformed('cabundle is not an array', 'cabundle')
  return value.map((entry, i) => bytesField(entry, `cabundle[${i}]`, 1, MAX_CERTIFICATE_SIZE))
}

function optionalBytes(value: unknown, field: string): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined
  return bytesField(value, field, 0, MAX_USER_DATA_SIZE)
}

/**
 * Decodes the payload of a COSE_Sign1 as an attestation document and checks its shape: exactly
 * the fields AWS specifies, of the types and sizes it specifies. `cabundle` may be empty (the
 * CDDL allows it), which leaves the certificate chain to fail at verification. The optional
 * fields may be absent or null, as AWS's own documents encode a field that was not requested.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED`, `ERR_PARSE_OVERSIZED` or `ERR_PARSE_TRUNCATED`
 */
export function parseAttestationDocument(payload: Uint8Array): AttestationDocument {
  const map = decodeStrictCbor(payload, STRUCTURE)
  if (!(map instanceof Map)) throw documentMalformed('the payload is not a map')
  for (const key of map.keys()) {
    if (typeof key !== 'string' || !KNOWN_FIELDS.has(key)) {
      throw documentMalformed(`unknown field ${JSON.stringify(String(key))}`)
    }
  }
  for (const field of REQUIRED_FIELDS) {
    if (!map.has(field)) throw malformed(`${field} is missing`, field)
  }
  const digest = textField(map.get('digest'), 'digest')
  if (digest !== NITRO_DIGEST) throw malformed(`digest is "${digest}", not SHA384`, 'digest')

  return {
    moduleId: textField(map.get('module_id'), 'module_id'),
    digest,
    timestamp: timestampField(map.get('timestamp')),
    pcrs: pcrsField(map.get('pcrs')),
    certificate: bytesField(map.get('certificate'), 'certificate', 1, MAX_CERTIFICATE_SIZE),
    cabundle: cabundleField(map.get('cabundle')),
    publicKey: optionalBytes(map.get('public_key'), 'public_key'),
    userData: optionalBytes(map.get('user_data'), 'user_data'),
    nonce: optionalBytes(map.get('nonce'), 'nonce'),
  }
}
