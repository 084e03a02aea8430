/**
 * The firmware identity (FWID) that an NVIDIA GPU's signing certificate carries in the TCG DICE
 * extension 2.23.133.5.4.1. Hopper certificates encode it in the RIoT CompositeDeviceID shape,
 * `SEQUENCE { version INTEGER, deviceID SubjectPublicKeyInfo, fwid FWID }`. The TCG DICE
 * TcbInfo shape, whose FWIDs sit in the implicitly tagged field `[6] fwids`, is read as well.
 * `FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING }` in both. NVIDIA's
 * verifier compares this digest with the FWID field of the report's opaque data.
 *
 * @module
 */
import { ParseError } from '../../core/errors.js'
import type { Certificate } from '../../pki/certificate.js'
import { findExtension } from '../../pki/certificate.js'
import {
  contentOf,
  DER_INTEGER,
  DER_OCTET_STRING,
  DER_OID,
  DER_SEQUENCE,
  type DerElement,
  decodeOid,
  readChildren,
  readElement,
} from '../../pki/der.js'

/** OID of the TCG DICE extension that carries the FWID. */
export const TCG_DICE_FWID_OID = '2.23.133.5.4.1'

const STRUCTURE = 'DiceFwid'
/** Context tag [6], constructed: the `fwids` field of DiceTcbInfo. */
const FWIDS_TAG = 0xa6

/** One FWID: a digest of the firmware and its hash algorithm's OID. */
export interface Fwid {
  readonly hashAlgorithm: string
  readonly digest: Uint8Array
}

function malformed(message: string): ParseError {
  return new ParseError('ERR_PARSE_CERTIFICATE', `FWID extension: ${message}`, {
    structure: STRUCTURE,
  })
}

function readFwid(der: Uint8Array, element: DerElement): Fwid {
  if (element.tag !== DER_SEQUENCE) throw malformed('an FWID is not a SEQUENCE')
  const [algorithm, digest, extra] = readChildren(der, element, STRUCTURE)
  if (algorithm?.tag !== DER_OID || digest?.tag !== DER_OCTET_STRING || extra !== undefined) {
    throw malformed('an FWID is not { hashAlg OBJECT IDENTIFIER, digest OCTET STRING }')
  }

  return {
    hashAlgorithm: decodeOid(contentOf(der, algorithm), STRUCTURE),
    digest: contentOf(der, digest).slice(),
  }
}

/** Reads the FWIDs of either shape from the extension's value. */
function readFwids(der: Uint8Array): Fwid[] {
  const outer = readElement(der, 0, STRUCTURE)
  if (outer.tag !== DER_SEQUENCE || outer.end !== der.length) {
    throw malformed('the value is not one SEQUENCE')
  }
  const children = readChildren(der, outer, STRUCTURE)
  const list = children.find((child) => child.tag === FWIDS_TAG)
  if (list !== undefined) {
    return readChildren(der, list, STRUCTURE).map((fwid) => readFwid(der, fwid))
  }
  const [version, deviceId, fwid, extra] = children
  const composite =
    version?.tag === DER_INTEGER &&
    deviceId?.tag === DER_SEQUENCE &&
    fwid !== undefined &&
    extra === undefined
  if (!composite) throw malformed('the value is neither a CompositeDeviceID nor a DiceTcbInfo')

  return [readFwid(der, fwid)]
}

/**
 * Returns the FWIDs of a certificate's TCG DICE extension, or undefined when it has none.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE` when the extension is present but malformed.
 */
export function certificateFwids(certificate: Certificate): readonly Fwid[] | undefined {
  const extension = findExtension(certificate, TCG_DICE_FWID_OID)
  if (extension === undefined) return undefined
  try {
    return readFwids(new Uint8Array(extension.extnValue.buffer))
  } catch (error) {
    if (error instanceof ParseError && error.code === 'ERR_PARSE_CERTIFICATE') throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_CERTIFICATE',
      `FWID extension: ${reason}`,
      { structure: STRUCTURE },
      { cause: error },
    )
  }
}
