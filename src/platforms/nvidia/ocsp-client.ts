/**
 * An OCSP client. It POSTs a DER OCSPRequest to a responder, waits at most a set time, accepts
 * the response only after ocsp-validate.ts does, and keeps accepted responses until their
 * nextUpdate. It uses the `fetch` it is given (by default the global one) and contacts only the
 * responder URL configured by the caller or named in the certificate.
 *
 * Response freshness is judged at the client's own clock, not at a verification's `at`: a
 * responder reports the status now, so an old report verified later still gets today's status.
 *
 * @see RFC 6960, Appendix A.1 (OCSP over HTTP)
 * @module
 */
import { AsnConvert } from '@peculiar/asn1-schema'
import { AuthorityInfoAccessSyntax, id_pe_authorityInfoAccess } from '@peculiar/asn1-x509'
import { toHex } from '../../core/bytes.js'
import { VerificationCache } from '../../core/cache.js'
import { ParseError } from '../../core/errors.js'
import type { CryptoPort, DigestAlgorithm } from '../../crypto/port.js'
import { type Certificate, findExtension } from '../../pki/certificate.js'
import { type OcspCertId, type OcspSingleResponse, parseOcspResponse } from './ocsp.js'
import { createCertId, encodeOcspRequest } from './ocsp-request.js'
import { acceptOcspResponse } from './ocsp-validate.js'

/** The access method of an OCSP responder in authority information access. */
const ID_AD_OCSP = '1.3.6.1.5.5.7.48.1'
const NONCE_SIZE = 32
const DEFAULT_TIMEOUT_MS = 5000
const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000
const DEFAULT_MAX_ENTRIES = 1024
/** Largest response body read. Responses with a responder certificate are about 1 KiB. */
const DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024

/** The part of a fetch Response the client reads. */
export interface FetchResponseLike {
  readonly status: number
  readonly headers: { get(name: string): string | null }
  readonly body: ReadableStream<Uint8Array> | null
}

/** The part of `fetch` the client calls. */
export type FetchLike = (
  url: string,
  init: {
    readonly method: 'POST'
    readonly headers: Record<string, string>
    readonly body: Uint8Array
    readonly signal: AbortSignal
  },
) => Promise<FetchResponseLike>

export interface OcspClientOptions {
  /**
   * The responder to query for every certificate, replacing the one its authority information
   * access names. Absent: each certificate's own, and a certificate that names none is not
   * checked. NVIDIA's BROM certificates name none, so checking a whole GPU chain needs this set
   * (NVIDIA's verifier uses `NVIDIA_OCSP_URL`).
   */
  readonly responderUrl?: string
  /** How long to wait for one response, in milliseconds. Default: 5000. */
  readonly timeoutMs?: number
  /**
   * Send a nonce (a non-critical extension) and require the response to repeat it. Default: true.
   * NOTE: NVIDIA's responder has not been contacted from confide. NVIDIA's verifier marks its
   * nonce critical, so whether the responder repeats a non-critical one is unconfirmed.
   */
  readonly nonce?: boolean
  /** Hash of the CertID. Default: SHA-384, as NVIDIA's verifier sends. */
  readonly certIdHash?: DigestAlgorithm
  /** Tolerated clock difference with the responder, in milliseconds. Default: 5 minutes. */
  readonly clockSkewMs?: number
  /** Most accepted responses kept in memory. Default: 1024. */
  readonly maxEntries?: number
  /** Largest response body read, in bytes. Default: 64 KiB. */
  readonly maxResponseSize?: number
  /** The fetch to send requests with. Default: the global fetch. */
  readonly fetch?: FetchLike
  /** The clock that responses are judged at. Default: the system clock. */
  readonly now?: () => Date
}

