/**
 * Cheap recognition of Nitro attestation documents in each input form, for platform detection.
 * These checks look at prefixes and markers only, and `parseNitroEvidence` does the strict work.
 *
 * @module
 */
import { decodePem, fromBase64 } from '../../core/bytes.js'

/** Largest input accepted in any form: a 16 KiB payload, hex-encoded inside a certificate, fits. */
export const MAX_INPUT_SIZE = 64 * 1024

/** Bytes of the prefix that the COSE_Sign1 check looks at. */
const PREFIX_SIZE = 512
/** Base64 characters that decode to at least PREFIX_SIZE bytes: four for every three bytes. */
const PREFIX_CHARS = Math.ceil(PREFIX_SIZE / 3) * 4

/** The CBOR text string `module_id`, a key of every payload and the first in AWS's documents. */
const MODULE_ID_KEY = Uint8Array.of(0x69, ...new TextEncoder().encode('module_id'))
const MODULE_ID_KEY_HEX = new TextEncoder().encode('696d6f64756c655f6964')
const MODULE_ID_KEY_HEX_UPPER = new TextEncoder().encode('696D6F64756C655F6964')

const COSE_ARRAY_OF_FOUR = 0x84
/** CBOR tag 18 in one byte. */
const COSE_SIGN1_TAG_BYTE = 0xd2
const MAJOR_BYTES = 2
const DER_SEQUENCE = 0x30
const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/
const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----'

/** Returns the index of `needle` in `haystack`, or -1. */
function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]
  outer: for (
    let i = haystack.indexOf(first ?? 0);
    i >= 0;
    i = haystack.indexOf(first ?? 0, i + 1)
  ) {
    if (i + needle.length > haystack.length) return -1
    for (let j = 1; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer
    }
    return i
  }
  return -1
}

/** Tells whether bytes start with a COSE_Sign1 (tagged or not) or with its array header. */
export function startsLikeCoseSign1(bytes: Uint8Array): boolean {
  return (
    bytes[0] === COSE_ARRAY_OF_FOUR ||
    (bytes[0] === COSE_SIGN1_TAG_BYTE && bytes[1] === COSE_ARRAY_OF_FOUR)
  )
}

/**
 * Tells whether bytes start like a Nitro document: a COSE_Sign1 array whose first item is a byte
 * string, with the `module_id` key within the first 512 bytes.
 */
export function looksLikeNitroCose(bytes: Uint8Array): boolean {
  if (!startsLikeCoseSign1(bytes)) return false
  const headerIndex = bytes[0] === COSE_SIGN1_TAG_BYTE ? 2 : 1
  if ((bytes[headerIndex] ?? 0) >> 5 !== MAJOR_BYTES) return false

  return indexOf(bytes.subarray(0, PREFIX_SIZE), MODULE_ID_KEY) >= 0
}

/** Tells whether bytes start with a DER SEQUENCE long enough to be a certificate. */
export function startsLikeDerCertificate(bytes: Uint8Array): boolean {
  return bytes[0] === DER_SEQUENCE && (bytes[1] ?? 0) >= 0x81 && (bytes[1] ?? 0) <= 0x84
}

/** Tells whether DER bytes contain the `module_id` key, bare or as hex text. */
function carriesModuleId(der: Uint8Array): boolean {
  return (
    indexOf(der, MODULE_ID_KEY) >= 0 ||
    indexOf(der, MODULE_ID_KEY_HEX) >= 0 ||
    indexOf(der, MODULE_ID_KEY_HEX_UPPER) >= 0
  )
}

/** Decodes bytes as ASCII text, or returns undefined when a byte is outside printable ASCII. */
export function asciiText(bytes: Uint8Array): string | undefined {
  for (const byte of bytes) {
    const whitespace = byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x20
    if (!whitespace && (byte < 0x21 || byte > 0x7e)) return undefined
  }
  return new TextDecoder('latin1').decode(bytes)
}

/** Tells whether text, without whitespace, is standard or URL-safe base64. */
export function isBase64Text(text: string): boolean {
  return BASE64_TEXT.test(text)
}

function sniffText(text: string): boolean {
  if (text.includes(PEM_CERTIFICATE)) {
    const block = decodePem(text).find((b) => b.label === 'CERTIFICATE')
    return block !== undefined && carriesModuleId(block.der)
  }
  const compact = text.replace(/\s+/g, '')
  if (!isBase64Text(compact)) return false
  return looksLikeNitroCose(fromBase64(compact.slice(0, PREFIX_CHARS)))
}

/**
 * Tells cheaply whether bytes look like a Nitro attestation document in one of the forms
 * `parseNitroEvidence` reads. Returns false rather than throwing.
 */
export function sniffNitro(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > MAX_INPUT_SIZE) return false
  if (looksLikeNitroCose(bytes)) return true
  if (startsLikeDerCertificate(bytes)) return carriesModuleId(bytes)
  if (asciiText(bytes.subarray(0, 64)) === undefined) return false
  try {
    const full = asciiText(bytes)
    return full !== undefined && sniffText(full)
  } catch {
    // Text that is neither PEM nor base64 after all is not a document.
    return false
  }
}
