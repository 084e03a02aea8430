/**
 * The Intel SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's
 * FMSPC, PCE ID and the TCB it was certified at. Layout from Intel's "SGX PCK Certificate and
 * Certificate Revocation List Profile Specification", section 1.5.
 *
 * @module
 */
import { ParseError } from '../../core/errors.js'
import { type Certificate, findExtension } from '../../pki/certificate.js'
import {
  contentOf,
  DER_INTEGER,
  DER_OCTET_STRING,
  DER_OID,
  DER_SEQUENCE,
  type DerElement,
  decodeOid,
  decodeUnsignedInteger,
  readChildren,
  readElement,
} from '../../pki/der.js'

export const SGX_EXTENSIONS_OID = '1.2.840.113741.1.13.1'
const PPID = `${SGX_EXTENSIONS_OID}.1`
const TCB = `${SGX_EXTENSIONS_OID}.2`
const PCESVN = `${TCB}.17`
const CPUSVN = `${TCB}.18`
const PCE_ID = `${SGX_EXTENSIONS_OID}.3`
const FMSPC = `${SGX_EXTENSIONS_OID}.4`
const SGX_TYPE = `${SGX_EXTENSIONS_OID}.5`

/** The TCB and platform identity a PCK certificate was issued for. */
export interface PckExtensions {
  readonly ppid: Uint8Array
  /** SGX TCB components 1 to 16, as indexes 0 to 15. */
  readonly cpuSvnComponents: readonly number[]
  readonly pceSvn: number
  readonly cpuSvn: Uint8Array
  readonly pceId: Uint8Array
  readonly fmspc: Uint8Array
  /** 0: Standard, 1: Scalable, 2: Scalable with integrity. */
  readonly sgxType: number
}

const STRUCTURE = 'PckSgxExtensions'

function fail(message: string): ParseError {
  return new ParseError('ERR_PARSE_CERTIFICATE', message, { structure: STRUCTURE })
}

/** Reads a SEQUENCE of `SEQUENCE { OID, value }` into a map from OID to the value element. */
function readOidMap(bytes: Uint8Array, parent: DerElement): Map<string, DerElement> {
  const map = new Map<string, DerElement>()
  for (const entry of readChildren(bytes, parent, STRUCTURE)) {
    if (entry.tag !== DER_SEQUENCE) throw fail('SGX extension entry is not a SEQUENCE')
    const [oidElement, value] = readChildren(bytes, entry, STRUCTURE)
    if (oidElement?.tag !== DER_OID || value === undefined)
      throw fail('SGX extension entry lacks an OID or a value')
    const oid = decodeOid(contentOf(bytes, oidElement), STRUCTURE)
    if (map.has(oid)) throw fail(`SGX extension ${oid} appears twice`)
    map.set(oid, value)
  }
  return map
}

function octets(
  bytes: Uint8Array,
  map: Map<string, DerElement>,
  oid: string,
  size: number,
  name: string,
): Uint8Array {
  const element = map.get(oid)
  if (element === undefined) throw fail(`SGX extensions lack ${name} (${oid})`)
  if (element.tag !== DER_OCTET_STRING || element.end - element.contentStart !== size) {
    throw fail(`SGX extension ${name} is not a ${size}-byte OCTET STRING`)
  }
  return bytes.slice(element.contentStart, element.end)
}

function integer(
  bytes: Uint8Array,
  map: Map<string, DerElement>,
  oid: string,
  name: string,
  tag = DER_INTEGER,
): number {
  const element = map.get(oid)
  if (element === undefined) throw fail(`SGX extensions lack ${name} (${oid})`)
  if (element.tag !== tag) throw fail(`SGX extension ${name} has tag 0x${element.tag.toString(16)}`)
  return decodeUnsignedInteger(contentOf(bytes, element), STRUCTURE)
}

/**
 * Decodes the SGX extensions of a PCK certificate.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE` when the extension is missing or malformed.
 */
export function parsePckExtensions(certificate: Certificate): PckExtensions {
  const extension = findExtension(certificate, SGX_EXTENSIONS_OID)
  if (extension === undefined)
    throw fail('certificate has no SGX extensions: it is not a PCK certificate')
  const bytes = new Uint8Array(extension.extnValue.buffer)
  try {
    const root = readElement(bytes, 0, STRUCTURE)
    if (root.tag !== DER_SEQUENCE || root.end !== bytes.length)
      throw fail('SGX extensions are not one SEQUENCE')
    const top = readOidMap(bytes, root)
    const tcbElement = top.get(TCB)
    if (tcbElement?.tag !== DER_SEQUENCE) throw fail('SGX extensions lack the TCB SEQUENCE')
    const tcb = readOidMap(bytes, tcbElement)

    const cpuSvnComponents: number[] = []
    for (let i = 1; i <= 16; i++) {
      cpuSvnComponents.push(
        integer(bytes, tcb, `${TCB}.${i}`, `SGX TCB COMP${String(i).padStart(2, '0')}_SVN`),
      )
    }
    return {
      ppid: octets(bytes, top, PPID, 16, 'PPID'),
      cpuSvnComponents,
      pceSvn: integer(bytes, tcb, PCESVN, 'PCESVN'),
      cpuSvn: octets(bytes, tcb, CPUSVN, 16, 'CPUSVN'),
      pceId: octets(bytes, top, PCE_ID, 2, 'PCE-ID'),
      fmspc: octets(bytes, top, FMSPC, 6, 'FMSPC'),
      sgxType: integer(bytes, top, SGX_TYPE, 'SGX Type', 0x0a),
    }
  } catch (error) {
    if (error instanceof ParseError && error.code === 'ERR_PARSE_CERTIFICATE') throw error
    throw fail(
      `SGX extensions are malformed: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}
