/**
 * A test Intel DCAP world. It has an SGX root CA, a PCK Platform CA, PCK certificates carrying the
 * SGX extensions and a TCB signing certificate. It writes quotes (v3, v4 and v5 with SGX, TD 1.0
 * and TD 1.5 bodies) and collateral in Intel PCS form. Test-only: the private keys here protect
 * nothing, and the writers encode whatever field values they are given without judging them.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { concatBytes, encodePem, fromHex, toHex } from '../../src/core/bytes.js'
import { CollateralBundle } from '../../src/core/collateral-bundle.js'
import { type CrlSpec, type Issued, issue, issueCrl } from './fake-pki.js'

// ---------------------------------------------------------------------------------------------
// DER writer for the SGX extensions of a PCK certificate

const DER_INTEGER = 0x02
const DER_OCTET_STRING = 0x04
const DER_OID = 0x06
const DER_ENUMERATED = 0x0a
const DER_SEQUENCE = 0x30

function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length)
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), derLength(content.length), content)
}

function derOid(dotted: string): Uint8Array {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number)
  const out: number[] = []
  for (const arc of [first * 40 + second, ...rest]) {
    const chunk = [arc & 0x7f]
    for (let high = Math.floor(arc / 128); high > 0; high = Math.floor(high / 128)) {
      chunk.unshift(0x80 | (high & 0x7f))
    }
    out.push(...chunk)
  }
  return tlv(DER_OID, Uint8Array.from(out))
}

/** Encodes a non-negative integer as the minimal two's-complement content under `tag`. */
function derUnsigned(value: number, tag = DER_INTEGER): Uint8Array {
  const bytes: number[] = []
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) bytes.unshift(0)
  return tlv(tag, Uint8Array.from(bytes))
}

/** OIDs of Intel's SGX extensions, the arcs that parsePckExtensions reads. */
export const SGX_EXTENSIONS_OID = '1.2.840.113741.1.13.1'
const OID_PPID = `${SGX_EXTENSIONS_OID}.1`
const OID_TCB = `${SGX_EXTENSIONS_OID}.2`
const OID_PCE_ID = `${SGX_EXTENSIONS_OID}.3`
const OID_FMSPC = `${SGX_EXTENSIONS_OID}.4`
const OID_SGX_TYPE = `${SGX_EXTENSIONS_OID}.5`

/** The platform identity and TCB a test PCK certificate states. */
export interface PckSpec {
  /** FMSPC as hex. Default `TEST_FMSPC`. */
  readonly fmspc?: string
  /** PCE ID as hex. Default `0000`. */
  readonly pceId?: string
  /** SGX TCB components 1 to 16. Default `TEST_SGX_COMPONENTS`. */
  readonly sgxComponents?: readonly number[]
  /** Default `TEST_PCE_SVN`. */
  readonly pceSvn?: number
  /** Default: the 16 components as bytes. */
  readonly cpuSvn?: Uint8Array
  readonly ppid?: Uint8Array
  /** 0: Standard, 1: Scalable. Default 0. */
  readonly sgxType?: number
  /** Serial number under the PCK CA, for CRL tests. Default 4. */
  readonly serial?: number
  /** Default: 2020-01-01. */
  readonly notBefore?: Date
  /** Default: 2040-01-01. */
  readonly notAfter?: Date
}

export const TEST_FMSPC = '0a1b2c3d4e5f'
export const TEST_PCE_ID = '0000'
export const TEST_SGX_COMPONENTS: readonly number[] = [
  4, 4, 3, 3, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]
export const TEST_PCE_SVN = 13

