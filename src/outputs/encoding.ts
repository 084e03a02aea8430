/**
 * Strict JSON field readers shared by the sealed-input, document and bundle parsers.
 *
 * @module
 */
import { ParseError } from '../core/errors.js'
import { decodeJsonObject, isJsonObject, type JsonObject } from '../core/json.js'

export { isJsonObject, type JsonObject }

const BASE64URL = /^[A-Za-z0-9_-]*$/

export function malformed(structure: string, message: string, field?: string): ParseError {
  const location = field === undefined ? { structure } : { structure, field }

  return new ParseError('ERR_PARSE_MALFORMED', `${structure}: ${message}`, location)
}

/** Parses UTF-8 JSON text that must be an object. */
export function parseJsonObject(bytes: Uint8Array, structure: string): JsonObject {
  return decodeJsonObject(bytes, structure)
}

/** Rejects members other than `allowed`, so a field added by mistake is never ignored silently. */
export function onlyKeys(object: JsonObject, allowed: readonly string[], structure: string): void {
  const extra = Object.keys(object).filter((key) => !allowed.includes(key))
  if (extra.length > 0) throw malformed(structure, `unknown members ${extra.join(', ')}`)
}

export function stringField(object: JsonObject, field: string, structure: string): string {
  const value = object[field]
  if (typeof value !== 'string') throw malformed(structure, `${field} is not a string`, field)

  return value
}

/** Encodes bytes as base64url without padding. */
export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Reads a member that must be base64url without padding. */
export function base64urlField(object: JsonObject, field: string, structure: string): Uint8Array {
  const text = stringField(object, field, structure)
  if (!BASE64URL.test(text) || text.length % 4 === 1)
    throw malformed(structure, `${field} is not base64url without padding`, field)

  return new Uint8Array(Buffer.from(text, 'base64url'))
}
