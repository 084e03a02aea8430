/**
 * Client of Intel's Provisioning Certification Service (PCS, API version 4) and of any PCCS, which
 * serves the same paths: TCB info and QE identity with their issuer chains, PCK CRLs and the Root
 * CA CRL. Signed JSON is kept exactly as received, because its signature covers those bytes.
 *
 * @see Intel, "Intel SGX and Intel TDX Provisioning Certification Service for ECDSA Attestation,
 *   API version 4" (the v4 paths, parameters and issuer-chain headers used here).
 * @module
 */
import { toHex } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import { type Crl, parseCrl } from '../pki/crl.js'
import { decodeIssuerChainHeader, parseCertificateChain } from '../platforms/dcap/collateral.js'
import { parseQeIdentity } from '../platforms/dcap/qe-identity.js'
import { parseTcbInfo } from '../platforms/dcap/tcb-info.js'
import { CollateralFetchError } from './fetch-error.js'
import type { HttpClient, HttpResponse } from './http.js'

/** Base URL of Intel's PCS. */
export const INTEL_PCS_URL = 'https://api.trustedservices.intel.com'
/** URL of the CRL of the Intel SGX Root CA (the root certificate's CRL distribution point). */
export const INTEL_ROOT_CA_CRL_URL =
  'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der'

/** A TEE whose collateral PCS serves under its own path prefix. */
export type IntelTee = 'sgx' | 'tdx'
/** The CA that issued a PCK certificate, and so the CRL that covers it. */
export type PckCa = 'processor' | 'platform'

/** Returns the PCK CA a certificate or CRL issuer name denotes, or undefined for another CA. */
export function pckCaOf(issuer: string): PckCa | undefined {
  if (/PCK Processor CA/.test(issuer)) return 'processor'
  if (/PCK Platform CA/.test(issuer)) return 'platform'
  return undefined
}

/** Endpoints of the PCS client. */
export interface PcsEndpoints {
  /** Base of the `/sgx/certification/v4/...` and `/tdx/certification/v4/...` paths. */
  readonly baseUrl: string
  /** Full URL of the Root CA CRL. */
  readonly rootCaCrlUrl: string
}

/**
 * Returns the endpoints of Intel's PCS, or of the PCCS at `pccsUrl`. A PCCS serves the Root CA
 * CRL under `/sgx/certification/v4/rootcacrl`; Intel's PCS publishes it on another host.
 */
export function pcsEndpoints(pccsUrl?: string): PcsEndpoints {
  if (pccsUrl === undefined) return { baseUrl: INTEL_PCS_URL, rootCaCrlUrl: INTEL_ROOT_CA_CRL_URL }

  return { baseUrl: pccsUrl, rootCaCrlUrl: `${pccsUrl}/sgx/certification/v4/rootcacrl` }
}

/** A signed JSON document with its issuer chain. */
export interface PcsDocument {
  readonly url: string
  /** The response body exactly as received. */
  readonly body: Uint8Array
  /** PEM issuer chain, leaf first, URL-decoded from the response header. */
  readonly issuerChain: Uint8Array
  readonly nextUpdate: Date
}

/** A CRL as DER, with its issuer chain when the response carried one. */
export interface PcsCrl {
  readonly url: string
  readonly der: Uint8Array
  readonly issuerChain?: Uint8Array
  readonly crl: Crl
}

/** Issuer-chain headers by document. PCS v4 names TCB info's without the `SGX-` of v3 and PCCS. */
const CHAIN_HEADERS = {
  tcbInfo: ['tcb-info-issuer-chain', 'sgx-tcb-info-issuer-chain'],
  qeIdentity: ['sgx-enclave-identity-issuer-chain'],
  pckCrl: ['sgx-pck-crl-issuer-chain'],
} as const

function malformed(url: string, expected: string, error: unknown): CollateralFetchError {
  const reason = error instanceof Error ? error.message : String(error)
  return new CollateralFetchError(
    `GET ${url} returned a body that is not ${expected}: ${reason}`,
    { reason: 'malformed', url },
    { cause: error },
  )
}

/** Returns the decoded issuer chain of a response, checking that it contains certificates. */
function issuerChainOf(response: HttpResponse, names: readonly string[], what: string): Uint8Array {
  const name = names.find((candidate) => response.headers[candidate] !== undefined)
  const value = name === undefined ? undefined : response.headers[name]
  if (value === undefined) {
    const message = `GET ${response.url} returned ${what} without the ${names[0]} header`
    throw new CollateralFetchError(message, { reason: 'malformed', url: response.url })
  }
  try {
    const chain = decodeIssuerChainHeader(value)
    parseCertificateChain(chain, 'IssuerChain')
    return chain
  } catch (error) {
    throw malformed(response.url, `${what} with a PEM issuer chain in ${name}`, error)
  }
}

