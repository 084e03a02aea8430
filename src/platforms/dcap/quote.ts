/**
 * Decodes Intel DCAP quotes: v3 (SGX), v4 (SGX, TDX 1.0) and v5 (SGX, TD 1.0, TD 1.5), with
 * ECDSA P-256 attestation keys. The PCK certificate chain is certification data type 5, alone in
 * v3 and wrapped in type 6 (QE report certification data) in v4 and v5. Pure: no crypto, no I/O.
 *
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import { isAllZero } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import {
  fieldUint,
  QUOTE_HEADER,
  QUOTE_HEADER_SIZE,
  readLayout,
  SGX_REPORT_BODY,
  SGX_REPORT_BODY_SIZE,
  TD10_REPORT_BODY,
  TD10_REPORT_BODY_SIZE,
  TD15_REPORT_BODY,
  TD15_REPORT_BODY_SIZE,
} from './layout.js'

/** Largest quote accepted. Real quotes are about 5 KiB; some are zero-padded to 8000 bytes. */
export const MAX_QUOTE_SIZE = 64 * 1024

export const SUPPORTED_QUOTE_VERSIONS = [3, 4, 5] as const
export type QuoteVersion = (typeof SUPPORTED_QUOTE_VERSIONS)[number]

/** ATT_KEY_TYPE 2: ECDSA-256-with-P-256 curve. Type 3 (P-384) is defined but not produced. */
export const ATT_KEY_TYPE_ECDSA_P256 = 2

export const TEE_TYPE_SGX = 0x00000000
export const TEE_TYPE_TDX = 0x00000081

/** Body types of quote v5. */
const BODY_TYPE = { 1: 'sgx', 2: 'td10', 3: 'td15' } as const
const BODY_SIZE = {
  sgx: SGX_REPORT_BODY_SIZE,
  td10: TD10_REPORT_BODY_SIZE,
  td15: TD15_REPORT_BODY_SIZE,
} as const

/** Certification data types. */
export const CERT_DATA_PCK_CHAIN = 5
export const CERT_DATA_QE_REPORT = 6

const ECDSA_SIGNATURE_SIZE = 64
const ECDSA_PUBLIC_KEY_SIZE = 64

export type TeeType = 'SGX' | 'TDX'
export type BodyType = 'sgx' | 'td10' | 'td15'

export interface QuoteHeader {
  readonly version: QuoteVersion
  readonly attestationKeyType: number
  readonly teeType: TeeType
  readonly qeSvn: number
  readonly pceSvn: number
  readonly qeVendorId: Uint8Array
  readonly userData: Uint8Array
}

/** An SGX enclave report body (the quoted enclave's, or the QE's). */
export interface SgxReportBody {
  readonly type: 'sgx'
  readonly cpuSvn: Uint8Array
  /** MISCSELECT as its four bytes, little-endian as in the quote. */
  readonly miscSelect: Uint8Array
  readonly isvExtProdId: Uint8Array
  readonly attributes: Uint8Array
  readonly mrEnclave: Uint8Array
  readonly mrSigner: Uint8Array
  readonly configId: Uint8Array
  readonly isvProdId: number
  readonly isvSvn: number
  readonly configSvn: number
  readonly isvFamilyId: Uint8Array
  readonly reportData: Uint8Array
  /** The 384 bytes as they appear in the quote. */
  readonly bytes: Uint8Array
}

/** A TD report body, TDX 1.0 or 1.5. */
export interface TdReportBody {
  readonly type: 'td10' | 'td15'
  readonly teeTcbSvn: Uint8Array
  readonly mrSeam: Uint8Array
  readonly mrSignerSeam: Uint8Array
  readonly seamAttributes: Uint8Array
  readonly tdAttributes: Uint8Array
  readonly xfam: Uint8Array
  readonly mrTd: Uint8Array
  readonly mrConfigId: Uint8Array
  readonly mrOwner: Uint8Array
  readonly mrOwnerConfig: Uint8Array
  readonly rtmrs: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
  readonly reportData: Uint8Array
  /** TDX 1.5 only. */
  readonly teeTcbSvn2?: Uint8Array
  /** TDX 1.5 only. */
  readonly mrServiceTd?: Uint8Array
}

