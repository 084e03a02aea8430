/**
 * OCSP responses in DER: decoding an OCSPResponse with its BasicOCSPResponse. The response is
 * walked with the DER reader of pki/der.ts, so the signature is checked over the ResponseData
 * bytes as received. Pure: no crypto, no I/O. Requests are built in ocsp-request.ts.
 *
 * @see RFC 6960 (OCSP), §4.2 (response syntax)
 * @see RFC 8954 (OCSP nonce extension)
 * @module
 */
import { AsnConvert } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier } from '@peculiar/asn1-x509'
import { ParseError } from '../../core/errors.js'
import type { SignatureAlgorithm } from '../../crypto/port.js'
import {
  contentOf,
  DER_BIT_STRING,
  DER_CONTEXT_0,
  DER_ENUMERATED,
  DER_INTEGER,
  DER_OCTET_STRING,
  DER_OID,
  DER_SEQUENCE,
  type DerElement,
  decodeOid,
  decodeUnsignedInteger,
  elementBytes,
  readChildren,
  readElement,
  serialToHex,
} from '../../pki/der.js'
import { signatureAlgorithmOf } from '../../pki/signature-algorithm.js'

const STRUCTURE = 'OCSPResponse'

const DER_GENERALIZED_TIME = 0x18
const CONTEXT_1 = 0xa1
const CONTEXT_2 = 0xa2
/** CertStatus choices: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2]. */
const STATUS_GOOD = 0x80
const STATUS_REVOKED = 0xa1
const STATUS_UNKNOWN = 0x82

export const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1'
export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2'
/** Extended key usage id-kp-OCSPSigning, which a delegated responder's certificate must carry. */
export const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'

/** OCSPResponseStatus values by number. Value 4 is unused. */
const RESPONSE_STATUSES: Readonly<Record<number, OcspResponseStatus>> = {
  0: 'successful',
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
}

export type OcspResponseStatus =
  | 'successful'
  | 'malformedRequest'
  | 'internalError'
  | 'tryLater'
  | 'sigRequired'
  | 'unauthorized'

/** The certificate an OCSP request or response is about. */
export interface OcspCertId {
  /** OID of the hash algorithm of the two hashes. */
  readonly hashAlgorithm: string
  /** Hash of the DER issuer Name of the certificate. */
  readonly issuerNameHash: Uint8Array
  /** Hash of the issuer's public key (the BIT STRING contents, without the unused-bits byte). */
  readonly issuerKeyHash: Uint8Array
  /** Serial number as canonical lower-case hex, as `Certificate.serialNumber`. */
  readonly serialNumber: string
}

export type OcspCertStatus =
  | { readonly kind: 'good' }
  | {
      readonly kind: 'revoked'
      readonly revocationTime: Date
      /** CRLReason code, when the responder gave one. */
      readonly reason: number | undefined
    }
  | { readonly kind: 'unknown' }

/** One SingleResponse. */
export interface OcspSingleResponse {
  readonly certId: OcspCertId
  readonly status: OcspCertStatus
  readonly thisUpdate: Date
  /** Absent when the responder always has newer information. */
  readonly nextUpdate: Date | undefined
}

/** A BasicOCSPResponse, with the exact bytes its signature covers. */
export interface BasicOcspResponse {
  /** DER of ResponseData. */
  readonly tbs: Uint8Array
  readonly signature: Uint8Array
  /** The signature algorithm, or undefined when confide does not accept it. */
  readonly signatureAlgorithm: SignatureAlgorithm | undefined
  /** ResponderID byName: the DER Name. */
  readonly responderName: Uint8Array | undefined
  /** ResponderID byKey: the SHA-1 hash of the responder's public key. */
  readonly responderKeyHash: Uint8Array | undefined
  readonly producedAt: Date
  readonly responses: readonly OcspSingleResponse[]
  /** The nonce extension of ResponseData, when present. */
  readonly nonce: Uint8Array | undefined
  /** DER certificates the responder sent, such as its own. */
  readonly certificates: readonly Uint8Array[]
}

/** A decoded OCSPResponse. `basic` is present only when the status is `successful`. */
export interface OcspResponse {
  readonly status: OcspResponseStatus
  readonly basic: BasicOcspResponse | undefined
}

function malformed(message: string, offset?: number): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `OCSP response: ${message}`, {
    structure: STRUCTURE,
    ...(offset === undefined ? {} : { offset }),
  })
}

function expect(element: DerElement | undefined, tag: number, field: string): DerElement {
  if (element === undefined) throw malformed(`${field} is missing`)
  if (element.tag !== tag) {
    throw malformed(`${field} has tag 0x${element.tag.toString(16)}`, element.start)
  }
  return element
}

const latin1 = new TextDecoder('latin1')

