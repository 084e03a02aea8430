/**
 * Decoding of untrusted JSON text that must be an object. Pure: no I/O.
 *
 * @module
 */
import { ParseError } from './errors.js'

/** A JSON object, as read from untrusted input. */
export type JsonObject = { readonly [key: string]: unknown }

/** Tells whether a JSON value is an object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Decodes strict UTF-8 JSON text that must be an object. `structure` names it in messages.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for invalid UTF-8, invalid JSON or another JSON value.
 */
export function decodeJsonObject(bytes: Uint8Array, structure: string): JsonObject {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      `${structure} is not UTF-8 JSON: ${reason}`,
      { structure },
      { cause: error },
    )
  }
  if (!isJsonObject(value))
    throw new ParseError('ERR_PARSE_MALFORMED', `${structure} is not a JSON object`, { structure })

  return value
}
