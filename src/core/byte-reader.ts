/**
 * A bounds-checked cursor over bytes. Every read that would pass the end throws a ParseError that
 * names the structure, the field and the offset, so parsers never index arrays directly.
 *
 * @module
 */
import { ParseError } from './errors.js'

/** Reads little-endian integers and byte strings from a fixed range of a buffer. */
export class ByteReader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  readonly #structure: string
  readonly #base: number
  #offset = 0

  /**
   * @param bytes the range to read; reads never go outside it
   * @param structure name of the structure, used in error messages
   * @param base offset of `bytes` within the whole input, so errors report absolute offsets
   */
  constructor(bytes: Uint8Array, structure: string, base = 0) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#structure = structure
    this.#base = base
  }

  /** Offset of the next read, relative to the start of this reader's range. */
  get offset(): number {
    return this.#offset
  }

  /** Number of bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset
  }

  /** Absolute offset of the next read within the whole input. */
  get absoluteOffset(): number {
    return this.#base + this.#offset
  }

  u8(field: string): number {
    this.#need(1, field)
    const value = this.#view.getUint8(this.#offset)
    this.#offset += 1
    return value
  }

  u16le(field: string): number {
    this.#need(2, field)
    const value = this.#view.getUint16(this.#offset, true)
    this.#offset += 2
    return value
  }

  u32le(field: string): number {
    this.#need(4, field)
    const value = this.#view.getUint32(this.#offset, true)
    this.#offset += 4
    return value
  }

  u64le(field: string): bigint {
    this.#need(8, field)
    const value = this.#view.getBigUint64(this.#offset, true)
    this.#offset += 8
    return value
  }

  /** Reads `length` bytes as a copy, so later changes to the input cannot alter them. */
  bytes(length: number, field: string): Uint8Array {
    this.#need(length, field)
    const value = this.#bytes.slice(this.#offset, this.#offset + length)
    this.#offset += length
    return value
  }

  /** Returns a reader over the next `length` bytes and moves past them. */
  sub(length: number, field: string, structure = this.#structure): ByteReader {
    this.#need(length, field)
    const reader = new ByteReader(
      this.#bytes.subarray(this.#offset, this.#offset + length),
      structure,
      this.#base + this.#offset,
    )
    this.#offset += length
    return reader
  }

  /** Moves past `length` bytes. */
  skip(length: number, field: string): void {
    this.#need(length, field)
    this.#offset += length
  }

  /** Creates a ParseError located at the next read. */
  error(code: ParseError['code'], message: string, field?: string): ParseError {
    return new ParseError(code, message, {
      structure: this.#structure,
      offset: this.absoluteOffset,
      ...(field === undefined ? {} : { field }),
    })
  }

  #need(length: number, field: string): void {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw this.error('ERR_PARSE_MALFORMED', `${field} has an invalid length ${length}`, field)
    }
    if (length > this.remaining) {
      throw this.error(
        'ERR_PARSE_TRUNCATED',
        `${this.#structure} ends before ${field}: needs ${length} bytes at offset ${this.absoluteOffset}, ${this.remaining} left`,
        field,
      )
    }
  }
}
