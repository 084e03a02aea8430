/**
 * The AMD extensions of VCEK and VLEK certificates (OIDs under 1.3.6.1.4.1.3704.1): structure
 * version, product name, one SPL per TCB_VERSION byte, the chip's hwID (VCEK) and the cloud
 * provider's cspID (VLEK). Each SPL is a DER INTEGER inside the extension's OCTET STRING. The
 * product name and cspID are IA5Strings, and hwID is the raw bytes.
 *
 * @module
 */
import { ParseError } from '../../core/errors.js'
import type { Certificate } from '../../pki/certificate.js'
import { readElement } from '../../pki/der.js'

const AMD_ARC = '1.3.6.1.4.1.3704.1'
export const AMD_OID_STRUCT_VERSION = `${AMD_ARC}.1`
export const AMD_OID_PRODUCT_NAME = `${AMD_ARC}.2`
export const AMD_OID_SPL_PREFIX = `${AMD_ARC}.3.`
export const AMD_OID_HWID = `${AMD_ARC}.4`
export const AMD_OID_CSPID = `${AMD_ARC}.5`

const DER_INTEGER = 0x02
const DER_IA5_STRING = 0x16
const STRUCTURE = 'AmdKeyExtensions'

/** The AMD extensions of one VCEK or VLEK certificate, as far as they decoded. */
export interface AmdKeyExtensions {
  readonly structVersion: number | undefined
  /** Product name with any stepping suffix, such as `Milan-B0` or `Genoa`. */
  readonly productName: string | undefined
  /** SPL extensions by OID. */
  readonly spl: ReadonlyMap<string, number>
  readonly hwId: Uint8Array | undefined
  readonly cspId: string | undefined
  /** Problems found while decoding, one per extension left out. Empty when all decoded. */
  readonly problems: readonly string[]
}

function malformed(message: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', message, { structure: STRUCTURE })
}

/** Returns the single TLV an extension value holds, checking that nothing follows it. */
function innerValue(value: Uint8Array, tag: number): Uint8Array {
  const element = readElement(value, 0, STRUCTURE)
  if (element.tag !== tag) {
    throw malformed(`has tag 0x${element.tag.toString(16)}, expected 0x${tag.toString(16)}`)
  }
  if (element.end !== value.length) throw malformed('has bytes after its value')
  return value.subarray(element.contentStart, element.end)
}

/**
 * Decodes an SPL: a canonical DER INTEGER from 0 to 255. Leading zero bytes beyond the one a
 * value from 128 up needs are rejected, as are negative values.
 */
export function decodeSpl(value: Uint8Array): number {
  const content = innerValue(value, DER_INTEGER)
  const [first, second] = content
  if (first === undefined) throw malformed('INTEGER is empty')
  if (first >= 0x80) throw malformed('INTEGER is negative')
  if (content.length > 2 || (content.length === 2 && (first !== 0 || (second ?? 0) < 0x80))) {
    throw malformed('INTEGER is not a canonical value from 0 to 255')
  }

  return content.length === 2 ? (second ?? 0) : first
}

function decodeIa5(value: Uint8Array): string {
  const content = innerValue(value, DER_IA5_STRING)
  if (content.some((byte) => byte > 0x7f)) throw malformed('IA5String has a byte above 0x7f')
  return String.fromCharCode(...content)
}

/**
 * Decodes the AMD extensions of a certificate. A malformed or repeated extension is recorded in
 * `problems` and left out, so callers can still report what did decode.
 */
export function readKeyExtensions(certificate: Certificate): AmdKeyExtensions {
  const spl = new Map<string, number>()
  const problems: string[] = []
  const seen = new Set<string>()
  let structVersion: number | undefined
  let productName: string | undefined
  let hwId: Uint8Array | undefined
  let cspId: string | undefined

  for (const extension of certificate.extensions) {
    const oid = extension.extnID
    if (!oid.startsWith(`${AMD_ARC}.`)) continue
    if (seen.has(oid)) {
      problems.push(`extension ${oid} appears twice`)
      continue
    }
    seen.add(oid)
    const value = new Uint8Array(extension.extnValue.buffer)
    try {
      if (oid === AMD_OID_STRUCT_VERSION) structVersion = decodeSpl(value)
      else if (oid === AMD_OID_PRODUCT_NAME) productName = decodeIa5(value)
      else if (oid === AMD_OID_HWID) hwId = value.slice()
      else if (oid === AMD_OID_CSPID) cspId = decodeIa5(value)
      else if (oid.startsWith(AMD_OID_SPL_PREFIX)) spl.set(oid, decodeSpl(value))
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      problems.push(`extension ${oid} is malformed: ${reason}`)
    }
  }

  return { structVersion, productName, spl, hwId, cspId, problems }
}
