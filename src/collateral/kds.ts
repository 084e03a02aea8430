/**
 * Client of AMD's Key Distribution Service (KDS): the VCEK of a chip at a TCB, the ASK+ARK and
 * ASVK+ARK chains, and the ARK-signed CRL of each product. The URLs come from the SNP platform's
 * `kds*Url` functions, moved onto the configured base URL.
 *
 * KDS throttles clients (HTTP 429, about one VCEK per ten seconds per client). The HTTP client
 * waits for the time Retry-After requests, within its limit, and the cache keeps each VCEK until
 * it expires.
 *
 * @module
 */
import { decodePem } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import { type Certificate, parseCertificate } from '../pki/certificate.js'
import { type Crl, parseCrl } from '../pki/crl.js'
import { KDS_BASE_URL, kdsChainUrl, kdsCrlUrl, kdsVcekUrl } from '../platforms/snp/collateral.js'
import type { SnpReport } from '../platforms/snp/format.js'
import type { SnpProduct } from '../platforms/snp/product.js'
import { CollateralFetchError } from './fetch-error.js'
import type { HttpClient, HttpResponse } from './http.js'

export { KDS_BASE_URL }

/** The key kind whose chain or CRL is asked for. */
export type AmdKeyKind = 'vcek' | 'vlek'

/** A certificate as DER. */
export interface KdsCertificate {
  readonly url: string
  readonly der: Uint8Array
  readonly certificate: Certificate
}

/** A certificate chain as PEM text, intermediate first. */
export interface KdsChain {
  readonly url: string
  readonly pem: Uint8Array
  readonly certificates: readonly Certificate[]
}

/** A CRL as DER. */
export interface KdsCrl {
  readonly url: string
  readonly der: Uint8Array
  readonly crl: Crl
}

function malformed(response: HttpResponse, expected: string, error: unknown): CollateralFetchError {
  const reason = error instanceof Error ? error.message : String(error)
  return new CollateralFetchError(
    `GET ${response.url} returned a body that is not ${expected}: ${reason}`,
    { reason: 'malformed', url: response.url },
    { cause: error },
  )
}

/** Decodes a response as a DER or PEM value, turning parse errors into fetch errors. */
function decodeOrFail<T>(
  response: HttpResponse,
  expected: string,
  decode: (body: Uint8Array) => T,
): T {
  try {
    return decode(response.body)
  } catch (error) {
    if (error instanceof ParseError) throw malformed(response, expected, error)
    throw error
  }
}

function pemCertificates(body: Uint8Array): Certificate[] {
  return decodePem(new TextDecoder().decode(body))
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => parseCertificate(block.der))
}

/** Fetches SEV-SNP collateral from AMD KDS or a server with the same paths. */
export class KdsClient {
  readonly #http: HttpClient
  readonly baseUrl: string

  constructor(http: HttpClient, baseUrl: string = KDS_BASE_URL) {
    this.#http = http
    this.baseUrl = baseUrl
  }

  #rebase(url: string): string {
    return `${this.baseUrl}${url.slice(KDS_BASE_URL.length)}`
  }

  /** Returns the URL of the VCEK that signs `report`, or undefined when CHIP_ID is masked. */
  vcekUrl(report: SnpReport, product: SnpProduct): string | undefined {
    const url = kdsVcekUrl(report, product)
    return url === undefined ? undefined : this.#rebase(url)
  }

  /**
   * Fetches the VCEK of the chip and REPORTED_TCB of `report`, assuming it was made by `product`.
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE`; reason `unfetchable` when the
   *   report masks CHIP_ID, status 400 or 404 when KDS has no such chip under that product.
   */
  async vcek(report: SnpReport, product: SnpProduct): Promise<KdsCertificate> {
    const url = this.vcekUrl(report, product)
    if (url === undefined) {
      const message =
        'the report masks CHIP_ID (MASK_CHIP_KEY), so its VCEK cannot be requested from AMD KDS'
      throw new CollateralFetchError(message, { reason: 'unfetchable' })
    }
    const response = await this.#http.get(url, 'application/x-x509-ca-cert')
    const certificate = decodeOrFail(response, 'a VCEK certificate', (body) =>
      body[0] === 0x30 ? parseCertificate(body) : pemCertificates(body)[0],
    )
    if (certificate === undefined) {
      throw malformed(response, 'a VCEK certificate', new Error('no certificate in the body'))
    }

    return { url, der: certificate.der, certificate }
  }

  /**
   * Fetches the ASK+ARK (`vcek`) or ASVK+ARK (`vlek`) chain of a product.
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE`
   */
  async certChain(product: SnpProduct, key: AmdKeyKind): Promise<KdsChain> {
    const response = await this.#http.get(this.#rebase(kdsChainUrl(product, key)))
    const expected = `a PEM chain of two certificates (${key === 'vlek' ? 'ASVK' : 'ASK'} and ARK)`
    const certificates = decodeOrFail(response, expected, pemCertificates)
    if (certificates.length !== 2) {
      const count = new Error(`it contains ${certificates.length} certificates`)
      throw malformed(response, expected, count)
    }

    return { url: response.url, pem: response.body, certificates }
  }

  /**
   * Fetches the ARK-signed CRL of a product, which lists revoked ASKs and ASVKs.
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE`
   */
  async crl(product: SnpProduct, key: AmdKeyKind): Promise<KdsCrl> {
    const response = await this.#http.get(this.#rebase(kdsCrlUrl(product, key)))
    const crl = decodeOrFail(response, `the ${product} CRL`, parseCrl)

    return { url: response.url, der: crl.der, crl }
  }
}
