/**
 * One entry point for reference value files: JSON (`{ "referenceValues": [...] }`) or an
 * unsigned CoRIM, distinguished by their first byte.
 *
 * @module
 */
import { importCorim } from './corim-import.js'
import { parseReferenceValuesJson, type ReferenceValue } from './reference-values.js'

/** ASCII `{`, `[` and the whitespace JSON allows before them. */
const JSON_START = new Set([0x7b, 0x5b])
const JSON_SPACE = new Set([0x20, 0x09, 0x0a, 0x0d])

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (JSON_SPACE.has(byte)) continue
    return JSON_START.has(byte)
  }

  return false
}

/**
 * Reads reference values from a file's bytes: JSON when the first byte that is not whitespace is
 * `{` or `[`, otherwise a CoRIM. A JSON file may start with a UTF-8 byte order mark.
 *
 * @param source Names the file, recorded as the provenance of values without one.
 * @throws ParseError `ERR_PARSE_MALFORMED` for a document that is neither.
 */
export function readReferenceValues(bytes: Uint8Array, source: string): ReferenceValue[] {
  const text =
    bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes
  if (looksLikeJson(text)) return parseReferenceValuesJson(new TextDecoder().decode(text), source)

  return [...importCorim(bytes, source).referenceValues]
}