/** Encodes the SGX extensions (the extnValue content of OID 1.2.840.113741.1.13.1). */
export function sgxExtensionsDer(spec: PckSpec = {}): Uint8Array {
  const components = spec.sgxComponents ?? TEST_SGX_COMPONENTS
  const entry = (oid: string, value: Uint8Array) =>
    tlv(DER_SEQUENCE, concatBytes(derOid(oid), value))
  const tcbEntries = [
    ...components.map((svn, i) => entry(`${OID_TCB}.${i + 1}`, derUnsigned(svn))),
    entry(`${OID_TCB}.17`, derUnsigned(spec.pceSvn ?? TEST_PCE_SVN)),
    entry(`${OID_TCB}.18`, tlv(DER_OCTET_STRING, spec.cpuSvn ?? Uint8Array.from(components))),
  ]
  return tlv(
    DER_SEQUENCE,
    concatBytes(
      entry(OID_PPID, tlv(DER_OCTET_STRING, spec.ppid ?? new Uint8Array(16).fill(0x99))),
      entry(OID_TCB, tlv(DER_SEQUENCE, concatBytes(...tcbEntries))),
      entry(OID_PCE_ID, tlv(DER_OCTET_STRING, fromHex(spec.pceId ?? TEST_PCE_ID))),
      entry(OID_FMSPC, tlv(DER_OCTET_STRING, fromHex(spec.fmspc ?? TEST_FMSPC))),
      entry(OID_SGX_TYPE, derUnsigned(spec.sgxType ?? 0, DER_ENUMERATED)),
    ),
  )
}

// ---------------------------------------------------------------------------------------------
// The test PKI

/** A test stand-in for Intel's SGX PKI. All keys are P-256. */
export interface TestIntelPki {
  readonly root: Issued
  /** Issues PCK certificates, serial 2 under the root. */
  readonly pckCa: Issued
  /** Signs TCB info and QE identity, serial 3 under the root. */
  readonly tcbSigning: Issued
}

/** Creates a root, a PCK Platform CA and a TCB signing certificate, valid 2020 to 2040. */
export function createTestIntelPki(rootName = 'Test SGX Root CA'): TestIntelPki {
  const root = issue({ commonName: rootName, isCa: true, serial: 1 })
  const pckCa = issue({ commonName: 'Test SGX PCK Platform CA', isCa: true, serial: 2 }, root)
  const tcbSigning = issue({ commonName: 'Test SGX TCB Signing', serial: 3 }, root)
  return { root, pckCa, tcbSigning }
}

/** Issues a PCK certificate under the PKI's PCK CA with the SGX extensions of `spec`. */
export function issuePck(pki: TestIntelPki, spec: PckSpec = {}): Issued {
  return issue(
    {
      commonName: 'Test SGX PCK Certificate',
      serial: spec.serial ?? 4,
      ...(spec.notBefore === undefined ? {} : { notBefore: spec.notBefore }),
      ...(spec.notAfter === undefined ? {} : { notAfter: spec.notAfter }),
      extensions: [{ oid: SGX_EXTENSIONS_OID, value: sgxExtensionsDer(spec) }],
    },
    pki.pckCa,
  )
}

/** Returns the chain a quote carries for `pck`, DER, leaf first: PCK, PCK CA, root. */
export function pckChainOf(pki: TestIntelPki, pck: Issued): Uint8Array[] {
  return [pck.der, pki.pckCa.der, pki.root.der]
}

/** Encodes DER certificates as one PEM text, in the given order. */
export function pemChain(certificates: readonly Uint8Array[]): string {
  return certificates.map((der) => encodePem('CERTIFICATE', der)).join('')
}

// ---------------------------------------------------------------------------------------------
// Quote writer

/** Field values of an SGX report body. Absent fields are zero. */
export interface SgxReportFields {
  readonly cpuSvn?: Uint8Array
  /** MISCSELECT as a number, written little-endian. */
  readonly miscSelect?: number
  readonly isvExtProdId?: Uint8Array
  readonly attributes?: Uint8Array
  readonly mrEnclave?: Uint8Array
  readonly mrSigner?: Uint8Array
  readonly configId?: Uint8Array
  readonly isvProdId?: number
  readonly isvSvn?: number
  readonly configSvn?: number
  readonly isvFamilyId?: Uint8Array
  /** Up to 64 bytes, zero-padded on the right. */
  readonly reportData?: Uint8Array
}

