/**
 * Conversions between bytes and text. No node: imports, so this runs in browsers too.
 *
 * @module
 */
import { ConfigError, ParseError } from './errors.js'

const HEX_DIGITS = '0123456789abcdef'
const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/

/** The two hex digits of every byte value, so encoding appends one string per byte. */
const HEX_BYTES = Array.from(
  { length: 256 },
  (_, byte) => HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 0x0f]!,
)

/** Encodes bytes as lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += HEX_BYTES[byte]!
  return out
}

/**
 * Decodes hex text (either case, an optional `0x` prefix, no separators).
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the text is not an even number of hex digits.
 */
export function fromHex(text: string, what = 'hex value'): Uint8Array {
  const digits = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text
  if (!HEX_PATTERN.test(digits)) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `${what} is not hex: use pairs of digits 0-9 and a-f, with no spaces and an optional 0x`,
    )
  }
  const out = new Uint8Array(digits.length / 2)
  for (let i = 0; i < out.length; i++) {
    out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16)
  }
  return out
}

/** Tells whether two byte arrays hold the same bytes. Not constant-time: use for public data. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false
  }
  return true
}

/** Tells whether every byte is zero. */
export function isAllZero(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte !== 0) return false
  }
  return true
}

/** Joins byte arrays into one new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g

/** One block of PEM text: its label (`CERTIFICATE`, `X509 CRL`) and its DER bytes. */
export interface PemBlock {
  readonly label: string
  readonly der: Uint8Array
}

/**
 * Extracts every PEM block from text, in order. Text outside the blocks is ignored unless
 * `strict` is set: then only whitespace and trailing NUL bytes may surround the blocks.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` when a block's body is not base64, or in strict mode
 *   when other text surrounds the blocks.
 */
export function decodePem(text: string, strict = false): PemBlock[] {
  const blocks: PemBlock[] = []
  if (strict && !/^\s*$/.test(text.replace(PEM_BLOCK, '').replace(/\0+$/, ''))) {
    throw new ParseError('ERR_PARSE_MALFORMED', 'PEM text contains data outside its blocks', {
      structure: 'PEM',
    })
  }
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? ''
    const body = (match[2] ?? '').replace(/\s+/g, '')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new ParseError('ERR_PARSE_MALFORMED', `PEM block "${label}" is not valid base64`, {
        structure: 'PEM',
        offset: match.index,
      })
    }
    blocks.push({ label, der: fromBase64(body) })
  }
  return blocks
}

/** Encodes DER bytes as one PEM block with the given label. */
export function encodePem(label: string, der: Uint8Array): string {
  const body = toBase64(der).replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`
}

/** Encodes bytes as standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** Decodes standard or URL-safe base64, with or without padding. */
export function fromBase64(text: string): Uint8Array {
  const standard = text.replace(/-/g, '+').replace(/_/g, '/')
  const padded = standard + '='.repeat((4 - (standard.length % 4)) % 4)
  const binary = atob(padded)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}