/** Decodes GeneralizedTime `YYYYMMDDHHMMSS[.fff]Z`. */
function decodeGeneralizedTime(
  der: Uint8Array,
  element: DerElement | undefined,
  field: string,
): Date {
  const text = latin1.decode(contentOf(der, expect(element, DER_GENERALIZED_TIME, field)))
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,9})?Z$/.exec(text)
  if (match === null) throw malformed(`${field} "${text}" is not a GeneralizedTime in UTC`)
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[]
  const millis = Math.floor(Number(match[7] ?? '0') * 1000)
  const date = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, millis))
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== day || second! > 59) {
    throw malformed(`${field} "${text}" is not a calendar date`)
  }

  return date
}

function decodeCertId(der: Uint8Array, element: DerElement | undefined): OcspCertId {
  const [algorithm, nameHash, keyHash, serial] = readChildren(
    der,
    expect(element, DER_SEQUENCE, 'CertID'),
    STRUCTURE,
  )
  const [oid] = readChildren(der, expect(algorithm, DER_SEQUENCE, 'hashAlgorithm'), STRUCTURE)

  return {
    hashAlgorithm: decodeOid(contentOf(der, expect(oid, DER_OID, 'hashAlgorithm')), STRUCTURE),
    issuerNameHash: contentOf(der, expect(nameHash, DER_OCTET_STRING, 'issuerNameHash')).slice(),
    issuerKeyHash: contentOf(der, expect(keyHash, DER_OCTET_STRING, 'issuerKeyHash')).slice(),
    serialNumber: serialToHex(contentOf(der, expect(serial, DER_INTEGER, 'serialNumber'))),
  }
}

function decodeCertStatus(der: Uint8Array, element: DerElement | undefined): OcspCertStatus {
  if (element === undefined) throw malformed('certStatus is missing')
  if (element.tag === STATUS_GOOD) return { kind: 'good' }
  if (element.tag === STATUS_UNKNOWN) return { kind: 'unknown' }
  if (element.tag !== STATUS_REVOKED) {
    throw malformed(`certStatus has tag 0x${element.tag.toString(16)}`, element.start)
  }
  const [time, reasonWrapper] = readChildren(der, element, STRUCTURE)
  let reason: number | undefined
  if (reasonWrapper !== undefined) {
    const [value] = readChildren(
      der,
      expect(reasonWrapper, DER_CONTEXT_0, 'revocationReason'),
      STRUCTURE,
    )
    reason = decodeUnsignedInteger(
      contentOf(der, expect(value, DER_ENUMERATED, 'CRLReason')),
      STRUCTURE,
    )
  }

  return {
    kind: 'revoked',
    revocationTime: decodeGeneralizedTime(der, time, 'revocationTime'),
    reason,
  }
}

function decodeSingleResponse(der: Uint8Array, element: DerElement): OcspSingleResponse {
  const [certId, status, thisUpdate, ...rest] = readChildren(
    der,
    expect(element, DER_SEQUENCE, 'SingleResponse'),
    STRUCTURE,
  )
  const next = rest.find((child) => child.tag === DER_CONTEXT_0)
  const [nextTime] = next === undefined ? [] : readChildren(der, next, STRUCTURE)

  return {
    certId: decodeCertId(der, certId),
    status: decodeCertStatus(der, status),
    thisUpdate: decodeGeneralizedTime(der, thisUpdate, 'thisUpdate'),
    nextUpdate: next === undefined ? undefined : decodeGeneralizedTime(der, nextTime, 'nextUpdate'),
  }
}

/** Returns the nonce of an Extensions SEQUENCE, unwrapping the OCTET STRING RFC 8954 adds. */
function decodeNonce(der: Uint8Array, extensions: DerElement): Uint8Array | undefined {
  for (const extension of readChildren(
    der,
    expect(extensions, DER_SEQUENCE, 'Extensions'),
    STRUCTURE,
  )) {
    const parts = readChildren(der, expect(extension, DER_SEQUENCE, 'Extension'), STRUCTURE)
    if (
      decodeOid(contentOf(der, expect(parts[0], DER_OID, 'extnID')), STRUCTURE) !== OID_OCSP_NONCE
    ) {
      continue
    }
    const value = contentOf(der, expect(parts[parts.length - 1], DER_OCTET_STRING, 'extnValue'))
    if (value[0] === DER_OCTET_STRING) {
      const inner = readElement(value, 0, STRUCTURE)
      if (inner.end === value.length) return contentOf(value, inner).slice()
    }
    return value.slice()
  }

  return undefined
}