/** Field values of a TD report body. Absent fields are zero. */
export interface TdReportFields {
  readonly teeTcbSvn?: Uint8Array
  readonly mrSeam?: Uint8Array
  readonly mrSignerSeam?: Uint8Array
  readonly seamAttributes?: Uint8Array
  readonly tdAttributes?: Uint8Array
  readonly xfam?: Uint8Array
  readonly mrTd?: Uint8Array
  readonly mrConfigId?: Uint8Array
  readonly mrOwner?: Uint8Array
  readonly mrOwnerConfig?: Uint8Array
  readonly rtmrs?: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
  readonly reportData?: Uint8Array
  /** TD 1.5 only. */
  readonly teeTcbSvn2?: Uint8Array
  /** TD 1.5 only. */
  readonly mrServiceTd?: Uint8Array
}

/** Zero-pads `value` on the right to `size` bytes. A longer value is a mistake in the test. */
function fixed(value: Uint8Array | undefined, size: number): Uint8Array {
  const out = new Uint8Array(size)
  if (value === undefined) return out
  if (value.length > size) throw new RangeError(`${value.length} bytes do not fit in ${size}`)
  out.set(value)
  return out
}

function u16le(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff)
}

function u32le(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value >>> 0, true)
  return out
}

/** Writes the 384-byte SGX report body, in the order and sizes of sgx_report_body_t. */
export function writeSgxReportBody(fields: SgxReportFields = {}): Uint8Array {
  return concatBytes(
    fixed(fields.cpuSvn, 16),
    u32le(fields.miscSelect ?? 0),
    new Uint8Array(12),
    fixed(fields.isvExtProdId, 16),
    fixed(fields.attributes, 16),
    fixed(fields.mrEnclave, 32),
    new Uint8Array(32),
    fixed(fields.mrSigner, 32),
    new Uint8Array(32),
    fixed(fields.configId, 64),
    u16le(fields.isvProdId ?? 0),
    u16le(fields.isvSvn ?? 0),
    u16le(fields.configSvn ?? 0),
    new Uint8Array(42),
    fixed(fields.isvFamilyId, 16),
    fixed(fields.reportData, 64),
  )
}

/** Writes a TD report body: 584 bytes for TD 1.0, 648 for TD 1.5. */
export function writeTdReportBody(fields: TdReportFields, type: 'td10' | 'td15'): Uint8Array {
  const rtmrs = fields.rtmrs ?? []
  const td10 = concatBytes(
    fixed(fields.teeTcbSvn, 16),
    fixed(fields.mrSeam, 48),
    fixed(fields.mrSignerSeam, 48),
    fixed(fields.seamAttributes, 8),
    fixed(fields.tdAttributes, 8),
    fixed(fields.xfam, 8),
    fixed(fields.mrTd, 48),
    fixed(fields.mrConfigId, 48),
    fixed(fields.mrOwner, 48),
    fixed(fields.mrOwnerConfig, 48),
    fixed(rtmrs[0], 48),
    fixed(rtmrs[1], 48),
    fixed(rtmrs[2], 48),
    fixed(rtmrs[3], 48),
    fixed(fields.reportData, 64),
  )
  if (type === 'td10') return td10
  return concatBytes(td10, fixed(fields.teeTcbSvn2, 16), fixed(fields.mrServiceTd, 48))
}

/** The quoted enclave or TD. */
export type QuoteBodySpec =
  | { readonly type: 'sgx'; readonly fields?: SgxReportFields }
  | { readonly type: 'td10' | 'td15'; readonly fields?: TdReportFields }

export interface QuoteSpec {
  readonly version: 3 | 4 | 5
  readonly body: QuoteBodySpec
  /** The PCK certificate whose key signs the QE report. */
  readonly pck: Issued
  /** The PCK chain the quote carries, DER, leaf first (Intel's quotes carry all three). */
  readonly pckChain: readonly Uint8Array[]
  /**
   * The Quoting Enclave's report. Without `reportData` the writer binds the attestation key:
   * SHA-256(attestation key ‖ QE auth data) followed by 32 zero bytes.
   */
  readonly qeReport?: SgxReportFields
  readonly qeAuthData?: Uint8Array
  /** Signs the QE report in place of the PCK key. */
  readonly qeReportSigner?: KeyObject
  readonly qeSvn?: number
  readonly pceSvn?: number
  readonly qeVendorId?: Uint8Array
  readonly userData?: Uint8Array
}

