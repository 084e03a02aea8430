/**
 * Evidence of confide's simulated TEE: a JSON envelope around a JSON body shaped like the claims
 * of a TDX quote, signed with Ed25519. Pure: no crypto, no I/O.
 *
 * ```
 * {"format":"confide-sim/1","body":"<base64url of the body bytes>","signature":"<base64url>"}
 * ```
 *
 * The signature covers the exact body bytes, so the body is kept as it was received.
 *
 * @module
 */
import { fromHex, toHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import { decodeJsonObject } from '../../core/json.js'

/** Value of the envelope's `format` member. */
export const SIM_FORMAT = 'confide-sim/1'
/** Largest evidence accepted. A body is about 1 KiB. */
export const MAX_SIM_EVIDENCE_SIZE = 16 * 1024
/** Size of MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG and each RTMR, as in a TDX quote. */
export const SIM_MEASUREMENT_SIZE = 48
export const SIM_RTMR_COUNT = 4
export const SIM_REPORT_DATA_SIZE = 64
/** Size of TDATTRIBUTES and XFAM. */
export const SIM_ATTRIBUTES_SIZE = 8
export const SIM_SIGNATURE_SIZE = 64
/** Size of `keyId`: a SHA-256 digest. */
export const SIM_KEY_ID_SIZE = 32
/** Bit 0 of TDATTRIBUTES byte 0, DEBUG in a TDX TD's attributes. */
export const SIM_DEBUG_ATTRIBUTE = 0x01

/** The signed body, with bytes decoded from hex. */
export interface SimBody {
  /** When the evidence was made, as ISO-8601 text. */
  readonly issuedAt: string
  /** Lower-case hex SHA-256 of the signer's DER SubjectPublicKeyInfo. */
  readonly keyId: string
  readonly mrTd: Uint8Array
  readonly mrConfigId: Uint8Array
  readonly mrOwner: Uint8Array
  readonly mrOwnerConfig: Uint8Array
  readonly rtmr: readonly Uint8Array[]
  readonly reportData: Uint8Array
  readonly tdAttributes: Uint8Array
  readonly xfam: Uint8Array
  readonly debug: boolean
}

/** Decoded simulated evidence. */
export interface SimEvidence {
  readonly body: SimBody
  /** The body exactly as signed. */
  readonly bodyBytes: Uint8Array
  readonly signature: Uint8Array
}

const ENVELOPE = 'SimEvidence'
const BODY = 'SimBody'
const ENVELOPE_KEYS = ['format', 'body', 'signature'] as const
const BODY_KEYS = [
  'issuedAt',
  'keyId',
  'mrTd',
  'mrConfigId',
  'mrOwner',
  'mrOwnerConfig',
  'rtmr',
  'reportData',
  'tdAttributes',
  'xfam',
  'debug',
] as const
const BASE64URL = /^[A-Za-z0-9_-]*$/
const LOWER_HEX = /^(?:[0-9a-f]{2})*$/
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/
const FORMAT_MEMBER = /"format"\s*:\s*"confide-sim\/1"/

function malformed(structure: string, message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `${structure}: ${message}`, {
    structure,
    ...(field === undefined ? {} : { field }),
  })
}

/** Decodes UTF-8 JSON text that must be an object with exactly the given members. */
function parseObject(
  bytes: Uint8Array,
  structure: string,
  keys: readonly string[],
): Record<string, unknown> {
  const record = decodeJsonObject(bytes, structure) as Record<string, unknown>
  const present = Object.keys(record)
  const missing = keys.find((key) => !present.includes(key))
  if (missing !== undefined) {
    throw new ParseError('ERR_PARSE_TRUNCATED', `${structure}: member "${missing}" is missing`, {
      structure,
      field: missing,
    })
  }
  const extra = present.find((key) => !keys.includes(key))
  if (extra !== undefined) throw malformed(structure, `member "${extra}" is not allowed`, extra)

  return record
}

/** Decodes base64url without padding, the only form the envelope uses. */
function base64url(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) {
    throw malformed(ENVELOPE, 'is not base64url without padding', field)
  }
  const standard = value.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(standard + '='.repeat((4 - (value.length % 4)) % 4))
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  // A canonical encoding has zero bits after the last byte, so it is the only text for the bytes.
  if (encodeBase64url(out) !== value) throw malformed(ENVELOPE, 'is not canonical base64url', field)

  return out
}

/** Encodes bytes as base64url without padding. */
export function encodeBase64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function hexField(value: unknown, field: string, size: number): Uint8Array {
  if (typeof value !== 'string' || !LOWER_HEX.test(value) || value.length !== size * 2) {
    throw malformed(BODY, `${field} is not ${size} bytes of lower-case hex`, field)
  }

  return fromHex(value)
}

function parseIssuedAt(value: unknown): string {
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw malformed(BODY, 'issuedAt is not an ISO-8601 UTC time', 'issuedAt')
  }

  return value
}

/**
 * Decodes the body bytes.
 *
 * @throws ParseError `ERR_PARSE_TRUNCATED` for a missing member. `ERR_PARSE_MALFORMED` for a
 *   member of the wrong shape or size, or a `debug` flag that disagrees with the DEBUG bit of
 *   `tdAttributes`.
 */
