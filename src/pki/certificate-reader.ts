/**
 * The DER reader behind `parseCertificate`. It walks the certificate's DER once and keeps the exact
 * bytes that signatures and name comparisons need, extensions included (their values are decoded
 * by the code that reads them). Decoding the whole certificate through asn1-schema took more than
 * half as long as a P-384 verification when measured on Node 20, and a Nitro document brings a
 * new certificate each time.
 *
 * @see RFC 5280, §4.1 (Certificate and TBSCertificate)
 * @module
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509'
import { bytesEqual, toHex } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import type { SignatureAlgorithm } from '../crypto/port.js'
import type { Certificate } from './certificate.js'
import {
  DER_BIT_STRING,
  DER_BOOLEAN,
  DER_CONTEXT_0,
  DER_INTEGER,
  DER_OCTET_STRING,
  DER_OID,
  DER_SEQUENCE,
  type DerElement,
  decodeOid,
  elementBytes,
  readChildren,
  readElement,
  serialToHex,
} from './der.js'
import { ATTRIBUTE_LABELS } from './names.js'
import { signatureAlgorithmOf } from './signature-algorithm.js'

const STRUCTURE = 'Certificate'
const DER_SET = 0x31
const DER_UTC_TIME = 0x17
const DER_GENERALIZED_TIME = 0x18
const DER_CONTEXT_3 = 0xa3
const BASIC_CONSTRAINTS_OID = '2.5.29.19'

/** The ECDSA algorithms, which AWS's Nitro certificates use, mapped without @peculiar. */
const ECDSA_BY_OID: Record<string, SignatureAlgorithm> = {
  '1.2.840.10045.4.3.2': { name: 'ECDSA', hash: 'SHA-256', der: true },
  '1.2.840.10045.4.3.3': { name: 'ECDSA', hash: 'SHA-384', der: true },
  '1.2.840.10045.4.3.4': { name: 'ECDSA', hash: 'SHA-512', der: true },
}

function malformed(message: string, offset?: number): ParseError {
  return new ParseError('ERR_PARSE_CERTIFICATE', `certificate could not be decoded: ${message}`, {
    structure: STRUCTURE,
    ...(offset === undefined ? {} : { offset }),
  })
}

function expectTag(element: DerElement | undefined, tag: number, field: string): DerElement {
  if (element === undefined) throw malformed(`${field} is missing`)
  if (element.tag !== tag) throw malformed(`${field} has tag 0x${element.tag.toString(16)}`)
  return element
}

function content(der: Uint8Array, element: DerElement): Uint8Array {
  return der.subarray(element.contentStart, element.end)
}

/** First two content bytes of the OIDs under 2.5.4 (name attributes) and 2.5.29 (extensions). */
const ARC_2_5_4 = 0x04
const ARC_2_5_29 = 0x1d
const ARC_2_5 = 0x55

function oidOf(der: Uint8Array, element: DerElement | undefined, field: string): string {
  const bytes = content(der, expectTag(element, DER_OID, field))
  // Name attribute and extension OIDs are three bytes under 2.5, so they skip the decoder.
  const last = bytes[2] ?? 0x80
  if (bytes.length === 3 && bytes[0] === ARC_2_5 && last < 0x80) {
    if (bytes[1] === ARC_2_5_4) return `2.5.4.${last}`
    if (bytes[1] === ARC_2_5_29) return `2.5.29.${last}`
  }
  return decodeOid(bytes, STRUCTURE)
}

const latin1 = new TextDecoder('latin1')
const utf8 = new TextDecoder('utf-8', { fatal: true })
const utf16 = new TextDecoder('utf-16be', { fatal: true })

/** Decodes a string value of a name attribute. Types without a text form are shown as hex. */
function attributeText(der: Uint8Array, element: DerElement): string {
  const bytes = content(der, element)
  switch (element.tag) {
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: // IA5String
      return utf8.decode(bytes)
    case 0x14: // TeletexString
      return latin1.decode(bytes)
    case 0x1e: // BMPString
      return utf16.decode(bytes)
    default:
      return toHex(der.subarray(element.start, element.end))
  }
}