const ATT_KEY_TYPE_ECDSA_P256 = 2
const TEE_TYPE_SGX = 0x00000000
const TEE_TYPE_TDX = 0x00000081
const V5_BODY_TYPE = { sgx: 1, td10: 2, td15: 3 } as const
const CERT_DATA_PCK_CHAIN = 5
const CERT_DATA_QE_REPORT = 6

/** Intel's QE vendor ID. */
export const INTEL_QE_VENDOR_ID = fromHex('939a7233f79c4ca9940a0db3957f0607')

/** Signs with ECDSA P-256 and SHA-256, returning raw r‖s as quotes and Intel's JSON carry it. */
export function signRaw(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }))
}

/** Returns the raw x‖y of a P-256 public key. */
function rawPublicKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' })
  return concatBytes(
    new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url')),
    new Uint8Array(Buffer.from(jwk.y ?? '', 'base64url')),
  )
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/** Prefixes data with a u16 type and a u32 size, as certification data is framed. */
function certificationData(type: number, data: Uint8Array): Uint8Array {
  return concatBytes(u16le(type), u32le(data.length), data)
}

/**
 * Writes a signed DCAP quote. A fresh attestation key signs the header and body, and the PCK key
 * signs the QE report, whose report data binds the attestation key and the QE auth data.
 */
export function writeQuote(spec: QuoteSpec): Uint8Array {
  const isSgx = spec.body.type === 'sgx'
  const header = concatBytes(
    u16le(spec.version),
    u16le(ATT_KEY_TYPE_ECDSA_P256),
    u32le(isSgx ? TEE_TYPE_SGX : TEE_TYPE_TDX),
    u16le(spec.qeSvn ?? 0),
    u16le(spec.pceSvn ?? TEST_PCE_SVN),
    fixed(spec.qeVendorId ?? INTEL_QE_VENDOR_ID, 16),
    fixed(spec.userData, 20),
  )
  const body =
    spec.body.type === 'sgx'
      ? writeSgxReportBody(spec.body.fields)
      : writeTdReportBody(spec.body.fields ?? {}, spec.body.type)
  const descriptor =
    spec.version === 5
      ? concatBytes(u16le(V5_BODY_TYPE[spec.body.type]), u32le(body.length))
      : new Uint8Array(0)
  const signed = concatBytes(header, descriptor, body)

  const attestation = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const attestationKey = rawPublicKey(attestation.publicKey)
  const qeAuthData = spec.qeAuthData ?? new Uint8Array(32).map((_, i) => i)
  const binding = concatBytes(sha256(concatBytes(attestationKey, qeAuthData)), new Uint8Array(32))
  const qeReport = writeSgxReportBody({ reportData: binding, ...spec.qeReport })
  const qeReportSignature = signRaw(spec.qeReportSigner ?? spec.pck.privateKey, qeReport)
  const chain = new TextEncoder().encode(pemChain(spec.pckChain))

  const qeSection = concatBytes(
    qeReport,
    qeReportSignature,
    u16le(qeAuthData.length),
    qeAuthData,
    certificationData(CERT_DATA_PCK_CHAIN, chain),
  )
  const signatureData = concatBytes(
    signRaw(attestation.privateKey, signed),
    attestationKey,
    spec.version === 3 ? qeSection : certificationData(CERT_DATA_QE_REPORT, qeSection),
  )
  return concatBytes(signed, u32le(signatureData.length), signatureData)
}

// ---------------------------------------------------------------------------------------------
// Collateral in Intel PCS form

/** One TCB level of TCB info, as Intel writes it. */
export interface TcbLevelJson {
  tcb: Record<string, unknown>
  tcbDate: string
  tcbStatus: string
  advisoryIDs?: string[]
}

export interface TdxModuleJson {
  mrsigner: string
  attributes: string
  attributesMask: string
}

export interface IsvSvnLevelJson {
  tcb: { isvsvn: number }
  tcbDate: string
  tcbStatus: string
  advisoryIDs?: string[]
}

export interface TdxModuleIdentityJson extends TdxModuleJson {
  id: string
  tcbLevels: IsvSvnLevelJson[]
}

