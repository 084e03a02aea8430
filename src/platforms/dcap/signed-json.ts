/**
 * Intel's signed JSON collateral (`{"tcbInfo":{...},"signature":"..."}` and
 * `{"enclaveIdentity":{...},"signature":"..."}`). The signature covers the exact bytes of the
 * inner object as received, so those bytes are cut from the input, never re-serialized.
 *
 * @module
 */
import { fromHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'

/** The signed part of a collateral document, its decoded value and its signature. */
export interface SignedJson {
  /** Exact bytes of the signed inner object. */
  readonly body: Uint8Array
  readonly value: unknown
  /** ECDSA P-256 signature, raw r‖s. */
  readonly signature: Uint8Array
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

/** Returns the offset just past the string that starts at `start`. */
function skipString(bytes: Uint8Array, start: number): number {
  let i = start + 1
  while (i < bytes.length && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1
  return i + 1
}

/** Returns the offset just past the JSON value that starts at `start`. */
function skipValue(bytes: Uint8Array, start: number): number {
  const first = bytes[start]
  if (first === QUOTE) return skipString(bytes, start)
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0
    let i = start
    while (i < bytes.length) {
      const byte = bytes[i]
      if (byte === QUOTE) {
        i = skipString(bytes, i)
        continue
      }
      if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++
      if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) depth--
      i++
      if (depth === 0) return i
    }
    return i
  }
  let i = start
  while (
    i < bytes.length &&
    bytes[i] !== COMMA &&
    bytes[i] !== CLOSE_OBJECT &&
    bytes[i] !== CLOSE_ARRAY &&
    !isSpace(bytes[i])
  )
    i++
  return i
}

/** The top-level members of a JSON object: the byte range of each value, by name. */
type MemberRanges = Map<string, [number, number]>

/**
 * Finds the byte range of every top-level member's value. Returns a string naming the problem when
 * the text is not one object, or when a name appears twice: JSON.parse would keep the last of two
 * members while the signature may cover the first, so duplicates are never accepted.
 */
function memberRanges(bytes: Uint8Array): MemberRanges | string {
  const decoder = new TextDecoder()
  const members: MemberRanges = new Map()
  let i = 0
  const skipSpace = () => {
    while (isSpace(bytes[i])) i++
  }
  skipSpace()
  if (bytes[i] !== OPEN_OBJECT) return 'not a JSON object'
  i++
  skipSpace()
  if (bytes[i] === CLOSE_OBJECT) return members
  while (i < bytes.length) {
    skipSpace()
    if (bytes[i] !== QUOTE) return 'a member name is not a string'
    const nameEnd = skipValue(bytes, i)
    const name = JSON.parse(decoder.decode(bytes.subarray(i, nameEnd))) as string
    if (members.has(name)) return `member "${name}" appears twice`
    i = nameEnd
    skipSpace()
    if (bytes[i] !== COLON) return `member "${name}" has no value`
    i++
    skipSpace()
    const valueStart = i
    i = skipValue(bytes, i)
    members.set(name, [valueStart, i])
    skipSpace()
    if (bytes[i] === CLOSE_OBJECT) return members
    if (bytes[i] !== COMMA) return `member "${name}" is not followed by a comma`
    i++
  }
  return 'the object is not closed'
}

/**
 * Splits a signed collateral document into its signed body, decoded value and signature.
 *
 * @throws ParseError `ERR_PARSE_COLLATERAL` when the document is not JSON of that shape.
 */
export function parseSignedJson(bytes: Uint8Array, bodyKey: string, structure: string): SignedJson {
  const fail = (message: string, cause?: unknown) =>
    new ParseError('ERR_PARSE_COLLATERAL', `${structure}: ${message}`, { structure }, { cause })
  let document: unknown
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw fail('not valid JSON', error)
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw fail('not a JSON object')
  const record = document as Record<string, unknown>
  if (typeof record[bodyKey] !== 'object' || record[bodyKey] === null)
    throw fail(`has no "${bodyKey}" object`)
  if (typeof record.signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(record.signature)) {
    throw fail('"signature" is not 64 bytes of hex')
  }
  const members = memberRanges(bytes)
  if (typeof members === 'string') throw fail(members)
  const range = members.get(bodyKey)
  if (range === undefined) throw fail(`could not locate the bytes of "${bodyKey}"`)
  const body = bytes.slice(range[0], range[1])
  // The value is decoded from the signed bytes themselves, so what is judged is what was signed.
  return {
    body,
    value: JSON.parse(new TextDecoder().decode(body)),
    signature: fromHex(record.signature),
  }
}