export function parseSimBody(bytes: Uint8Array): SimBody {
  const record = parseObject(bytes, BODY, BODY_KEYS)
  const rtmr = record.rtmr
  if (!Array.isArray(rtmr) || rtmr.length !== SIM_RTMR_COUNT) {
    throw malformed(BODY, `rtmr is not an array of ${SIM_RTMR_COUNT} registers`, 'rtmr')
  }
  if (typeof record.debug !== 'boolean') throw malformed(BODY, 'debug is not a boolean', 'debug')
  const body: SimBody = {
    issuedAt: parseIssuedAt(record.issuedAt),
    keyId: toHex(hexField(record.keyId, 'keyId', SIM_KEY_ID_SIZE)),
    mrTd: hexField(record.mrTd, 'mrTd', SIM_MEASUREMENT_SIZE),
    mrConfigId: hexField(record.mrConfigId, 'mrConfigId', SIM_MEASUREMENT_SIZE),
    mrOwner: hexField(record.mrOwner, 'mrOwner', SIM_MEASUREMENT_SIZE),
    mrOwnerConfig: hexField(record.mrOwnerConfig, 'mrOwnerConfig', SIM_MEASUREMENT_SIZE),
    rtmr: rtmr.map((value, i) => hexField(value, `rtmr[${i}]`, SIM_MEASUREMENT_SIZE)),
    reportData: hexField(record.reportData, 'reportData', SIM_REPORT_DATA_SIZE),
    tdAttributes: hexField(record.tdAttributes, 'tdAttributes', SIM_ATTRIBUTES_SIZE),
    xfam: hexField(record.xfam, 'xfam', SIM_ATTRIBUTES_SIZE),
    debug: record.debug,
  }
  const debugBit = ((body.tdAttributes[0] ?? 0) & SIM_DEBUG_ATTRIBUTE) !== 0
  if (debugBit !== body.debug) {
    throw malformed(BODY, 'debug disagrees with the DEBUG bit of tdAttributes', 'debug')
  }

  return body
}

/**
 * Decodes simulated evidence: the envelope, the signature bytes and the body.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for input over 16 KiB, `ERR_PARSE_UNSUPPORTED_VERSION`
 *   for another `format`, `ERR_PARSE_MALFORMED` or `ERR_PARSE_TRUNCATED` for a damaged envelope
 *   or body.
 */
export function parseSimEvidence(bytes: Uint8Array): SimEvidence {
  if (bytes.length > MAX_SIM_EVIDENCE_SIZE) {
    throw new ParseError(
      'ERR_PARSE_OVERSIZED',
      `${ENVELOPE} is ${bytes.length} bytes; at most ${MAX_SIM_EVIDENCE_SIZE} are allowed`,
      { structure: ENVELOPE },
    )
  }
  const envelope = parseObject(bytes, ENVELOPE, ENVELOPE_KEYS)
  if (envelope.format !== SIM_FORMAT) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_VERSION',
      `${ENVELOPE}: format is not "${SIM_FORMAT}"`,
      { structure: ENVELOPE, field: 'format' },
    )
  }
  const bodyBytes = base64url(envelope.body, 'body')
  const signature = base64url(envelope.signature, 'signature')
  if (signature.length !== SIM_SIGNATURE_SIZE) {
    throw malformed(ENVELOPE, `signature is not ${SIM_SIGNATURE_SIZE} bytes`, 'signature')
  }

  return { body: parseSimBody(bodyBytes), bodyBytes, signature }
}

/** Tells cheaply whether bytes are simulated evidence: a JSON object naming `confide-sim/1`. */
export function sniffSimEvidence(bytes: Uint8Array): boolean {
  if (bytes.length > MAX_SIM_EVIDENCE_SIZE) return false
  const first = bytes.find(
    (byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d,
  )
  if (first !== 0x7b) return false
  // Invalid UTF-8 decodes to U+FFFD here, and parse rejects it later with a ParseError.
  return FORMAT_MEMBER.test(new TextDecoder().decode(bytes))
}

/** The body as JSON members in the documented order, bytes as lower-case hex. */
export interface SimBodyJson {
  readonly issuedAt: string
  readonly keyId: string
  readonly mrTd: string
  readonly mrConfigId: string
  readonly mrOwner: string
  readonly mrOwnerConfig: string
  readonly rtmr: readonly string[]
  readonly reportData: string
  readonly tdAttributes: string
  readonly xfam: string
  readonly debug: boolean
}

/** Returns the body's JSON members in the documented order, bytes as lower-case hex. */
export function simBodyJson(body: SimBody): SimBodyJson {
  return {
    issuedAt: body.issuedAt,
    keyId: body.keyId,
    mrTd: toHex(body.mrTd),
    mrConfigId: toHex(body.mrConfigId),
    mrOwner: toHex(body.mrOwner),
    mrOwnerConfig: toHex(body.mrOwnerConfig),
    rtmr: body.rtmr.map(toHex),
    reportData: toHex(body.reportData),
    tdAttributes: toHex(body.tdAttributes),
    xfam: toHex(body.xfam),
    debug: body.debug,
  }
}

/** Encodes the body as the JSON text that is signed, members in the documented order. */
export function encodeSimBody(body: SimBody): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(simBodyJson(body)))
}

/** Encodes the envelope around signed body bytes. */
export function encodeSimEvidence(bodyBytes: Uint8Array, signature: Uint8Array): Uint8Array {
  const text = JSON.stringify({
    format: SIM_FORMAT,
    body: encodeBase64url(bodyBytes),
    signature: encodeBase64url(signature),
  })

  return new TextEncoder().encode(text)
}