/** The inner `tcbInfo` object, as Intel writes it. */
export interface TcbInfoJson {
  id?: string
  version: number
  issueDate: string
  nextUpdate: string
  fmspc: string
  pceId: string
  tcbType: number
  tcbEvaluationDataNumber: number
  tdxModule?: TdxModuleJson
  tdxModuleIdentities?: TdxModuleIdentityJson[]
  tcbLevels: TcbLevelJson[]
}

/** The inner `enclaveIdentity` object, as Intel writes it. */
export interface EnclaveIdentityJson {
  id: string
  version: number
  issueDate: string
  nextUpdate: string
  tcbEvaluationDataNumber: number
  miscselect: string
  miscselectMask: string
  attributes: string
  attributesMask: string
  mrsigner: string
  isvprodid: number
  tcbLevels: IsvSvnLevelJson[]
}

/** A TCB level in short form. */
export interface TcbLevelSpec {
  /** SGX components 1 to 16; missing ones are zero. */
  readonly sgx: readonly number[]
  readonly pceSvn: number
  /** TDX components 1 to 16 (TDX TCB info only); missing ones are zero. */
  readonly tdx?: readonly number[]
  readonly status: string
  readonly advisories?: readonly string[]
  readonly date?: string
}

function sixteen(values: readonly number[]): number[] {
  return Array.from({ length: 16 }, (_, i) => values[i] ?? 0)
}

/** Writes a TCB level in the form of TCB info `version`: 2 is SGX only, 3 is SGX or TDX. */
export function tcbLevelJson(spec: TcbLevelSpec, version = 3): TcbLevelJson {
  const tcb: Record<string, unknown> = {}
  if (version === 2) {
    sixteen(spec.sgx).forEach((svn, i) => {
      tcb[`sgxtcbcomp${String(i + 1).padStart(2, '0')}svn`] = svn
    })
    tcb.pcesvn = spec.pceSvn
  } else {
    tcb.sgxtcbcomponents = sixteen(spec.sgx).map((svn) => ({ svn }))
    tcb.pcesvn = spec.pceSvn
    if (spec.tdx !== undefined) tcb.tdxtcbcomponents = sixteen(spec.tdx).map((svn) => ({ svn }))
  }
  return {
    tcb,
    tcbDate: spec.date ?? '2029-06-01T00:00:00Z',
    tcbStatus: spec.status,
    ...(spec.advisories === undefined ? {} : { advisoryIDs: [...spec.advisories] }),
  }
}

/** An enclave or module identity level in short form. */
export interface IsvSvnLevelSpec {
  readonly isvSvn: number
  readonly status: string
  readonly advisories?: readonly string[]
}

export function isvSvnLevelJson(spec: IsvSvnLevelSpec): IsvSvnLevelJson {
  return {
    tcb: { isvsvn: spec.isvSvn },
    tcbDate: '2029-06-01T00:00:00Z',
    tcbStatus: spec.status,
    ...(spec.advisories === undefined ? {} : { advisoryIDs: [...spec.advisories] }),
  }
}

/** Default validity window of generated collateral. `TEST_AT` lies inside it. */
export const TEST_ISSUE_DATE = '2029-12-20T00:00:00Z'
export const TEST_NEXT_UPDATE = '2030-01-19T00:00:00Z'
/** A verification time inside every default validity window of this helper. */
export const TEST_AT = new Date('2030-01-01T00:00:00Z')

/** MRSIGNER of the TDX module in generated TDX TCB info and TD quotes (Intel's is all zeros). */
export const TEST_MRSIGNERSEAM = new Uint8Array(48)

/** Returns the TDX module entry of TCB info: MRSIGNER all zero, attributes zero under mask. */
export function tdxModuleJson(): TdxModuleJson {
  return {
    mrsigner: toHex(TEST_MRSIGNERSEAM),
    attributes: '0000000000000000',
    attributesMask: 'FFFFFFFFFFFFFFFF',
  }
}

/** Returns a TDX module identity `id` (such as `TDX_01`) with the given levels. */
export function tdxModuleIdentityJson(
  id: string,
  levels: readonly IsvSvnLevelSpec[],
): TdxModuleIdentityJson {
  return { id, ...tdxModuleJson(), tcbLevels: levels.map(isvSvnLevelJson) }
}