function decodeCrl(response: HttpResponse, what: string): Crl {
  try {
    return parseCrl(response.body)
  } catch (error) {
    if (error instanceof ParseError) throw malformed(response.url, what, error)
    throw error
  }
}

/** Fetches DCAP collateral from Intel PCS or a PCCS. */
export class PcsClient {
  readonly #http: HttpClient
  readonly endpoints: PcsEndpoints

  constructor(http: HttpClient, endpoints: PcsEndpoints = pcsEndpoints()) {
    this.#http = http
    this.endpoints = endpoints
  }

  tcbInfoUrl(tee: IntelTee, fmspc: Uint8Array): string {
    return `${this.endpoints.baseUrl}/${tee}/certification/v4/tcb?fmspc=${toHex(fmspc)}`
  }

  qeIdentityUrl(tee: IntelTee): string {
    return `${this.endpoints.baseUrl}/${tee}/certification/v4/qe/identity`
  }

  pckCrlUrl(ca: PckCa): string {
    return `${this.endpoints.baseUrl}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`
  }

  /**
   * Fetches the TCB info of an FMSPC and checks that it is for that FMSPC and TEE.
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE`. Status 404 means PCS has no
   *   TCB info for that FMSPC.
   */
  async tcbInfo(tee: IntelTee, fmspc: Uint8Array): Promise<PcsDocument> {
    const response = await this.#http.get(this.tcbInfoUrl(tee, fmspc), 'application/json')
    const what = `${tee.toUpperCase()} TCB info`
    let info: ReturnType<typeof parseTcbInfo>['tcbInfo']
    try {
      info = parseTcbInfo(response.body).tcbInfo
    } catch (error) {
      throw malformed(response.url, what, error)
    }
    if (info.id !== tee.toUpperCase() || toHex(info.fmspc) !== toHex(fmspc)) {
      const got = `${info.id} TCB info for FMSPC ${toHex(info.fmspc)}`
      const message = `GET ${response.url} returned ${got}, not ${what} for FMSPC ${toHex(fmspc)}`
      throw new CollateralFetchError(message, { reason: 'malformed', url: response.url })
    }
    const issuerChain = issuerChainOf(response, CHAIN_HEADERS.tcbInfo, what)

    return { url: response.url, body: response.body, issuerChain, nextUpdate: info.nextUpdate }
  }

  /**
   * Fetches the identity of the Quoting Enclave (`sgx`) or the TD Quoting Enclave (`tdx`).
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE`
   */
  async qeIdentity(tee: IntelTee): Promise<PcsDocument> {
    const response = await this.#http.get(this.qeIdentityUrl(tee), 'application/json')
    const what = tee === 'tdx' ? 'the TD QE identity' : 'the QE identity'
    let nextUpdate: Date
    try {
      nextUpdate = parseQeIdentity(response.body).qeIdentity.nextUpdate
    } catch (error) {
      throw malformed(response.url, what, error)
    }
    const issuerChain = issuerChainOf(response, CHAIN_HEADERS.qeIdentity, what)

    return { url: response.url, body: response.body, issuerChain, nextUpdate }
  }

  /**
   * Fetches the CRL of the PCK Processor or Platform CA as DER. PCS sends DER when asked, and
   * some PCCS versions send PEM or hex text, which is converted.
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE`
   */
  async pckCrl(ca: PckCa): Promise<PcsCrl> {
    const response = await this.#http.get(this.pckCrlUrl(ca))
    const what = `the PCK ${ca} CA CRL`
    const crl = decodeCrl(response, what)
    const issuerChain = issuerChainOf(response, CHAIN_HEADERS.pckCrl, what)

    return { url: response.url, der: crl.der, issuerChain, crl }
  }

  /**
   * Fetches the CRL of the Intel SGX Root CA, as DER (a PCCS sends it as hex text).
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE`
   */
  async rootCaCrl(): Promise<PcsCrl> {
    const response = await this.#http.get(this.endpoints.rootCaCrlUrl)
    const crl = decodeCrl(response, 'the Intel SGX Root CA CRL')

    return { url: response.url, der: crl.der, crl }
  }
}
