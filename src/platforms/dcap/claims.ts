/**
 * Turns a decoded quote and its PCK certificate into normalized claims.
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { Claims, ClaimValue } from '../../core/types.js'
import type { PckExtensions } from './pck-extensions.js'
import type { DcapQuote, SgxReportBody, TdReportBody } from './quote.js'

/** ATTRIBUTES.DEBUG: bit 1 of the first byte of an SGX enclave's attributes. */
export const SGX_ATTRIBUTES_DEBUG = 0x02
/** TD_ATTRIBUTES.DEBUG: bit 0 of a TD's attributes. */
export const TD_ATTRIBUTES_DEBUG = 0x01

/** Tells whether the quoted enclave or TD runs in debug mode. */
export function isDebug(body: SgxReportBody | TdReportBody): boolean {
  if (body.type === 'sgx') return ((body.attributes[0] ?? 0) & SGX_ATTRIBUTES_DEBUG) !== 0
  return ((body.tdAttributes[0] ?? 0) & TD_ATTRIBUTES_DEBUG) !== 0
}

function miscSelectHex(bytes: Uint8Array): string {
  const value = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  return value.toString(16).padStart(8, '0')
}

function sgxClaims(body: SgxReportBody): Record<string, ClaimValue> {
  return {
    cpuSvn: toHex(body.cpuSvn),
    // As Intel's collateral writes it: the 32-bit value in hex, most significant digit first.
    miscSelect: miscSelectHex(body.miscSelect),
    isvExtProdId: toHex(body.isvExtProdId),
    attributes: toHex(body.attributes),
    mrEnclave: toHex(body.mrEnclave),
    mrSigner: toHex(body.mrSigner),
    configId: toHex(body.configId),
    isvProdId: body.isvProdId,
    isvSvn: body.isvSvn,
    configSvn: body.configSvn,
    isvFamilyId: toHex(body.isvFamilyId),
    reportData: toHex(body.reportData),
  }
}

function tdClaims(body: TdReportBody): Record<string, ClaimValue> {
  return {
    teeTcbSvn: toHex(body.teeTcbSvn),
    mrSeam: toHex(body.mrSeam),
    mrSignerSeam: toHex(body.mrSignerSeam),
    seamAttributes: toHex(body.seamAttributes),
    tdAttributes: toHex(body.tdAttributes),
    xfam: toHex(body.xfam),
    mrTd: toHex(body.mrTd),
    mrConfigId: toHex(body.mrConfigId),
    mrOwner: toHex(body.mrOwner),
    mrOwnerConfig: toHex(body.mrOwnerConfig),
    rtmr0: toHex(body.rtmrs[0]),
    rtmr1: toHex(body.rtmrs[1]),
    rtmr2: toHex(body.rtmrs[2]),
    rtmr3: toHex(body.rtmrs[3]),
    reportData: toHex(body.reportData),
    ...(body.teeTcbSvn2 === undefined ? {} : { teeTcbSvn2: toHex(body.teeTcbSvn2) }),
    ...(body.mrServiceTd === undefined ? {} : { mrServiceTd: toHex(body.mrServiceTd) }),
  }
}

/** Claims taken from the PCK certificate. */
export interface PckClaims {
  readonly extensions: PckExtensions
  /** Issuer of the PCK certificate, most specific name first (`CN=Intel SGX PCK Platform CA,...`). */
  readonly issuer: string
}

/**
 * Builds the claims of a quote. `measurement` is MRENCLAVE (SGX) or MRTD (TDX); `signer` is
 * MRSIGNER (SGX only); `platformId` is the FMSPC when the PCK certificate was readable.
 */
export function quoteClaims(
  platform: string,
  quote: DcapQuote,
  pck: PckClaims | undefined,
): Claims {
  const body = quote.body
  const raw: Record<string, ClaimValue> = {
    quoteVersion: quote.header.version,
    teeType: quote.header.teeType,
    bodyType: body.type,
    qeVendorId: toHex(quote.header.qeVendorId),
    qeSvn: quote.header.qeSvn,
    pceSvn: quote.header.pceSvn,
    ...(body.type === 'sgx' ? sgxClaims(body) : tdClaims(body)),
  }
  const tcb: Record<string, ClaimValue> = {}
  if (pck !== undefined) {
    const e = pck.extensions
    raw.fmspc = toHex(e.fmspc)
    raw.pceId = toHex(e.pceId)
    raw.pckCpuSvnComponents = [...e.cpuSvnComponents]
    raw.pckPceSvn = e.pceSvn
    raw.pckCpuSvn = toHex(e.cpuSvn)
    raw.pckIssuer = pck.issuer
    tcb.sgxComponents = [...e.cpuSvnComponents]
    tcb.pceSvn = e.pceSvn
  }
  if (body.type !== 'sgx') tcb.teeTcbSvn = toHex(body.teeTcbSvn)
  if (body.type === 'sgx') tcb.isvSvn = body.isvSvn

  return {
    platform,
    measurement: toHex(body.type === 'sgx' ? body.mrEnclave : body.mrTd),
    ...(body.type === 'sgx' ? { signer: toHex(body.mrSigner) } : {}),
    reportData: toHex(body.reportData),
    debug: isDebug(body),
    ...(pck === undefined ? {} : { platformId: toHex(pck.extensions.fmspc) }),
    tcb,
    raw,
  }
}
