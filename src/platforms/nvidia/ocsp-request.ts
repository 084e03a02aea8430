/**
 * OCSP requests in DER: the CertID of a certificate and an unsigned OCSPRequest for it, with an
 * optional nonce. `createCertId` digests through the crypto port; nothing here does I/O.
 *
 * @see RFC 6960 (OCSP), §4.1 (request syntax)
 * @see RFC 8954 (OCSP nonce extension)
 * @module
 */
import { concatBytes, fromHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import type { CryptoPort, DigestAlgorithm } from '../../crypto/port.js'
import type { Certificate } from '../../pki/certificate.js'
import {
  contentOf,
  DER_BIT_STRING,
  DER_INTEGER,
  DER_OCTET_STRING,
  DER_OID,
  DER_SEQUENCE,
  readChildren,
  readElement,
} from '../../pki/der.js'
import { type OcspCertId, OID_OCSP_NONCE } from './ocsp.js'

const DER_NULL = 0x05
const CONTEXT_2 = 0xa2

const HASH_OIDS: Readonly<Record<DigestAlgorithm, string>> = {
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length)
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)

  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

/** Encodes one DER element from its tag and the concatenated contents. */
export function derElement(tag: number, ...contents: readonly Uint8Array[]): Uint8Array {
  const body = concatBytes(...contents)
  return concatBytes(Uint8Array.of(tag), encodeLength(body.length), body)
}

/** Encodes an OBJECT IDENTIFIER from its dotted form. */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number)
  const [first = 0, second = 0, ...rest] = arcs
  const bytes: number[] = []
  for (const arc of [first * 40 + second, ...rest]) {
    const group: number[] = [arc % 128]
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      group.unshift(0x80 | (value % 128))
    }
    bytes.push(...group)
  }

  return derElement(DER_OID, Uint8Array.from(bytes))
}

/** Encodes a non-negative INTEGER given as hex. */
function derUnsignedInteger(hex: string): Uint8Array {
  const bytes = fromHex(hex.length % 2 === 0 ? hex : `0${hex}`)
  const needsZero = bytes.length === 0 || (bytes[0]! & 0x80) !== 0

  return derElement(DER_INTEGER, needsZero ? Uint8Array.of(0) : new Uint8Array(), bytes)
}

function encodeCertId(certId: OcspCertId): Uint8Array {
  return derElement(
    DER_SEQUENCE,
    derElement(DER_SEQUENCE, derOid(certId.hashAlgorithm), derElement(DER_NULL)),
    derElement(DER_OCTET_STRING, certId.issuerNameHash),
    derElement(DER_OCTET_STRING, certId.issuerKeyHash),
    derUnsignedInteger(certId.serialNumber),
  )
}

/**
 * Encodes an unsigned OCSPRequest for one certificate, with a nonce extension (RFC 8954) when a
 * nonce is given.
 */
export function encodeOcspRequest(certId: OcspCertId, nonce?: Uint8Array): Uint8Array {
  const request = derElement(DER_SEQUENCE, encodeCertId(certId))
  const extensions =
    nonce === undefined
      ? []
      : [
          derElement(
            CONTEXT_2,
            derElement(
              DER_SEQUENCE,
              derElement(
                DER_SEQUENCE,
                derOid(OID_OCSP_NONCE),
                derElement(DER_OCTET_STRING, derElement(DER_OCTET_STRING, nonce)),
              ),
            ),
          ),
        ]
  const tbsRequest = derElement(DER_SEQUENCE, derElement(DER_SEQUENCE, request), ...extensions)

  return derElement(DER_SEQUENCE, tbsRequest)
}

/** Returns the contents of the subjectPublicKey BIT STRING of a SubjectPublicKeyInfo. */
function subjectPublicKey(spki: Uint8Array): Uint8Array {
  const outer = readElement(spki, 0, 'SubjectPublicKeyInfo')
  const [, key] = readChildren(spki, outer, 'SubjectPublicKeyInfo')
  if (key?.tag !== DER_BIT_STRING) {
    throw new ParseError('ERR_PARSE_CERTIFICATE', 'SubjectPublicKeyInfo has no BIT STRING', {
      structure: 'SubjectPublicKeyInfo',
    })
  }

  return contentOf(spki, key).subarray(1)
}

/** Computes the CertID of `certificate` as issued by `issuer`, hashing with `hash`. */
export async function createCertId(
  certificate: Certificate,
  issuer: Certificate,
  crypto: CryptoPort,
  hash: DigestAlgorithm,
): Promise<OcspCertId> {
  return {
    hashAlgorithm: HASH_OIDS[hash],
    issuerNameHash: await crypto.digest(hash, certificate.issuerDer),
    issuerKeyHash: await crypto.digest(hash, subjectPublicKey(issuer.spki)),
    serialNumber: certificate.serialNumber,
  }
}