/** The revocation status of one certificate, or why none could be had. */
export type OcspOutcome =
  | {
      readonly status: 'good'
      readonly url: string
      readonly signer: string
      readonly thisUpdate: Date
      readonly nextUpdate: Date | undefined
      /** Whether the status came from a response kept in memory rather than a new request. */
      readonly cached: boolean
    }
  | {
      readonly status: 'revoked'
      readonly url: string
      readonly revocationTime: Date
      readonly reason: number | undefined
      readonly cached: boolean
    }
  | { readonly status: 'unknown'; readonly url: string; readonly cached: boolean }
  /** The response was received but not accepted: wrong signer, certificate, nonce or time. */
  | { readonly status: 'rejected'; readonly url: string; readonly detail: string }
  /** No response could be had: no responder, a network error, a timeout, an error status. */
  | { readonly status: 'unavailable'; readonly url: string | undefined; readonly detail: string }

/** Asks OCSP responders about certificates. */
export interface OcspClient {
  /**
   * Returns the status of `certificate` as issued by `issuer`. Network failures, timeouts and
   * undecodable responses come back as `unavailable`, and responses that fail validation as
   * `rejected`, rather than as exceptions.
   */
  check(certificate: Certificate, issuer: Certificate, crypto: CryptoPort): Promise<OcspOutcome>
}

/** Returns the first http or https OCSP responder URL in a certificate's authority information access. */
export function ocspUrlOf(certificate: Certificate): string | undefined {
  const extension = findExtension(certificate, id_pe_authorityInfoAccess)
  if (extension === undefined) return undefined
  const access = AsnConvert.parse(extension.extnValue.buffer, AuthorityInfoAccessSyntax)
  for (const description of access) {
    const url = description.accessLocation.uniformResourceIdentifier
    if (description.accessMethod === ID_AD_OCSP && url !== undefined && /^https?:\/\//i.test(url)) {
      return url
    }
  }
  return undefined
}

function certIdKey(url: string, certId: OcspCertId): string {
  const hashes = `${toHex(certId.issuerNameHash)}:${toHex(certId.issuerKeyHash)}`
  return `${url} ${certId.hashAlgorithm}:${hashes}:${certId.serialNumber}`
}

/** Reads a body of at most `limit` bytes, or returns undefined when it is larger. */
async function readBody(
  response: FetchResponseLike,
  limit: number,
): Promise<Uint8Array | undefined> {
  const declared = Number(response.headers.get('content-length') ?? '0')
  if (declared > limit || response.body === null)
    return declared > limit ? undefined : new Uint8Array()
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.length
    if (total > limit) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  const body = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.length
  }
  return body
}

function describeError(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') {
    return `no response within ${timeoutMs} ms`
  }
  return `the request failed: ${error instanceof Error ? error.message : String(error)}`
}

/** A response accepted for a certificate, kept until its nextUpdate. */
interface AcceptedResponse {
  readonly single: OcspSingleResponse
  readonly signer: string
}

function outcomeOf(url: string, accepted: AcceptedResponse, cached: boolean): OcspOutcome {
  const { status, thisUpdate, nextUpdate } = accepted.single
  if (status.kind === 'good') {
    return { status: 'good', url, signer: accepted.signer, thisUpdate, nextUpdate, cached }
  }
  if (status.kind === 'revoked') {
    const { revocationTime, reason } = status
    return { status: 'revoked', url, revocationTime, reason, cached }
  }
  return { status: 'unknown', url, cached }
}

function unavailable(url: string | undefined, detail: string): OcspOutcome {
  return { status: 'unavailable', url, detail }
}

/** The client createOcspClient returns. */
class HttpOcspClient implements OcspClient {
  readonly #options: OcspClientOptions
  readonly #timeoutMs: number
  readonly #clockSkewMs: number
  readonly #now: () => Date
  readonly #send: FetchLike
  readonly #accepted = new Map<string, AcceptedResponse>()
  readonly #pending = new Map<string, Promise<OcspOutcome>>()
  readonly #signatures = new VerificationCache()

  constructor(options: OcspClientOptions) {
    this.#options = options
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.#clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS
    this.#now = options.now ?? (() => new Date())
    this.#send = options.fetch ?? ((url, init) => fetch(url, init))
  }

