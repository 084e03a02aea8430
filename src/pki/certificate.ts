/**
 * X.509 certificates: decoded once, with the exact bytes that signatures and name comparisons
 * need kept beside the decoded fields.
 *
 * @module
 */
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  Certificate as AsnCertificate,
  BasicConstraints,
  type Extension,
  id_ce_basicConstraints,
  type Name,
  type Time,
} from '@peculiar/asn1-x509'
import { toHex } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import type { SignatureAlgorithm } from '../crypto/port.js'
import { DER_CONTEXT_0, elementBytes, readChildren, readElement } from './der.js'
import { signatureAlgorithmOf } from './signature-algorithm.js'

/** A decoded certificate. Byte fields are the exact encodings from the input. */
export interface Certificate {
  readonly der: Uint8Array
  /** The TBSCertificate encoding, which the issuer's signature covers. */
  readonly tbs: Uint8Array
  /** The signature value, without the BIT STRING's unused-bits byte. */
  readonly signature: Uint8Array
  /** The signature algorithm, or undefined when confide does not accept it. */
  readonly signatureAlgorithm: SignatureAlgorithm | undefined
  readonly signatureAlgorithmOid: string
  /** Serial number as lower-case hex of its two's-complement bytes, leading zeros removed. */
  readonly serialNumber: string
  readonly issuer: string
  readonly subject: string
  /** The subject's common name, or the whole subject when it has none. */
  readonly commonName: string
  /** DER of the issuer Name, compared byte for byte when building chains. */
  readonly issuerDer: Uint8Array
  readonly subjectDer: Uint8Array
  readonly notBefore: Date
  readonly notAfter: Date
  /** DER of the SubjectPublicKeyInfo. */
  readonly spki: Uint8Array
  /** Whether basicConstraints marks the certificate as a CA. */
  readonly isCa: boolean
  readonly extensions: readonly Extension[]
}

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
}

/** Formats a Name as `C=US,O=Intel Corporation,CN=...`, in encoding order. */
export function formatName(name: Name): string {
  const parts: string[] = []
  for (const rdn of name) {
    for (const attribute of rdn) {
      const label = SHORT_NAMES[attribute.type] ?? attribute.type
      parts.push(`${label}=${attribute.value.toString()}`)
    }
  }
  return parts.join(',')
}

/** Returns the first common name (CN) of a Name, if any. */
function commonNameOf(name: Name): string | undefined {
  for (const rdn of name) {
    for (const attribute of rdn) {
      if (attribute.type === '2.5.4.3') return attribute.value.toString()
    }
  }
  return undefined
}

/** Converts an ASN.1 Time to a Date. */
export function timeToDate(time: Time): Date {
  return time.getTime()
}

/** Formats serial-number bytes as canonical hex (no leading zero bytes). */
export function serialToHex(bytes: Uint8Array): string {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  return toHex(bytes.subarray(start))
}

/**
 * Decodes a DER certificate.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE` when the bytes are not a certificate.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  const structure = 'Certificate'
  try {
    const outer = readElement(der, 0, structure)
    if (outer.end !== der.length) throw new Error('trailing bytes after the certificate')
    const [tbsElement, , signatureElement] = readChildren(der, outer, structure)
    if (tbsElement === undefined || signatureElement === undefined) {
      throw new Error('certificate has fewer than three elements')
    }
    const tbsChildren = readChildren(der, tbsElement, 'TBSCertificate')
    const fields = tbsChildren[0]?.tag === DER_CONTEXT_0 ? tbsChildren.slice(1) : tbsChildren
    const [, , issuerElement, , subjectElement, spkiElement] = fields
    if (issuerElement === undefined || subjectElement === undefined || spkiElement === undefined) {
      throw new Error('TBSCertificate is missing fields')
    }

    const decoded = AsnConvert.parse(der, AsnCertificate)
    const tbs = decoded.tbsCertificate
    const extensions = tbs.extensions ?? []
    const basic = extensions.find((e) => e.extnID === id_ce_basicConstraints)
    const isCa =
      basic !== undefined && AsnConvert.parse(basic.extnValue, BasicConstraints).cA === true

    return {
      der: der.slice(),
      tbs: elementBytes(der, tbsElement),
      signature: der.slice(signatureElement.contentStart + 1, signatureElement.end),
      signatureAlgorithm: signatureAlgorithmOf(decoded.signatureAlgorithm),
      signatureAlgorithmOid: decoded.signatureAlgorithm.algorithm,
      serialNumber: serialToHex(new Uint8Array(tbs.serialNumber)),
      issuer: formatName(tbs.issuer),
      subject: formatName(tbs.subject),
      commonName: commonNameOf(tbs.subject) ?? formatName(tbs.subject),
      issuerDer: elementBytes(der, issuerElement),
      subjectDer: elementBytes(der, subjectElement),
      notBefore: timeToDate(tbs.validity.notBefore),
      notAfter: timeToDate(tbs.validity.notAfter),
      spki: elementBytes(der, spkiElement),
      isCa,
      extensions,
    }
  } catch (error) {
    if (error instanceof ParseError && error.code === 'ERR_PARSE_CERTIFICATE') throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_CERTIFICATE',
      `certificate could not be decoded: ${reason}`,
      {
        structure,
      },
      { cause: error },
    )
  }
}

/** Finds an extension by OID. */
export function findExtension(certificate: Certificate, oid: string): Extension | undefined {
  return certificate.extensions.find((e) => e.extnID === oid)
}
