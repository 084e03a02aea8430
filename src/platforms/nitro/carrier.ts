/**
 * TLS certificates that carry a Nitro attestation document, so the handshake itself presents
 * the evidence. Two placements are found:
 *
 * - Evervault Cages: the COSE_Sign1 bytes as hex text in the first label of a subjectAltName
 *   dNSName (`<hex>.<cage>.<app>.cages.evervault.com`), ignoring DNS label length limits.
 * - An extension whose value is the COSE_Sign1 bytes, bare or wrapped in one more OCTET STRING.
 *   No OID is registered for this, so every extension is examined.
 *
 * The document binds the certificate when its `user_data` or `public_key` is the DER
 * SubjectPublicKeyInfo of the certificate (Evervault puts it in `user_data`); verify.ts checks
 * that. The carrier certificate's own issuer and validity are not judged here: the document's
 * chain to the AWS root is what proves the enclave.
 *
 * @module
 */
import { AsnConvert } from '@peculiar/asn1-schema'
import { id_ce_subjectAltName, SubjectAlternativeName } from '@peculiar/asn1-x509'
import { fromHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import type { Certificate } from '../../pki/certificate.js'
import { DER_OCTET_STRING, readElement } from '../../pki/der.js'
import { looksLikeNitroCose } from './sniff.js'

/** A certificate that carried the document, and where in it the document was. */
export interface CarrierCertificate {
  readonly der: Uint8Array
  /** DER SubjectPublicKeyInfo, which the document must bind. */
  readonly spki: Uint8Array
  readonly subject: string
  /** `subjectAltName` for the Evervault placement, or the OID of the carrying extension. */
  readonly location: string
}

const HEX_LABEL = /^(?:[0-9a-fA-F]{2})+$/

function malformed(message: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', message, { structure: 'CarrierCertificate' })
}

/** Collects the documents hex-encoded in the first label of a subjectAltName dNSName. */
function fromSubjectAltName(value: ArrayBuffer): Uint8Array[] {
  const found: Uint8Array[] = []
  for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
    const label = name.dNSName?.split('.')[0] ?? ''
    if (!HEX_LABEL.test(label)) continue
    const bytes = fromHex(label)
    if (looksLikeNitroCose(bytes)) found.push(bytes)
  }
  return found
}

/** Returns the document an extension value is, bare or as the content of an OCTET STRING. */
function fromExtensionValue(value: Uint8Array): Uint8Array | undefined {
  if (looksLikeNitroCose(value)) return value.slice()
  if (value[0] !== DER_OCTET_STRING) return undefined
  try {
    const element = readElement(value, 0, 'Extension')
    const inner = value.subarray(element.contentStart, element.end)
    return element.end === value.length && looksLikeNitroCose(inner) ? inner.slice() : undefined
  } catch (error) {
    // A value that is not one DER element is some other extension, not a wrapped document.
    if (error instanceof ParseError) return undefined
    throw error
  }
}

/**
 * Finds the one attestation document a certificate carries.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` when it carries none, or more than one.
 */
export function carriedDocument(certificate: Certificate): { cose: Uint8Array; location: string } {
  const found: { cose: Uint8Array; location: string }[] = []
  for (const extension of certificate.extensions) {
    const value = extension.extnValue.buffer
    if (extension.extnID === id_ce_subjectAltName) {
      for (const cose of fromSubjectAltName(value)) found.push({ cose, location: 'subjectAltName' })
      continue
    }
    const cose = fromExtensionValue(new Uint8Array(value))
    if (cose !== undefined) found.push({ cose, location: extension.extnID })
  }
  const [first, second] = found
  if (first === undefined) {
    throw malformed(`certificate "${certificate.subject}" carries no Nitro attestation document`)
  }
  if (second !== undefined) {
    throw malformed(
      `certificate "${certificate.subject}" carries ${found.length} documents, not one`,
    )
  }

  return first
}