/** A decoded quote. Byte fields are copies of the input. */
export interface DcapQuote {
  readonly header: QuoteHeader
  readonly body: SgxReportBody | TdReportBody
  /** Header, the v5 body descriptor and the body: the bytes the attestation key signed. */
  readonly signedBytes: Uint8Array
  /** ECDSA signature over `signedBytes`, raw r‖s. */
  readonly signature: Uint8Array
  /** Attestation public key, raw x‖y. */
  readonly attestationKey: Uint8Array
  /** The Quoting Enclave's report, signed by the PCK key. */
  readonly qeReport: SgxReportBody
  /** ECDSA signature of the PCK key over the QE report, raw r‖s. */
  readonly qeReportSignature: Uint8Array
  readonly qeAuthData: Uint8Array
  /** Type of the outermost certification data: 5 in v3, 6 in v4 and v5. */
  readonly certificationDataType: number
  /** The PCK certificate chain as PEM text bytes, leaf first. */
  readonly pckChainPem: Uint8Array
  /** Bytes the structure occupies; anything after it is padding. */
  readonly length: number
}

function parseHeader(reader: ByteReader): QuoteHeader {
  const fields = readLayout(reader, QUOTE_HEADER)
  const version = fieldUint(fields.VERSION)
  if (!(SUPPORTED_QUOTE_VERSIONS as readonly number[]).includes(version)) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_VERSION',
      `quote version ${version} is not supported (3, 4 or 5)`,
      {
        structure: 'QuoteHeader',
        field: 'VERSION',
        offset: 0,
      },
    )
  }
  const attestationKeyType = fieldUint(fields.ATT_KEY_TYPE)
  if (attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_KEY_TYPE',
      `attestation key type ${attestationKeyType} is not supported (2: ECDSA P-256)`,
      { structure: 'QuoteHeader', field: 'ATT_KEY_TYPE', offset: 2 },
    )
  }
  const rawTeeType = fieldUint(fields.TEE_TYPE)
  let teeType: TeeType | undefined
  if (rawTeeType === TEE_TYPE_SGX) teeType = 'SGX'
  if (rawTeeType === TEE_TYPE_TDX) teeType = 'TDX'
  if (teeType === undefined || (version === 3 && teeType !== 'SGX')) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_TEE_TYPE',
      `TEE type 0x${rawTeeType.toString(16)} is not supported in a v${version} quote (0x0: SGX; 0x81: TDX in v4 and v5)`,
      { structure: 'QuoteHeader', field: 'TEE_TYPE', offset: 4 },
    )
  }
  return {
    version: version as QuoteVersion,
    attestationKeyType,
    teeType,
    qeSvn: fieldUint(fields.QE_SVN),
    pceSvn: fieldUint(fields.PCE_SVN),
    qeVendorId: fields.QE_VENDOR_ID,
    userData: fields.USER_DATA,
  }
}

function requireZero(bytes: Uint8Array, base: number, field: string, structure: string): void {
  if (!isAllZero(bytes)) {
    const offset = base + (SGX_REPORT_BODY.find((f) => f.name === field)?.offset ?? 0)
    throw new ParseError(
      'ERR_PARSE_RESERVED_NONZERO',
      `${structure} ${field} is reserved and must be zero`,
      {
        structure,
        field,
        offset,
      },
    )
  }
}

/** Reads an SGX report body (384 bytes). */
export function parseSgxReportBody(reader: ByteReader, structure = 'SgxReportBody'): SgxReportBody {
  const base = reader.absoluteOffset
  const raw = reader.bytes(SGX_REPORT_BODY_SIZE, structure)
  const sub = new ByteReader(raw, structure, base)
  const f = readLayout(sub, SGX_REPORT_BODY)
  for (const reserved of ['RESERVED1', 'RESERVED2', 'RESERVED3', 'RESERVED4'] as const) {
    requireZero(f[reserved], base, reserved, structure)
  }
  return {
    type: 'sgx',
    cpuSvn: f.CPUSVN,
    miscSelect: f.MISCSELECT,
    isvExtProdId: f.ISVEXTPRODID,
    attributes: f.ATTRIBUTES,
    mrEnclave: f.MRENCLAVE,
    mrSigner: f.MRSIGNER,
    configId: f.CONFIGID,
    isvProdId: fieldUint(f.ISVPRODID),
    isvSvn: fieldUint(f.ISVSVN),
    configSvn: fieldUint(f.CONFIGSVN),
    isvFamilyId: f.ISVFAMILYID,
    reportData: f.REPORTDATA,
    bytes: raw,
  }
}

