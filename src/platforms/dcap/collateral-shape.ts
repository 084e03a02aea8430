/**
 * Typed reading of decoded JSON collateral: each accessor checks the type of one member and
 * names its path when it is wrong.
 *
 * @module
 */
import { fromHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'

/** Reads members of one JSON object, reporting errors with their path. */
export class JsonFields {
  readonly #value: Record<string, unknown>
  readonly #path: string
  readonly #structure: string

  constructor(value: unknown, path: string, structure: string) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ParseError('ERR_PARSE_COLLATERAL', `${structure}: ${path} is not an object`, {
        structure,
        field: path,
      })
    }
    this.#value = value as Record<string, unknown>
    this.#path = path
    this.#structure = structure
  }

  fail(key: string, expected: string): ParseError {
    const field = `${this.#path}.${key}`
    return new ParseError(
      'ERR_PARSE_COLLATERAL',
      `${this.#structure}: ${field} is missing or not ${expected}`,
      {
        structure: this.#structure,
        field,
      },
    )
  }

  has(key: string): boolean {
    return this.#value[key] !== undefined
  }

  string(key: string): string {
    const value = this.#value[key]
    if (typeof value !== 'string') throw this.fail(key, 'a string')
    return value
  }

  integer(key: string): number {
    const value = this.#value[key]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      throw this.fail(key, 'a non-negative integer')
    return value
  }

  /** Reads hex of exactly `size` bytes, in either case. */
  hex(key: string, size: number): Uint8Array {
    const value = this.#value[key]
    if (typeof value !== 'string' || value.length !== size * 2 || !/^[0-9a-fA-F]*$/.test(value)) {
      throw this.fail(key, `${size} bytes of hex`)
    }
    return fromHex(value)
  }

  date(key: string): Date {
    const value = this.string(key)
    const date = new Date(value)
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime()))
      throw this.fail(key, 'an ISO-8601 time')
    return date
  }

  object(key: string): JsonFields {
    if (!this.has(key)) throw this.fail(key, 'an object')
    return new JsonFields(this.#value[key], `${this.#path}.${key}`, this.#structure)
  }

  objects(key: string): JsonFields[] {
    const value = this.#value[key]
    if (!Array.isArray(value)) throw this.fail(key, 'an array')
    return value.map(
      (item, index) => new JsonFields(item, `${this.#path}.${key}[${index}]`, this.#structure),
    )
  }

  strings(key: string): string[] {
    const value = this.#value[key]
    if (value === undefined) return []
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
      throw this.fail(key, 'an array of strings')
    return value as string[]
  }
}