export interface TcbInfoSpec {
  readonly id: 'SGX' | 'TDX'
  /** 3 by default; 2 writes the SGX-only form without `id`. */
  readonly version?: 2 | 3
  readonly fmspc?: string
  readonly pceId?: string
  readonly issueDate?: string
  readonly nextUpdate?: string
  readonly levels: readonly TcbLevelSpec[]
  /** TDX only. Default: `tdxModuleJson()`, and `null` leaves it out. */
  readonly tdxModule?: TdxModuleJson | null
  /** TDX only. Default: none. */
  readonly tdxModuleIdentities?: readonly TdxModuleIdentityJson[]
}

/** Writes the inner `tcbInfo` object. */
export function tcbInfoJson(spec: TcbInfoSpec): TcbInfoJson {
  const version = spec.version ?? 3
  const tdx = spec.id === 'TDX'
  const tdxModule = spec.tdxModule === undefined ? tdxModuleJson() : spec.tdxModule
  return {
    ...(version === 2 ? {} : { id: spec.id }),
    version,
    issueDate: spec.issueDate ?? TEST_ISSUE_DATE,
    nextUpdate: spec.nextUpdate ?? TEST_NEXT_UPDATE,
    fmspc: spec.fmspc ?? TEST_FMSPC,
    pceId: spec.pceId ?? TEST_PCE_ID,
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    ...(tdx && tdxModule !== null ? { tdxModule } : {}),
    ...(tdx && spec.tdxModuleIdentities !== undefined
      ? { tdxModuleIdentities: [...spec.tdxModuleIdentities] }
      : {}),
    tcbLevels: spec.levels.map((level) => tcbLevelJson(level, version)),
  }
}

/** MRSIGNER of the test Quoting Enclaves. */
export const TEST_QE_MRSIGNER = new Uint8Array(32).fill(0xa5)
/** ATTRIBUTES of the test Quoting Enclaves, as Intel's: INIT and PROVISIONKEY, not DEBUG. */
export const TEST_QE_ATTRIBUTES = Uint8Array.of(0x11, ...new Uint8Array(15))
/** ISVPRODID of the QE (SGX) and of the TD QE (TDX), as Intel numbers them. */
export const TEST_QE_ISVPRODID = { QE: 1, TD_QE: 2 } as const
/** ISVSVN of the test Quoting Enclaves. */
export const TEST_QE_ISVSVN = 8

/** Returns the QE report fields that match `enclaveIdentityJson` for `id`. */
export function testQeReport(id: 'QE' | 'TD_QE'): SgxReportFields {
  return {
    attributes: TEST_QE_ATTRIBUTES,
    mrSigner: TEST_QE_MRSIGNER,
    isvProdId: TEST_QE_ISVPRODID[id],
    isvSvn: TEST_QE_ISVSVN,
  }
}

export interface EnclaveIdentitySpec {
  readonly id: 'QE' | 'TD_QE'
  /** Default: one UpToDate level at `TEST_QE_ISVSVN`. */
  readonly levels?: readonly IsvSvnLevelSpec[]
  readonly issueDate?: string
  readonly nextUpdate?: string
}

/**
 * Writes the inner `enclaveIdentity` object in Intel's form: ATTRIBUTES 0x11 under a mask that
 * ignores MODE64BIT (0xFB) and the XFRM half, MISCSELECT 0 under mask FFFFFFFF.
 */
export function enclaveIdentityJson(spec: EnclaveIdentitySpec): EnclaveIdentityJson {
  return {
    id: spec.id,
    version: 2,
    issueDate: spec.issueDate ?? TEST_ISSUE_DATE,
    nextUpdate: spec.nextUpdate ?? TEST_NEXT_UPDATE,
    tcbEvaluationDataNumber: 17,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: toHex(TEST_QE_ATTRIBUTES).toUpperCase(),
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: toHex(TEST_QE_MRSIGNER).toUpperCase(),
    isvprodid: TEST_QE_ISVPRODID[spec.id],
    tcbLevels: (spec.levels ?? [{ isvSvn: TEST_QE_ISVSVN, status: 'UpToDate' }]).map(
      isvSvnLevelJson,
    ),
  }
}