  async check(
    certificate: Certificate,
    issuer: Certificate,
    crypto: CryptoPort,
  ): Promise<OcspOutcome> {
    let url: string | undefined
    try {
      url = this.#options.responderUrl ?? ocspUrlOf(certificate)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const what = `the authority information access of "${certificate.commonName}"`
      return unavailable(undefined, `${what} could not be decoded: ${reason}`)
    }
    if (url === undefined) {
      const detail = `"${certificate.commonName}" names no OCSP responder and none was configured`
      return unavailable(undefined, detail)
    }
    const certId = await createCertId(
      certificate,
      issuer,
      crypto,
      this.#options.certIdHash ?? 'SHA-384',
    )
    const key = certIdKey(url, certId)
    const kept = this.#kept(key)
    if (kept !== undefined) return outcomeOf(url, kept, true)
    const inFlight = this.#pending.get(key)
    if (inFlight !== undefined) return inFlight
    const request = this.#request(url, key, certId, issuer, crypto).finally(() =>
      this.#pending.delete(key),
    )
    this.#pending.set(key, request)

    return request
  }

  /** Returns the accepted response kept under `key` while its nextUpdate has not passed. */
  #kept(key: string): AcceptedResponse | undefined {
    const accepted = this.#accepted.get(key)
    if (accepted === undefined) return undefined
    this.#accepted.delete(key)
    const nextUpdate = accepted.single.nextUpdate
    if (
      nextUpdate === undefined ||
      nextUpdate.getTime() + this.#clockSkewMs < this.#now().getTime()
    ) {
      return undefined
    }
    this.#accepted.set(key, accepted)

    return accepted
  }

  /** Keeps a response that has a nextUpdate, evicting the least recently used beyond the limit. */
  #keep(key: string, accepted: AcceptedResponse): void {
    if (accepted.single.nextUpdate === undefined) return
    this.#accepted.set(key, accepted)
    if (this.#accepted.size > (this.#options.maxEntries ?? DEFAULT_MAX_ENTRIES)) {
      const oldest = this.#accepted.keys().next().value
      if (oldest !== undefined) this.#accepted.delete(oldest)
    }
  }

  /** POSTs the request and returns the response body, or the reason there is none. */
  async #post(url: string, body: Uint8Array): Promise<Uint8Array | string> {
    const limit = this.#options.maxResponseSize ?? DEFAULT_MAX_RESPONSE_SIZE
    try {
      const response = await this.#send(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/ocsp-request',
          accept: 'application/ocsp-response',
        },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      if (response.status !== 200) {
        await response.body?.cancel()
        return `the responder returned HTTP ${response.status}`
      }
      const received = await readBody(response, limit)

      return received ?? `the response is larger than ${limit} bytes`
    } catch (error) {
      return describeError(error, this.#timeoutMs)
    }
  }

  async #request(
    url: string,
    key: string,
    certId: OcspCertId,
    issuer: Certificate,
    crypto: CryptoPort,
  ): Promise<OcspOutcome> {
    const nonce = (this.#options.nonce ?? true) ? crypto.randomBytes(NONCE_SIZE) : undefined
    const body = await this.#post(url, encodeOcspRequest(certId, nonce))
    if (typeof body === 'string') return unavailable(url, body)
    try {
      const decoded = parseOcspResponse(body)
      if (decoded.basic === undefined) {
        return unavailable(url, `the responder returned the status ${decoded.status}`)
      }
      const acceptance = await acceptOcspResponse(decoded.basic, {
        certId,
        issuer,
        nonce,
        now: this.#now(),
        clockSkewMs: this.#clockSkewMs,
        crypto,
        cache: this.#signatures,
      })
      if (!acceptance.ok) return { status: 'rejected', url, detail: acceptance.detail }
      const accepted = { single: acceptance.single, signer: acceptance.signer }
      this.#keep(key, accepted)

      return outcomeOf(url, accepted, false)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      return unavailable(url, `the response could not be decoded: ${error.message}`)
    }
  }
}

/**
 * Creates an OCSP client. It contacts only `options.responderUrl` or the http(s) responder a
 * certificate names, so a caller that must stay offline creates no client at all.
 */
export function createOcspClient(options: OcspClientOptions = {}): OcspClient {
  return new HttpOcspClient(options)
}