/** Formats a Name as `C=US,O=Amazon,CN=...` in encoding order, like `formatName`. */
function formatNameDer(der: Uint8Array, name: DerElement): string {
  const parts: string[] = []
  for (const rdn of readChildren(der, name, STRUCTURE)) {
    expectTag(rdn, DER_SET, 'RelativeDistinguishedName')
    for (const attribute of readChildren(der, rdn, STRUCTURE)) {
      const [type, value] = readChildren(
        der,
        expectTag(attribute, DER_SEQUENCE, 'attribute'),
        STRUCTURE,
      )
      const oid = oidOf(der, type, 'attribute type')
      if (value === undefined) throw malformed('attribute has no value')
      parts.push(`${ATTRIBUTE_LABELS[oid] ?? oid}=${attributeText(der, value)}`)
    }
  }
  return parts.join(',')
}

/** Decodes UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`), as DER requires. */
function decodeTime(der: Uint8Array, element: DerElement | undefined): Date {
  if (element === undefined) throw malformed('validity has fewer than two times')
  const text = latin1.decode(content(der, element))
  const pattern =
    element.tag === DER_UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
      : element.tag === DER_GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
        : undefined
  const match = pattern?.exec(text)
  if (match === undefined || match === null) throw malformed(`time "${text}" is not DER`)
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
    .slice(1)
    .map(Number)
  // A two-digit UTCTime year YY is 19YY from 50 on and 20YY below (RFC 5280, §4.1.2.5.1).
  let fullYear = year
  if (element.tag === DER_UTC_TIME) fullYear += year < 50 ? 2000 : 1900
  // setUTCFullYear, unlike Date.UTC, takes years 0 to 99 literally.
  const date = new Date(0)
  date.setUTCFullYear(fullYear, month - 1, day)
  date.setUTCHours(hour, minute, second, 0)
  const exact =
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    second <= 59
  if (!exact) throw malformed(`time "${text}" is not a calendar date`)

  return date
}

/** Reads the cA flag of a basicConstraints extension value. */
function basicConstraintsIsCa(der: Uint8Array, value: DerElement): boolean {
  const inner = content(der, expectTag(value, DER_OCTET_STRING, 'extension value'))
  const sequence = readElement(inner, 0, STRUCTURE)
  const [first] = readChildren(
    inner,
    expectTag(sequence, DER_SEQUENCE, 'BasicConstraints'),
    STRUCTURE,
  )
  if (first === undefined || first.tag !== DER_BOOLEAN) return false
  const flag = content(inner, first)
  return flag.length === 1 && flag[0] === 0xff
}

/**
 * Reads one Extension: `extnID`, `critical` (a DER BOOLEAN, absent when false), and `extnValue`
 * (an OCTET STRING).
 */
function readExtension(der: Uint8Array, element: DerElement): Extension {
  const parts = readChildren(der, expectTag(element, DER_SEQUENCE, 'extension'), STRUCTURE)
  const [idElement, second, third, extra] = parts
  const extnID = oidOf(der, idElement, 'extension id')
  const criticalElement = third === undefined ? undefined : second
  const valueElement = third ?? second
  if (extra !== undefined || valueElement === undefined)
    throw malformed(`extension ${extnID} does not have 2 or 3 members`)
  let critical = false
  if (criticalElement !== undefined) {
    const flag = content(der, expectTag(criticalElement, DER_BOOLEAN, 'critical'))
    if (flag.length !== 1 || (flag[0] !== 0xff && flag[0] !== 0x00))
      throw malformed(`extension ${extnID} has a critical flag that is not a DER BOOLEAN`)
    critical = flag[0] === 0xff
  }
  const value = content(der, expectTag(valueElement, DER_OCTET_STRING, 'extension value'))

  return new Extension({ extnID, critical, extnValue: new OctetString(value.slice()) })
}

/** Reads the extensions and the cA flag of basicConstraints. */
function readExtensions(
  der: Uint8Array,
  trailing: readonly DerElement[],
): { isCa: boolean; extensions: readonly Extension[] } {
  const wrapper = trailing.find((element) => element.tag === DER_CONTEXT_3)
  if (wrapper === undefined) return { isCa: false, extensions: [] }
  const [sequence] = readChildren(der, wrapper, STRUCTURE)
  const list = expectTag(sequence, DER_SEQUENCE, 'extensions')
  let isCa = false
  const extensions: Extension[] = []
  for (const element of readChildren(der, list, STRUCTURE)) {
    const extension = readExtension(der, element)
    if (extension.extnID === BASIC_CONSTRAINTS_OID) {
      const parts = readChildren(der, element, STRUCTURE)
      isCa = basicConstraintsIsCa(der, parts[parts.length - 1]!)
    }
    extensions.push(extension)
  }

  return { isCa, extensions }
}

