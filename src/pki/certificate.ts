/**
 * X.509 certificates: decoded once, with the exact bytes that signatures and name comparisons
 * need kept beside the decoded fields.
 *
 * @module
 */
import type { Extension, Name, Time } from '@peculiar/asn1-x509'
import type { SignatureAlgorithm } from '../crypto/port.js'
import { readCertificateDer } from './certificate-reader.js'
import { ATTRIBUTE_LABELS } from './names.js'

export { serialToHex } from './der.js'

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
  /** Issuer name as `C=US,O=...,CN=...`, in encoding order. */
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
  /** The extensions, in certificate order. */
  readonly extensions: readonly Extension[]
}

/** Formats a decoded Name as `C=US,O=Intel Corporation,CN=...`, in encoding order. */
export function formatName(name: Name): string {
  const parts: string[] = []
  for (const rdn of name) {
    for (const attribute of rdn) {
      const label = ATTRIBUTE_LABELS[attribute.type] ?? attribute.type
      parts.push(`${label}=${attribute.value.toString()}`)
    }
  }
  return parts.join(',')
}

/** Converts an ASN.1 Time to a Date. */
export function timeToDate(time: Time): Date {
  return time.getTime()
}

/**
 * Decodes a DER certificate.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE` when the bytes are not a certificate.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  return readCertificateDer(der)
}

/** Finds an extension by OID. */
export function findExtension(certificate: Certificate, oid: string): Extension | undefined {
  return certificate.extensions.find((e) => e.extnID === oid)
}
