/**
 * Strict CBOR decoding for attestation evidence (Nitro documents, Arm CCA tokens, COSE_Sign1).
 * A bounds-checked scan first rejects everything outside the subset that these formats use, and
 * only then does cbor-x decode the bytes. So cbor-x never runs its tag extensions (dates, typed arrays, records, shared
 * references) on untrusted input, and never receives a duplicate map key.
 *
 * The accepted subset (RFC 8949): definite lengths only, every argument in its shortest form
 * (§4.2.1 preferred serialization), integers, byte strings, UTF-8 text strings, arrays, maps
 * whose keys are integers or text strings and are unique, `false`, `true` and `null`. Tags,
 * floats, `undefined` and other simple values are rejected, except the tags the caller names
 * around the top-level item.
 *
 * @module
 */
import { Decoder } from 'cbor-x'
import { ByteReader } from '../../core/byte-reader.js'
import { ParseError } from '../../core/errors.js'

/**
 * Deepest nesting accepted. A Nitro document needs 3 (payload map → pcrs map → value), and a CCA
 * platform token 3 (claims map → software components array → component map).
 */
const MAX_DEPTH = 8

const MAJOR_UNSIGNED = 0
const MAJOR_NEGATIVE = 1
const MAJOR_BYTES = 2
const MAJOR_TEXT = 3
const MAJOR_ARRAY = 4
const MAJOR_MAP = 5
const MAJOR_TAG = 6
const MAJOR_SIMPLE = 7

const SIMPLE_FALSE = 20
const SIMPLE_TRUE = 21
const SIMPLE_NULL = 22

const INFO_ONE_BYTE = 24
const INFO_TWO_BYTES = 25
const INFO_FOUR_BYTES = 26
const INFO_EIGHT_BYTES = 27
const INFO_INDEFINITE = 31

/** Bytes of the argument that follow an initial byte, by its additional information. */
const ARGUMENT_SIZES: Readonly<Record<number, number>> = {
  [INFO_ONE_BYTE]: 1,
  [INFO_TWO_BYTES]: 2,
  [INFO_FOUR_BYTES]: 4,
  [INFO_EIGHT_BYTES]: 8,
}

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false })
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Walks one CBOR item tree without building values, rejecting anything outside the subset. */
class StrictScanner {
  readonly #bytes: Uint8Array
  readonly #reader: ByteReader
  readonly #structure: string

  constructor(bytes: Uint8Array, structure: string) {
    this.#bytes = bytes
    this.#reader = new ByteReader(bytes, structure)
    this.#structure = structure
  }

  /** Scans the whole input as one item, optionally wrapped in one of the tags `topTags`. */
  scanTop(topTags: readonly number[]): void {
    this.#item(0, topTags)
    if (this.#reader.remaining !== 0) {
      throw this.#malformed(`${this.#reader.remaining} bytes follow the CBOR item`)
    }
  }

  #item(depth: number, allowedTags: readonly number[] = []): void {
    if (depth > MAX_DEPTH) throw this.#malformed(`items are nested deeper than ${MAX_DEPTH}`)
    const initial = this.#reader.u8('initial byte')
    const major = initial >> 5
    const info = initial & 0x1f
    if (major === MAJOR_SIMPLE) {
      if (info === SIMPLE_FALSE || info === SIMPLE_TRUE || info === SIMPLE_NULL) return
      throw this.#malformed(`simple value or float (initial byte 0x${initial.toString(16)})`)
    }
    const argument = this.#argument(info)
    switch (major) {
      case MAJOR_UNSIGNED:
      case MAJOR_NEGATIVE:
        return
      case MAJOR_BYTES:
        this.#reader.skip(argument, 'byte string')
        return
      case MAJOR_TEXT:
        this.#text(argument)
        return
      case MAJOR_ARRAY:
        this.#array(argument, depth)
        return
      case MAJOR_MAP:
        this.#map(argument, depth)
        return
      case MAJOR_TAG:
        if (!allowedTags.includes(argument)) {
          throw this.#malformed(`tag ${argument} is not allowed here`)
        }
        this.#item(depth + 1)
        return
    }
  }

  /** Reads the argument of an initial byte, which must be definite and in its shortest form. */
  #argument(info: number): number {
    if (info < INFO_ONE_BYTE) return info
    const size = ARGUMENT_SIZES[info]
    if (size === undefined) {
      throw this.#malformed(
        info === INFO_INDEFINITE ? 'indefinite-length items are not allowed' : 'reserved value',
      )
    }
    let value = 0
    for (let i = 0; i < size; i++) value = value * 256 + this.#reader.u8('argument')
    const smallest = size === 1 ? INFO_ONE_BYTE : 2 ** (8 * (size / 2))
    if (value < smallest) throw this.#malformed('an argument is not in its shortest form')

    return value
  }

  #text(length: number): void {
    const bytes = this.#reader.bytes(length, 'text string')
    try {
      utf8.decode(bytes)
    } catch (error) {
      throw this.#malformed('a text string is not valid UTF-8', error)
    }
  }

  #array(count: number, depth: number): void {
    if (count > this.#reader.remaining) throw this.#truncated(`array of ${count} items`)
    for (let i = 0; i < count; i++) this.#item(depth + 1)
  }

  #map(count: number, depth: number): void {
    if (count * 2 > this.#reader.remaining) throw this.#truncated(`map of ${count} entries`)
    const keys = new Set<string>()
    for (let i = 0; i < count; i++) {
      const start = this.#reader.offset
      const major = (this.#bytes[start] ?? 0) >> 5
      if (major !== MAJOR_UNSIGNED && major !== MAJOR_NEGATIVE && major !== MAJOR_TEXT) {
        throw this.#malformed('a map key is neither an integer nor a text string')
      }
      this.#item(depth + 1)
      // Equal keys have equal encodings, because every encoding is in its shortest form.
      let key = ''
      for (let j = start; j < this.#reader.offset; j++) key += String.fromCharCode(this.#bytes[j]!)
      if (keys.has(key)) throw this.#malformed('a map has the same key twice')
      keys.add(key)
      this.#item(depth + 1)
    }
  }

  #malformed(message: string, cause?: unknown): ParseError {
    return new ParseError(
      'ERR_PARSE_MALFORMED',
      `${this.#structure}: ${message}`,
      { structure: this.#structure, offset: this.#reader.absoluteOffset },
      cause === undefined ? undefined : { cause },
    )
  }

  #truncated(what: string): ParseError {
    return this.#reader.error('ERR_PARSE_TRUNCATED', `${this.#structure} ends inside an ${what}`)
  }
}

/**
 * Decodes bytes that must hold exactly one CBOR item of the strict subset, optionally wrapped in
 * the tag `topTag` (or one of several). Byte strings come back as views of `bytes`, so callers
 * copy what they keep.
 *
 * @throws ParseError `ERR_PARSE_TRUNCATED` or `ERR_PARSE_MALFORMED`
 */
export function decodeStrictCbor(
  bytes: Uint8Array,
  structure: string,
  topTag?: number | readonly number[],
): unknown {
  let topTags: readonly number[] = []
  if (typeof topTag === 'number') topTags = [topTag]
  else if (topTag !== undefined) topTags = topTag
  new StrictScanner(bytes, structure).scanTop(topTags)
  try {
    return decoder.decode(bytes)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      `${structure} could not be decoded: ${reason}`,
      { structure },
      { cause: error },
    )
  }
}
