/**
 * Certificate revocation lists, accepted as DER, PEM, or hex text (Intel's PCS and dcap-qvl's
 * collateral carry CRLs in each of these forms).
 *
 * @module
 */
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificateList } from '@peculiar/asn1-x509'
import { decodePem, fromHex } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import type { SignatureAlgorithm } from '../crypto/port.js'
import { formatName, serialToHex, timeToDate } from './certificate.js'
import { elementBytes, readChildren, readElement } from './der.js'
import { signatureAlgorithmOf } from './signature-algorithm.js'

/** A decoded CRL. Byte fields are the exact encodings from the input. */
export interface Crl {
  readonly der: Uint8Array
  /** The TBSCertList encoding, which the issuer's signature covers. */
  readonly tbs: Uint8Array
  readonly signature: Uint8Array
  readonly signatureAlgorithm: SignatureAlgorithm | undefined
  readonly issuer: string
  /** DER of the issuer Name. */
  readonly issuerDer: Uint8Array
  readonly thisUpdate: Date
  /** Absent when the CRL names no next update. */
  readonly nextUpdate: Date | undefined
  /** Serial numbers of revoked certificates, as canonical lower-case hex. */
  readonly revokedSerials: ReadonlySet<string>
}

const DER_SEQUENCE_TAG = 0x30
const DER_INTEGER_TAG = 0x02

function crlError(message: string, cause?: unknown): ParseError {
  return new ParseError('ERR_PARSE_CRL', message, { structure: 'CertificateList' }, { cause })
}

/** Turns DER, PEM text or hex text into DER bytes, by what the input looks like. */
function crlDer(input: Uint8Array | string): Uint8Array {
  const text =
    typeof input === 'string'
      ? input
      : input[0] === DER_SEQUENCE_TAG
        ? undefined
        : new TextDecoder('utf-8', { fatal: false }).decode(input)
  if (text === undefined) return input as Uint8Array

  if (text.includes('-----BEGIN')) {
    const block = decodePem(text).find((b) => b.label === 'X509 CRL')
    if (block === undefined) throw crlError('PEM text contains no "X509 CRL" block')
    return block.der
  }
  const compact = text.trim()
  if (/^(?:[0-9a-fA-F]{2})+$/.test(compact)) return fromHex(compact, 'CRL hex text')
  throw crlError('CRL is neither DER, PEM nor hex text')
}

/**
 * Decodes a CRL given as DER bytes, PEM text or hex text.
 *
 * @throws ParseError `ERR_PARSE_CRL` when the input is not a decodable CRL.
 */
export function parseCrl(input: Uint8Array | string): Crl {
  const der = crlDer(input)
  try {
    const structure = 'CertificateList'
    const outer = readElement(der, 0, structure)
    if (outer.end !== der.length) throw new Error('trailing bytes after the CRL')
    const [tbsElement, , signatureElement] = readChildren(der, outer, structure)
    if (tbsElement === undefined || signatureElement === undefined) {
      throw new Error('CRL has fewer than three elements')
    }
    const tbsChildren = readChildren(der, tbsElement, 'TBSCertList')
    // TBSCertList: version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name, ...
    const first = tbsChildren[0]?.tag === DER_INTEGER_TAG ? 1 : 0
    const issuerElement = tbsChildren[first + 1]
    if (issuerElement === undefined) throw new Error('TBSCertList has no issuer')

    const decoded = AsnConvert.parse(der, CertificateList)
    const tbs = decoded.tbsCertList
    const revokedSerials = new Set<string>()
    for (const entry of tbs.revokedCertificates ?? []) {
      revokedSerials.add(serialToHex(new Uint8Array(entry.userCertificate)))
    }
    return {
      der: der.slice(),
      tbs: elementBytes(der, tbsElement),
      signature: der.slice(signatureElement.contentStart + 1, signatureElement.end),
      signatureAlgorithm: signatureAlgorithmOf(decoded.signatureAlgorithm),
      issuer: formatName(tbs.issuer),
      issuerDer: elementBytes(der, issuerElement),
      thisUpdate: timeToDate(tbs.thisUpdate),
      nextUpdate: tbs.nextUpdate === undefined ? undefined : timeToDate(tbs.nextUpdate),
      revokedSerials,
    }
  } catch (error) {
    if (error instanceof ParseError && error.code === 'ERR_PARSE_CRL') throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw crlError(`CRL could not be decoded: ${reason}`, error)
  }
}
