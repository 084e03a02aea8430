/**
 * A minimal DER walker that finds the exact byte ranges of elements, so signatures are checked
 * over the bytes as received and never over a re-encoding. Decoding of values is left to
 * @peculiar/asn1-schema.
 *
 * @module
 */
import { toHex } from '../core/bytes.js'
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

export const DER_INTEGER = 0x02
export const DER_OCTET_STRING = 0x04
export const DER_OID = 0x06
export const DER_ENUMERATED = 0x0a
export const DER_BOOLEAN = 0x01

/** Returns the content bytes of an element (a view, not a copy). */
export function contentOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.end)
}

/**
 * Decodes the contents of an OBJECT IDENTIFIER to dotted form.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for an empty or unterminated encoding.
 */
export function decodeOid(content: Uint8Array, structure: string): string {
  const arcs: number[] = []
  let value = 0
  for (let i = 0; i < content.length; i++) {
    const byte = content[i]!
    value = value * 128 + (byte & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER / 128) {
      throw new ParseError('ERR_PARSE_MALFORMED', 'object identifier arc is too large', {
        structure,
      })
    }
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80)
      else arcs.push(value)
      value = 0
    } else if (i === content.length - 1) {
      throw new ParseError('ERR_PARSE_MALFORMED', 'object identifier ends inside an arc', {
        structure,
      })
    }
  }
  if (arcs.length === 0)
    throw new ParseError('ERR_PARSE_MALFORMED', 'object identifier is empty', { structure })
  return arcs.join('.')
}

/**
 * Decodes the contents of a non-negative INTEGER or ENUMERATED that fits in a safe integer.
 * Non-canonical encodings (superfluous leading zero or 0xff bytes) are rejected, as DER requires.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED`
 */
export function decodeUnsignedInteger(content: Uint8Array, structure: string): number {
  const fail = (message: string) => new ParseError('ERR_PARSE_MALFORMED', message, { structure })
  if (content.length === 0) throw fail('integer has no content bytes')
  if (content.length > 1 && content[0] === 0 && (content[1]! & 0x80) === 0) {
    throw fail('integer is not minimally encoded')
  }
  if (content[0]! & 0x80) throw fail('integer is negative')
  if (content.length > 7) throw fail('integer is too large')
  let value = 0
  for (const byte of content) value = value * 256 + byte
  return value
}

/** Formats the content bytes of a serial number as canonical hex (no leading zero bytes). */
export function serialToHex(bytes: Uint8Array): string {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  return toHex(bytes.subarray(start))
}
