/**
 * Nitro evidence in each form it arrives in: raw COSE_Sign1 bytes, base64 text of them, or a
 * TLS certificate that carries them. Pure: no crypto, no I/O.
 *
 * @module
 */
import { decodePem, fromBase64 } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { type CarrierCertificate, carriedDocument } from './carrier.js'
import {
  type AttestationDocument,
  type CoseSign1,
  parseAttestationDocument,
  parseCoseSign1,
} from './format.js'
import {
  asciiText,
  isBase64Text,
  MAX_INPUT_SIZE,
  startsLikeCoseSign1,
  startsLikeDerCertificate,
} from './sniff.js'

/** The form a document arrived in: raw COSE_Sign1 bytes, base64 text, or a certificate. */
export type NitroInputForm = 'cose' | 'base64' | 'certificate'

/** A decoded Nitro attestation document, ready to verify. */
export interface NitroEvidence {
  readonly form: NitroInputForm
  readonly cose: CoseSign1
  readonly document: AttestationDocument
  /** `document.certificate`, decoded: the certificate whose key signed the document. */
  readonly signingCertificate: Certificate
  /** The certificate that carried the document, when it came in one. */
  readonly carrier: CarrierCertificate | undefined
}

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----'

function fromCose(
  bytes: Uint8Array,
  form: NitroInputForm,
  carrier: CarrierCertificate | undefined,
): NitroEvidence {
  const cose = parseCoseSign1(bytes)
  const document = parseAttestationDocument(cose.payload)

  return {
    form,
    cose,
    document,
    signingCertificate: parseCertificate(document.certificate),
    carrier,
  }
}

function fromCertificate(der: Uint8Array): NitroEvidence {
  const certificate = parseCertificate(der)
  const { cose, location } = carriedDocument(certificate)
  const carrier = {
    der: certificate.der,
    spki: certificate.spki,
    subject: certificate.subject,
    location,
  }

  return fromCose(cose, 'certificate', carrier)
}

function fromText(text: string): NitroEvidence {
  if (text.includes(PEM_CERTIFICATE)) {
    const block = decodePem(text).find((b) => b.label === 'CERTIFICATE')
    if (block === undefined) throw unrecognized('PEM text has no complete CERTIFICATE block')
    return fromCertificate(block.der)
  }
  const compact = text.replace(/\s+/g, '')
  if (!isBase64Text(compact)) throw unrecognized('text is neither base64 nor a PEM certificate')
  let decoded: Uint8Array
  try {
    decoded = fromBase64(compact)
  } catch (error) {
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      'base64 text could not be decoded',
      { structure: 'NitroEvidence' },
      { cause: error },
    )
  }
  if (!startsLikeCoseSign1(decoded)) throw unrecognized('base64 text does not hold a COSE_Sign1')

  return fromCose(decoded, 'base64', undefined)
}

const EXPECTED_FORMS =
  'expected a COSE_Sign1 attestation document, base64 text of one, or a certificate carrying one'

function unrecognized(reason: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `${reason}; ${EXPECTED_FORMS}`, {
    structure: 'NitroEvidence',
    offset: 0,
  })
}

/**
 * Decodes a Nitro attestation document from raw COSE_Sign1 bytes (tagged or not), from base64
 * text of them (standard or URL-safe, whitespace ignored), or from a DER or PEM certificate that
 * carries one (see carrier.ts). The COSE envelope, the payload's shape and the signing
 * certificate's DER are all checked; no signature is.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for input over 64 KiB; `ERR_PARSE_MALFORMED`,
 *   `ERR_PARSE_TRUNCATED` or `ERR_PARSE_CERTIFICATE` for input that is not a well-formed document.
 */
export function parseNitroEvidence(bytes: Uint8Array): NitroEvidence {
  if (bytes.length > MAX_INPUT_SIZE) {
    throw new ParseError(
      'ERR_PARSE_OVERSIZED',
      `input is ${bytes.length} bytes, more than ${MAX_INPUT_SIZE}`,
      { structure: 'NitroEvidence' },
    )
  }
  if (startsLikeCoseSign1(bytes)) return fromCose(bytes, 'cose', undefined)
  if (startsLikeDerCertificate(bytes)) return fromCertificate(bytes)
  const text = asciiText(bytes)
  if (text === undefined || text.trim() === '') throw unrecognized('input is not recognized')

  return fromText(text)
}
