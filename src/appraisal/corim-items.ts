/**
 * Readers for the CBOR items of CoRIM and CoMID: maps, arrays, text, bytes and the tagged
 * identifiers (OIDs, UUIDs, tagged bytes, keys and certificates). Each throws a ParseError that
 * names the path of the item it rejects.
 *
 * @module
 */
import { Tag } from 'cbor-x'
import { toHex } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'

/** CBOR tags of the CoRIM and CoMID CDDL. */
export const CORIM_TAG = {
  COSE_SIGN1: 18,
  URI: 32,
  UUID: 37,
  OID: 111,
  CORIM: 501,
  COMID: 506,
  UEID: 550,
  SVN: 552,
  MIN_SVN: 553,
  PKIX_BASE64_KEY: 554,
  PKIX_BASE64_CERT: 555,
  PKIX_BASE64_CERT_PATH: 556,
  BYTES: 560,
} as const

/** A typed value that keeps which CBOR form it had: `uint`, `text`, `oid`, `uuid`, `bytes`, ... */
export interface TypedValue {
  readonly type: string
  /** Text form: decimal for integers, dotted for OIDs, canonical UUID text, hex for bytes. */
  readonly value: string
}

/** Returns the error for an item at path `where` that breaks the CoRIM structure. */
export function malformed(where: string, message: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `CoRIM ${where}: ${message}`, {
    structure: 'CoRIM',
    field: where,
  })
}

/** Returns the item as a map, or throws naming its path. */
export function asMap(value: unknown, where: string): Map<unknown, unknown> {
  if (value instanceof Map) return value
  throw malformed(where, 'is not a map')
}

/** Returns the item as an array, or throws naming its path. */
export function asArray(value: unknown, where: string): readonly unknown[] {
  if (Array.isArray(value)) return value
  throw malformed(where, 'is not an array')
}

/** Returns the item as a text string, or throws naming its path. */
export function asText(value: unknown, where: string): string {
  if (typeof value === 'string') return value
  throw malformed(where, 'is not a text string')
}

/** Returns a copy of the item as bytes, or throws naming its path. */
export function asBytes(value: unknown, where: string): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value)
  throw malformed(where, 'is not a byte string')
}

/** Returns the item as an unsigned integer, or throws naming its path. */
export function asUnsigned(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value
  throw malformed(where, 'is not an unsigned integer')
}

/** Formats 16 bytes as a UUID (RFC 9562 text form). */
export function uuidText(bytes: Uint8Array, where: string): string {
  if (bytes.length !== 16) throw malformed(where, `a UUID has 16 bytes, not ${bytes.length}`)
  const hex = toHex(bytes)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Decodes a BER-encoded OID (the content octets of tag 111) into dotted form. */
export function oidText(bytes: Uint8Array, where: string): string {
  const arcs: number[] = []
  let value = 0
  for (const [i, byte] of bytes.entries()) {
    value = value * 128 + (byte & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER) throw malformed(where, 'an OID arc is too large')
    if ((byte & 0x80) !== 0) {
      if (i === bytes.length - 1) throw malformed(where, 'an OID ends inside an arc')
      continue
    }
    arcs.push(value)
    value = 0
  }
  const first = arcs.shift()
  if (first === undefined) throw malformed(where, 'an OID is empty')
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80]

  return [...head, ...arcs].join('.')
}

/** Reads a tagged or plain identifier into its typed text form. */
export function typedValue(value: unknown, where: string): TypedValue {
  if (typeof value === 'number' && Number.isInteger(value))
    return { type: 'uint', value: String(value) }
  if (typeof value === 'bigint') return { type: 'uint', value: value.toString() }
  if (typeof value === 'string') return { type: 'text', value }
  if (value instanceof Uint8Array) return { type: 'bytes', value: toHex(value) }
  if (!(value instanceof Tag)) throw malformed(where, 'is not an identifier')
  const inner = value.value
  switch (value.tag) {
    case CORIM_TAG.OID:
      return { type: 'oid', value: oidText(asBytes(inner, where), where) }
    case CORIM_TAG.UUID:
      return { type: 'uuid', value: uuidText(asBytes(inner, where), where) }
    case CORIM_TAG.BYTES:
      return { type: 'bytes', value: toHex(asBytes(inner, where)) }
    case CORIM_TAG.UEID:
      return { type: 'ueid', value: toHex(asBytes(inner, where)) }
    case CORIM_TAG.URI:
      return { type: 'uri', value: asText(inner, where) }
    case CORIM_TAG.PKIX_BASE64_KEY:
      return { type: 'pkix-base64-key', value: asText(inner, where) }
    case CORIM_TAG.PKIX_BASE64_CERT:
      return { type: 'pkix-base64-cert', value: asText(inner, where) }
    case CORIM_TAG.PKIX_BASE64_CERT_PATH:
      return { type: 'pkix-base64-cert-path', value: asText(inner, where) }
    default:
      return {
        type: `tag-${value.tag}`,
        value: inner instanceof Uint8Array ? toHex(inner) : String(inner),
      }
  }
}