function signatureAlgorithmFor(
  oid: string,
  algorithmDer: Uint8Array,
): SignatureAlgorithm | undefined {
  return (
    ECDSA_BY_OID[oid] ?? signatureAlgorithmOf(AsnConvert.parse(algorithmDer, AlgorithmIdentifier))
  )
}

function readCertificate(der: Uint8Array): Certificate {
  const outer = expectTag(readElement(der, 0, STRUCTURE), DER_SEQUENCE, 'Certificate')
  if (outer.end !== der.length) throw malformed('trailing bytes after the certificate', outer.end)
  const [tbsElement, algorithmElement, signatureElement, extra] = readChildren(
    der,
    outer,
    STRUCTURE,
  )
  if (extra !== undefined) throw malformed('certificate has more than three elements')
  const tbs = expectTag(tbsElement, DER_SEQUENCE, 'TBSCertificate')
  const algorithm = expectTag(algorithmElement, DER_SEQUENCE, 'signatureAlgorithm')
  const signatureValue = content(der, expectTag(signatureElement, DER_BIT_STRING, 'signature'))
  if (signatureValue[0] !== 0) throw malformed('signature BIT STRING has unused bits')

  const children = readChildren(der, tbs, STRUCTURE)
  const fields = children[0]?.tag === DER_CONTEXT_0 ? children.slice(1) : children
  const [serial, innerAlgorithm, issuer, validity, subject, spki, ...trailing] = fields
  const algorithmDer = elementBytes(der, algorithm)
  if (
    !bytesEqual(
      elementBytes(der, expectTag(innerAlgorithm, DER_SEQUENCE, 'signature')),
      algorithmDer,
    )
  ) {
    throw malformed('TBSCertificate signature differs from signatureAlgorithm')
  }
  const [notBefore, notAfter] = readChildren(
    der,
    expectTag(validity, DER_SEQUENCE, 'validity'),
    STRUCTURE,
  )
  const algorithmOid = oidOf(der, readChildren(der, algorithm, STRUCTURE)[0], 'algorithm')
  const { isCa, extensions } = readExtensions(der, trailing)
  const subjectName = formatNameDer(der, expectTag(subject, DER_SEQUENCE, 'subject'))

  return {
    der: der.slice(),
    tbs: elementBytes(der, tbs),
    signature: signatureValue.slice(1),
    signatureAlgorithm: signatureAlgorithmFor(algorithmOid, algorithmDer),
    signatureAlgorithmOid: algorithmOid,
    serialNumber: serialToHex(content(der, expectTag(serial, DER_INTEGER, 'serialNumber'))),
    issuer: formatNameDer(der, expectTag(issuer, DER_SEQUENCE, 'issuer')),
    subject: subjectName,
    commonName: /(?:^|,)CN=([^,]*)/.exec(subjectName)?.[1] ?? subjectName,
    issuerDer: elementBytes(der, issuer!),
    subjectDer: elementBytes(der, subject!),
    notBefore: decodeTime(der, notBefore),
    notAfter: decodeTime(der, notAfter),
    spki: elementBytes(der, expectTag(spki, DER_SEQUENCE, 'subjectPublicKeyInfo')),
    isCa,
    extensions,
  }
}

/**
 * Decodes a DER certificate. The TBSCertificate signature algorithm must equal the outer one (RFC
 * 5280, §4.1.1.2), and times must be in the DER form that ends in `Z`.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE` when the bytes are not a certificate.
 */
export function readCertificateDer(der: Uint8Array): Certificate {
  try {
    return readCertificate(der)
  } catch (error) {
    if (error instanceof ParseError && error.code === 'ERR_PARSE_CERTIFICATE') throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_CERTIFICATE',
      `certificate could not be decoded: ${reason}`,
      { structure: STRUCTURE },
      { cause: error },
    )
  }
}