function parseTdReportBody(reader: ByteReader, type: 'td10' | 'td15'): TdReportBody {
  const structure = type === 'td10' ? 'Td10ReportBody' : 'Td15ReportBody'
  const sub = reader.sub(BODY_SIZE[type], structure, structure)
  if (type === 'td10') {
    const f = readLayout(sub, TD10_REPORT_BODY)
    return tdBody(type, f)
  }
  const f = readLayout(sub, TD15_REPORT_BODY)
  return { ...tdBody(type, f), teeTcbSvn2: f.TEE_TCB_SVN_2, mrServiceTd: f.MRSERVICETD }
}

function tdBody(
  type: 'td10' | 'td15',
  f: Record<(typeof TD10_REPORT_BODY)[number]['name'], Uint8Array>,
): TdReportBody {
  return {
    type,
    teeTcbSvn: f.TEE_TCB_SVN,
    mrSeam: f.MRSEAM,
    mrSignerSeam: f.MRSIGNERSEAM,
    seamAttributes: f.SEAMATTRIBUTES,
    tdAttributes: f.TDATTRIBUTES,
    xfam: f.XFAM,
    mrTd: f.MRTD,
    mrConfigId: f.MRCONFIGID,
    mrOwner: f.MROWNER,
    mrOwnerConfig: f.MROWNERCONFIG,
    rtmrs: [f.RTMR0, f.RTMR1, f.RTMR2, f.RTMR3],
    reportData: f.REPORTDATA,
  }
}

/** Reads the body type: from the v5 descriptor, or from the TEE type in v3 and v4. */
function readBodyType(reader: ByteReader, header: QuoteHeader): BodyType {
  if (header.version !== 5) return header.teeType === 'SGX' ? 'sgx' : 'td10'

  const code = reader.u16le('BODY_TYPE')
  const type = BODY_TYPE[code as keyof typeof BODY_TYPE] as BodyType | undefined
  if (type === undefined) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_BODY_TYPE',
      `body type ${code} is not supported (1: SGX, 2: TD 1.0, 3: TD 1.5)`,
      {
        structure: 'QuoteBody',
        field: 'BODY_TYPE',
        offset: reader.absoluteOffset - 2,
      },
    )
  }
  if ((type === 'sgx') !== (header.teeType === 'SGX')) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_BODY_TYPE',
      `body type ${code} does not match TEE type ${header.teeType}`,
      {
        structure: 'QuoteBody',
        field: 'BODY_TYPE',
        offset: reader.absoluteOffset - 2,
      },
    )
  }
  const size = reader.u32le('BODY_SIZE')
  if (size !== BODY_SIZE[type]) {
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      `body size ${size} does not match body type ${code} (${BODY_SIZE[type]} bytes)`,
      {
        structure: 'QuoteBody',
        field: 'BODY_SIZE',
        offset: reader.absoluteOffset - 4,
      },
    )
  }
  return type
}

/** Reads certification data: a u16 type, a u32 size and that many bytes. */
function readCertificationData(
  reader: ByteReader,
  structure: string,
): { type: number; data: ByteReader } {
  const type = reader.u16le('CERTIFICATION_DATA_TYPE')
  const size = reader.u32le('CERTIFICATION_DATA_SIZE')
  if (size > reader.remaining) {
    throw new ParseError(
      'ERR_PARSE_TRUNCATED',
      `certification data claims ${size} bytes but ${reader.remaining} remain`,
      { structure, field: 'CERTIFICATION_DATA_SIZE', offset: reader.absoluteOffset - 4 },
    )
  }
  return { type, data: reader.sub(size, 'CERTIFICATION_DATA', structure) }
}

function unsupportedCertData(type: number, expected: number, reader: ByteReader): ParseError {
  return new ParseError(
    'ERR_PARSE_UNSUPPORTED_CERT_DATA_TYPE',
    `certification data type ${type} is not supported here (expected ${expected})`,
    {
      structure: 'CertificationData',
      field: 'CERTIFICATION_DATA_TYPE',
      offset: reader.absoluteOffset,
    },
  )
}

/** Reads QE report, QE report signature, QE authentication data, then a type 5 PCK chain. */
function readQeSection(reader: ByteReader): {
  qeReport: SgxReportBody
  qeReportSignature: Uint8Array
  qeAuthData: Uint8Array
  pckChainPem: Uint8Array
} {
  const qeReport = parseSgxReportBody(reader, 'QeReport')
  const qeReportSignature = reader.bytes(ECDSA_SIGNATURE_SIZE, 'QE_REPORT_SIGNATURE')
  const authSize = reader.u16le('QE_AUTH_DATA_SIZE')
  const qeAuthData = reader.bytes(authSize, 'QE_AUTH_DATA')
  const at = reader.absoluteOffset
  const chain = readCertificationData(reader, 'PckCertificationData')
  if (chain.type !== CERT_DATA_PCK_CHAIN) {
    throw new ParseError(
      'ERR_PARSE_UNSUPPORTED_CERT_DATA_TYPE',
      `certification data type ${chain.type} is not supported (5: PCK certificate chain)`,
      { structure: 'PckCertificationData', field: 'CERTIFICATION_DATA_TYPE', offset: at },
    )
  }
  return {
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChainPem: chain.data.bytes(chain.data.remaining, 'PCK_CERT_CHAIN'),
  }
}

