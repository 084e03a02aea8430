/**
 * A minimal DER walker that finds the exact byte ranges of elements, so signatures are checked
 * over the bytes as received and never over a re-encoding. Decoding of values is left to
 * @peculiar/asn1-schema.
 *
 * @module
 */
import { ParseError } from '../core/errors.js'

/** One DER element: its tag and where its header and contents lie in the input. */
export interface DerElement {
  readonly tag: number
  /** Offset of the tag byte. */
  readonly start: number
  /** Offset of the first content byte. */
  readonly contentStart: number
  /** Offset just past the last content byte. */
  readonly end: number
}

/**
 * Reads the element that starts at `offset`. Only single-byte tags and definite lengths of up to
 * four bytes are accepted, which covers every certificate and CRL in practice.
 *
 * @throws ParseError `ERR_PARSE_TRUNCATED` or `ERR_PARSE_MALFORMED`
 */
export function readElement(bytes: Uint8Array, offset: number, structure: string): DerElement {
  const fail = (code: 'ERR_PARSE_TRUNCATED' | 'ERR_PARSE_MALFORMED', message: string) =>
    new ParseError(code, message, { structure, offset })

  if (offset + 2 > bytes.length) throw fail('ERR_PARSE_TRUNCATED', `${structure} is truncated`)
  const tag = bytes[offset]!
  if ((tag & 0x1f) === 0x1f)
    throw fail('ERR_PARSE_MALFORMED', 'multi-byte DER tags are not supported')
  const first = bytes[offset + 1]!
  let length = first
  let contentStart = offset + 2
  if (first & 0x80) {
    const count = first & 0x7f
    if (count === 0 || count > 4) {
      throw fail('ERR_PARSE_MALFORMED', `${structure} has an invalid DER length encoding`)
    }
    if (contentStart + count > bytes.length) {
      throw fail('ERR_PARSE_TRUNCATED', `${structure} is truncated`)
    }
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contentStart + i]!
    contentStart += count
  }
  const end = contentStart + length
  if (end > bytes.length) throw fail('ERR_PARSE_TRUNCATED', `${structure} is truncated`)
  return { tag, start: offset, contentStart, end }
}

/** Lists the elements inside a constructed element, in order. */
export function readChildren(
  bytes: Uint8Array,
  parent: DerElement,
  structure: string,
): DerElement[] {
  const children: DerElement[] = []
  let offset = parent.contentStart
  while (offset < parent.end) {
    const child = readElement(bytes.subarray(0, parent.end), offset, structure)
    children.push(child)
    offset = child.end
  }
  return children
}

/** Copies the whole encoding (header and contents) of an element. */
export function elementBytes(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.slice(element.start, element.end)
}

export const DER_SEQUENCE = 0x30
export const DER_BIT_STRING = 0x03
export const DER_CONTEXT_0 = 0xa0