function decodeResponseData(der: Uint8Array, element: DerElement) {
  const children = readChildren(der, expect(element, DER_SEQUENCE, 'ResponseData'), STRUCTURE)
  const fields = children[0]?.tag === DER_CONTEXT_0 ? children.slice(1) : children
  const [responder, producedAt, responses, extensions] = fields
  if (responder === undefined || (responder.tag !== CONTEXT_1 && responder.tag !== CONTEXT_2)) {
    throw malformed('responderID is neither byName [1] nor byKey [2]')
  }
  const [responderValue] = readChildren(der, responder, STRUCTURE)
  if (responderValue === undefined) throw malformed('responderID is empty')
  const single = readChildren(der, expect(responses, DER_SEQUENCE, 'responses'), STRUCTURE)
  let nonce: Uint8Array | undefined
  if (extensions !== undefined) {
    const [list] = readChildren(der, expect(extensions, CONTEXT_1, 'responseExtensions'), STRUCTURE)
    if (list === undefined) throw malformed('responseExtensions is empty')
    nonce = decodeNonce(der, list)
  }

  return {
    responderName: responder.tag === CONTEXT_1 ? elementBytes(der, responderValue) : undefined,
    responderKeyHash:
      responder.tag === CONTEXT_2
        ? contentOf(der, expect(responderValue, DER_OCTET_STRING, 'KeyHash')).slice()
        : undefined,
    producedAt: decodeGeneralizedTime(der, producedAt, 'producedAt'),
    responses: single.map((entry) => decodeSingleResponse(der, entry)),
    nonce,
  }
}

function decodeBasicResponse(der: Uint8Array): BasicOcspResponse {
  const outer = expect(readElement(der, 0, STRUCTURE), DER_SEQUENCE, 'BasicOCSPResponse')
  if (outer.end !== der.length) throw malformed('bytes follow BasicOCSPResponse', outer.end)
  const [data, algorithm, signature, certs] = readChildren(der, outer, STRUCTURE)
  const signatureBits = contentOf(der, expect(signature, DER_BIT_STRING, 'signature'))
  if (signatureBits[0] !== 0) throw malformed('signature BIT STRING has unused bits')
  const algorithmDer = elementBytes(der, expect(algorithm, DER_SEQUENCE, 'signatureAlgorithm'))
  const certificates: Uint8Array[] = []
  if (certs !== undefined) {
    const [list] = readChildren(der, expect(certs, DER_CONTEXT_0, 'certs'), STRUCTURE)
    for (const certificate of readChildren(der, expect(list, DER_SEQUENCE, 'certs'), STRUCTURE)) {
      certificates.push(elementBytes(der, certificate))
    }
  }
  const tbs = expect(data, DER_SEQUENCE, 'tbsResponseData')

  return {
    tbs: elementBytes(der, tbs),
    signature: signatureBits.slice(1),
    signatureAlgorithm: signatureAlgorithmOf(AsnConvert.parse(algorithmDer, AlgorithmIdentifier)),
    ...decodeResponseData(der, tbs),
    certificates,
  }
}

function decodeResponse(der: Uint8Array): OcspResponse {
  const outer = expect(readElement(der, 0, STRUCTURE), DER_SEQUENCE, 'OCSPResponse')
  if (outer.end !== der.length) throw malformed('bytes follow the OCSPResponse', outer.end)
  const [statusElement, bytesWrapper] = readChildren(der, outer, STRUCTURE)
  const code = decodeUnsignedInteger(
    contentOf(der, expect(statusElement, DER_ENUMERATED, 'responseStatus')),
    STRUCTURE,
  )
  const status = RESPONSE_STATUSES[code]
  if (status === undefined) throw malformed(`responseStatus ${code} is not defined`)
  if (status !== 'successful') return { status, basic: undefined }
  const [responseBytes] = readChildren(
    der,
    expect(bytesWrapper, DER_CONTEXT_0, 'responseBytes'),
    STRUCTURE,
  )
  const [type, response] = readChildren(
    der,
    expect(responseBytes, DER_SEQUENCE, 'ResponseBytes'),
    STRUCTURE,
  )
  const oid = decodeOid(contentOf(der, expect(type, DER_OID, 'responseType')), STRUCTURE)
  if (oid !== OID_OCSP_BASIC) throw malformed(`responseType ${oid} is not id-pkix-ocsp-basic`)

  return {
    status,
    basic: decodeBasicResponse(contentOf(der, expect(response, DER_OCTET_STRING, 'response'))),
  }
}

/**
 * Decodes a DER OCSPResponse. A successful one must carry a BasicOCSPResponse; other statuses
 * come back without one. Nothing is verified.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` or `ERR_PARSE_TRUNCATED` for bytes that are not an
 *   OCSPResponse.
 */
export function parseOcspResponse(der: Uint8Array): OcspResponse {
  try {
    return decodeResponse(der)
  } catch (error) {
    if (error instanceof ParseError) throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      `OCSP response: ${reason}`,
      { structure: STRUCTURE },
      { cause: error },
    )
  }
}