/**
 * Decodes a DCAP quote. Reading follows the length fields, so padding after the quote is allowed
 * and reported as `length` < input size.
 *
 * @throws ParseError with `ERR_PARSE_TRUNCATED`, `ERR_PARSE_OVERSIZED`, `ERR_PARSE_MALFORMED`,
 *   `ERR_PARSE_RESERVED_NONZERO`, or `ERR_PARSE_UNSUPPORTED_*` for versions, TEE types, key types,
 *   body types and certification data types it does not know.
 */
export function parseQuote(bytes: Uint8Array): DcapQuote {
  if (bytes.length > MAX_QUOTE_SIZE) {
    throw new ParseError(
      'ERR_PARSE_OVERSIZED',
      `quote is ${bytes.length} bytes, more than the ${MAX_QUOTE_SIZE} accepted`,
      {
        structure: 'Quote',
        offset: 0,
      },
    )
  }
  const reader = new ByteReader(bytes, 'Quote')
  const header = parseHeader(reader.sub(QUOTE_HEADER_SIZE, 'HEADER', 'QuoteHeader'))
  const bodyType = readBodyType(reader, header)
  const body = bodyType === 'sgx' ? parseSgxReportBody(reader) : parseTdReportBody(reader, bodyType)
  const signedBytes = bytes.slice(0, reader.offset)

  const signatureDataSize = reader.u32le('QUOTE_SIGNATURE_DATA_LEN')
  if (signatureDataSize > reader.remaining) {
    throw reader.error(
      'ERR_PARSE_TRUNCATED',
      `signature data claims ${signatureDataSize} bytes but ${reader.remaining} remain`,
      'QUOTE_SIGNATURE_DATA_LEN',
    )
  }
  const data = reader.sub(signatureDataSize, 'QUOTE_SIGNATURE_DATA', 'QuoteSignatureData')
  const signature = data.bytes(ECDSA_SIGNATURE_SIZE, 'QUOTE_SIGNATURE')
  const attestationKey = data.bytes(ECDSA_PUBLIC_KEY_SIZE, 'ATTESTATION_KEY')

  let certificationDataType: number
  let section: ReturnType<typeof readQeSection>
  if (header.version === 3) {
    certificationDataType = CERT_DATA_PCK_CHAIN
    section = readQeSection(data)
  } else {
    const outer = readCertificationData(data, 'QuoteSignatureData')
    if (outer.type !== CERT_DATA_QE_REPORT)
      throw unsupportedCertData(outer.type, CERT_DATA_QE_REPORT, data)
    certificationDataType = outer.type
    section = readQeSection(outer.data)
    if (outer.data.remaining !== 0) {
      throw outer.data.error(
        'ERR_PARSE_MALFORMED',
        `QE report certification data has ${outer.data.remaining} unexplained bytes`,
      )
    }
  }
  if (data.remaining !== 0) {
    throw data.error(
      'ERR_PARSE_MALFORMED',
      `signature data has ${data.remaining} unexplained bytes`,
    )
  }

  return {
    header,
    body,
    signedBytes,
    signature,
    attestationKey,
    ...section,
    certificationDataType,
    length: reader.offset,
  }
}

/** Tells cheaply whether bytes start like a DCAP quote of the given TEE type. */
export function looksLikeQuote(bytes: Uint8Array, teeType: TeeType): boolean {
  if (bytes.length < QUOTE_HEADER_SIZE || bytes.length > MAX_QUOTE_SIZE) return false
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint16(0, true)
  if (!(SUPPORTED_QUOTE_VERSIONS as readonly number[]).includes(version)) return false
  if (view.getUint16(2, true) !== ATT_KEY_TYPE_ECDSA_P256) return false
  const tee = view.getUint32(4, true)
  return teeType === 'SGX' ? tee === TEE_TYPE_SGX : tee === TEE_TYPE_TDX && version >= 4
}
