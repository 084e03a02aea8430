/**
 * A big-endian reader for TPM structures, on top of the bounds-checked ByteReader: the TPM
 * marshals every integer big-endian and every sized buffer (TPM2B_*) as a u16 size and bytes.
 *
 * @see TCG, TPM 2.0 Library, Part 2: Structures, §10.4 (TPM2B)
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import type { ParseError } from '../../core/errors.js'

/** Reads big-endian integers and TPM2B buffers; every read is bounds-checked. */
export class TpmReader {
  readonly #reader: ByteReader

  constructor(bytes: Uint8Array, structure: string, base = 0) {
    this.#reader = new ByteReader(bytes, structure, base)
  }

  get offset(): number {
    return this.#reader.offset
  }

  get remaining(): number {
    return this.#reader.remaining
  }

  u8(field: string): number {
    return this.#reader.u8(field)
  }

  u16(field: string): number {
    const bytes = this.#reader.bytes(2, field)
    return (bytes[0]! << 8) | bytes[1]!
  }

  u32(field: string): number {
    const bytes = this.#reader.bytes(4, field)
    return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
  }

  u64(field: string): bigint {
    const high = BigInt(this.u32(field))
    const low = BigInt(this.u32(field))
    return (high << 32n) | low
  }

  /** Reads `length` bytes as a copy. */
  bytes(length: number, field: string): Uint8Array {
    return this.#reader.bytes(length, field)
  }

  /**
   * Reads a TPM2B: a u16 size, at most `max`, and that many bytes.
   *
   * @throws ParseError `ERR_PARSE_OVERSIZED` when the size exceeds `max`
   */
  sized(field: string, max: number): Uint8Array {
    const size = this.u16(`${field}.size`)
    if (size > max) {
      throw this.error('ERR_PARSE_OVERSIZED', `${field} is ${size} bytes, more than ${max}`, field)
    }
    return this.bytes(size, field)
  }

  /** Creates a ParseError located at the next read. */
  error(code: ParseError['code'], message: string, field?: string): ParseError {
    return this.#reader.error(code, message, field)
  }
}