/**
 * Writes `{"<bodyKey>":<text>,"signature":"<hex>"}` with the signature over the exact bytes of
 * `text`, raw r‖s in hex, as Intel signs TCB info and enclave identities.
 */
export function signedJson(bodyKey: string, text: string, signer: KeyObject): Uint8Array {
  const signature = toHex(signRaw(signer, new TextEncoder().encode(text)))
  return new TextEncoder().encode(`{"${bodyKey}":${text},"signature":"${signature}"}`)
}

/** A CRL of the collateral, with the certificate that signs it when that is not its issuer. */
export interface CollateralCrlSpec extends CrlSpec {
  readonly signer?: Issued
}

export interface CollateralSpec {
  readonly tcbInfo: TcbInfoJson
  readonly qeIdentity: EnclaveIdentityJson
  /** Exact text of the signed `tcbInfo` object. Default: `JSON.stringify(tcbInfo)`. */
  readonly tcbInfoText?: string
  readonly qeIdentityText?: string
  /** Default: the TCB signing key. */
  readonly tcbInfoSigner?: KeyObject
  readonly qeIdentitySigner?: KeyObject
  /** DER, leaf first. Default: the TCB signing certificate and the root. */
  readonly tcbInfoIssuerChain?: readonly Uint8Array[]
  readonly qeIdentityIssuerChain?: readonly Uint8Array[]
  /** The PCK CRL, issued by the PCK CA unless `signer` is set. */
  readonly pckCrl?: CollateralCrlSpec
  /** The Root CA CRL, issued by the root unless `signer` is set. */
  readonly rootCaCrl?: CollateralCrlSpec
  /** File names to leave out of the bundle. */
  readonly omit?: readonly string[]
}

/** Issues a CRL in the name of `issuer`, signed by `spec.signer` (a forgery) or by the issuer. */
function crlAs(issuer: Issued, spec: CollateralCrlSpec = {}): Uint8Array {
  const signer = spec.signer ?? issuer
  return issueCrl({ ...signer, subject: issuer.subject }, spec)
}

/**
 * Writes the collateral files of a quote, named as in a collateral directory: `tcb_info.json`,
 * `qe_identity.json`, their issuer chains, `pck_crl.der` with its issuer chain, and
 * `root_ca_crl.der`.
 */
export function writeCollateralFiles(
  pki: TestIntelPki,
  spec: CollateralSpec,
): Map<string, Uint8Array> {
  const encoder = new TextEncoder()
  const signingChain = [pki.tcbSigning.der, pki.root.der]
  const files = new Map<string, Uint8Array>([
    [
      'tcb_info.json',
      signedJson(
        'tcbInfo',
        spec.tcbInfoText ?? JSON.stringify(spec.tcbInfo),
        spec.tcbInfoSigner ?? pki.tcbSigning.privateKey,
      ),
    ],
    [
      'tcb_info_issuer_chain.pem',
      encoder.encode(pemChain(spec.tcbInfoIssuerChain ?? signingChain)),
    ],
    [
      'qe_identity.json',
      signedJson(
        'enclaveIdentity',
        spec.qeIdentityText ?? JSON.stringify(spec.qeIdentity),
        spec.qeIdentitySigner ?? pki.tcbSigning.privateKey,
      ),
    ],
    [
      'qe_identity_issuer_chain.pem',
      encoder.encode(pemChain(spec.qeIdentityIssuerChain ?? signingChain)),
    ],
    ['pck_crl.der', crlAs(pki.pckCa, spec.pckCrl)],
    ['pck_crl_issuer_chain.pem', encoder.encode(pemChain([pki.pckCa.der, pki.root.der]))],
    ['root_ca_crl.der', crlAs(pki.root, spec.rootCaCrl)],
  ])
  for (const name of spec.omit ?? []) files.delete(name)
  return files
}

/** Writes the collateral of `writeCollateralFiles` as a bundle. */
export function writeCollateral(pki: TestIntelPki, spec: CollateralSpec): CollateralBundle {
  return new CollateralBundle(writeCollateralFiles(pki, spec))
}
