/**
 * The workload side of Trustee's KBS protocol: auth → attest → resource. It attests with an
 * attester, and decrypts the released resource with a TEE key generated for this exchange only.
 *
 * @see Trustee `kbs/docs/kbs_attestation_protocol.md`
 * @module
 */
import { type CryptoKey, exportJWK, flattenedDecrypt, generateKeyPair } from 'jose'
import { Agent, type Dispatcher, fetch } from 'undici'
import type { Attester } from '../attest/attester.js'
import { toBase64 } from '../core/bytes.js'
import { ConfideError, ConfigError, type ErrorCode } from '../core/errors.js'
import { formatResourcePath, parseResourcePath } from './resource-path.js'
import { runtimeDataDigest } from './runtime-data.js'

/** Protocol version sent in the `Request`. */
export const KBS_CLIENT_PROTOCOL_VERSION = '0.4.0'

/** Name of the session cookie Trustee's KBS sets on `/auth`. */
const SESSION_COOKIE = 'kbs-session-id'

/**
 * Maximum response body accepted, in bytes. Challenges, tokens and wrapped secrets are far
 * smaller. Reading stops at the limit, so a hostile KBS cannot make the client buffer more.
 */
const MAX_BODY_SIZE = 4 * 1024 * 1024

/** Reads a response body as UTF-8 text, or returns undefined once it passes `limit` bytes. */
async function readBoundedText(
  response: Awaited<ReturnType<typeof fetch>>,
  limit: number,
): Promise<string | undefined> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }

  return new TextDecoder().decode(Buffer.concat(chunks))
}

/** Maximum length of a problem detail shown in an error message. */
const MAX_DETAIL_LENGTH = 500

/** Step of the exchange a request belongs to. */
export type KbsClientStep = 'auth' | 'attest' | 'resource'

/** A KBS exchange failed. The message shows the service's problem detail when it sent one. */
export class KbsClientError extends ConfideError {
  readonly step: KbsClientStep
  /** HTTP status, absent when no response came. */
  readonly status: number | undefined
  /** Last segment of the problem `type` URI (Trustee's error name, such as `PolicyDeny`). */
  readonly problemType: string | undefined
  readonly detail: string | undefined

  constructor(
    code: ErrorCode,
    message: string,
    fields: { step: KbsClientStep; status?: number; problemType?: string; detail?: string },
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
    this.step = fields.step
    this.status = fields.status
    this.problemType = fields.problemType
    this.detail = fields.detail
  }
}

/** Options of `kbsGetResource`. */
export interface KbsGetResourceOptions {
  /** Base URL of the KBS, such as `https://kbs.example:8080`. */
  readonly url: string
  /** Resource path `repository/type/tag`. */
  readonly path: string
  /** Produces the evidence that binds the challenge and the TEE key. */
  readonly attester: Attester
  /** TEE name sent in the `Request` (default: the attester's platform). */
  readonly tee?: string
  /** Algorithm of the TEE key (default `EC`, P-256 with ECDH-ES+A256KW; `RSA` is 2048-bit OAEP). */
  readonly keyType?: 'EC' | 'RSA'
  /** PEM certificates trusted for an https URL, replacing the system roots. */
  readonly ca?: string | readonly string[]
  /** Skip TLS certificate checks (default false). Only for a test KBS. */
  readonly insecure?: boolean
  /** Milliseconds each request may take (default 30 000). */
  readonly timeoutMs?: number
}

/** A released resource and what the exchange produced on the way. */
export interface KbsResource {
  readonly bytes: Uint8Array
  /** The attestation token the KBS returned for the session. */
  readonly token: string
}

interface TeeKey {
  readonly privateKey: CryptoKey
  readonly publicJwk: Record<string, string>
}

async function createTeeKey(keyType: 'EC' | 'RSA'): Promise<TeeKey> {
  if (keyType === 'RSA') {
    const { privateKey, publicKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048 })
    const jwk = await exportJWK(publicKey)
    return {
      privateKey,
      publicJwk: { kty: 'RSA', alg: 'RSA-OAEP-256', n: `${jwk.n}`, e: `${jwk.e}` },
    }
  }
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' })
  const jwk = await exportJWK(publicKey)
  const publicJwk = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: `${jwk.x}`, y: `${jwk.y}` }

  return { privateKey, publicJwk }
}

/**
 * Returns `primary_evidence` in the form the KBS reads for the TEE: simulated evidence as its JSON
 * object, TDX and SGX quotes as Trustee's `{"quote": base64}`, other evidence as base64 text.
 */
export function primaryEvidence(tee: string, evidence: Uint8Array): unknown {
  if (tee === 'sim') return JSON.parse(new TextDecoder().decode(evidence))
  if (tee === 'tdx' || tee === 'sgx') return { quote: toBase64(evidence) }

  return toBase64(evidence)
}

function dispatcherFor(options: KbsGetResourceOptions): Dispatcher | undefined {
  if (options.ca === undefined && options.insecure !== true) return undefined
  const ca = typeof options.ca === 'string' ? options.ca : options.ca?.join('\n')
  return new Agent({
    connect: {
      ...(ca === undefined ? {} : { ca }),
      ...(options.insecure === true ? { rejectUnauthorized: false } : {}),
    },
  })
}

function baseUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch (error) {
    throw new ConfigError('ERR_CONFIG_INVALID', `KBS URL ${text} is not a URL`, { cause: error })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('ERR_CONFIG_INVALID', `KBS URL ${text} is not http or https`)
  }

  return url.href.replace(/\/+$/, '')
}

/** Returns the error code for a failed step, from the HTTP status Trustee's KBS uses for it. */
function codeForStatus(status: number, step: KbsClientStep): ErrorCode {
  if (status === 401) return step === 'attest' ? 'ERR_KBS_ATTESTATION' : 'ERR_KBS_UNAUTHORIZED'
  if (status === 403) return 'ERR_KBS_DENIED'
  if (status === 404) return 'ERR_KBS_NOT_FOUND'

  return 'ERR_HTTP_REQUEST_FAILED'
}

/** Reads Trustee's `{type, detail}` problem body, when the body is one. */
function problemOf(text: string): { problemType?: string; detail?: string } {
  try {
    const body: unknown = JSON.parse(text)
    if (typeof body !== 'object' || body === null) return {}
    const { type, detail } = body as { type?: unknown; detail?: unknown }
    return {
      ...(typeof type === 'string' ? { problemType: type.split('/').pop() ?? type } : {}),
      ...(typeof detail === 'string' ? { detail: detail.slice(0, MAX_DETAIL_LENGTH) } : {}),
    }
  } catch {
    return text.length === 0 ? {} : { detail: text.slice(0, MAX_DETAIL_LENGTH) }
  }
}

interface Exchange {
  readonly base: string
  readonly dispatcher: Dispatcher | undefined
  readonly timeoutMs: number
  cookie: string | undefined
  /** The attestation token, sent as a bearer token when the KBS set no session cookie. */
  token: string | undefined
}

/** Sends one request and returns the body text of a 2xx response. */
async function send(
  exchange: Exchange,
  step: KbsClientStep,
  path: string,
  body?: unknown,
): Promise<string> {
  const url = `${exchange.base}${path}`
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (exchange.cookie !== undefined) headers.cookie = exchange.cookie
  else if (exchange.token !== undefined) headers.authorization = `Bearer ${exchange.token}`
  let response: Awaited<ReturnType<typeof fetch>>
  let text: string | undefined
  try {
    response = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      signal: AbortSignal.timeout(exchange.timeoutMs),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(exchange.dispatcher === undefined ? {} : { dispatcher: exchange.dispatcher }),
    })
    text = await readBoundedText(response, MAX_BODY_SIZE)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    const code = systemCode(error)
    throw new KbsClientError(
      'ERR_HTTP_REQUEST_FAILED',
      `KBS ${step} request to ${url} failed: ${code === undefined ? reason : `${reason} (${code})`}`,
      { step },
      { cause: error },
    )
  }
  if (text === undefined) {
    throw new KbsClientError(
      'ERR_HTTP_RESPONSE_INVALID',
      `KBS ${step} response from ${url} is over the maximum of ${MAX_BODY_SIZE} bytes`,
      { step, status: response.status },
    )
  }
  if (!response.ok) {
    const problem = problemOf(text)
    const named = problem.problemType === undefined ? '' : ` ${problem.problemType}`
    const detail = problem.detail === undefined ? '' : `: ${problem.detail}`
    throw new KbsClientError(
      codeForStatus(response.status, step),
      `KBS ${step} at ${url} failed with HTTP ${response.status}${named}${detail}`,
      { step, status: response.status, ...problem },
    )
  }
  const cookies = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]?.trim() ?? '')
    .filter((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
  if (cookies.length > 0) exchange.cookie = cookies.join('; ')

  return text
}

/** Returns the `cause.code` of a fetch failure (`ECONNREFUSED`, ...), or undefined. */
function systemCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.code
  return undefined
}

function parseJson(text: string, step: KbsClientStep): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
  } catch {
    // Reported below, with the step.
  }
  throw new KbsClientError(
    'ERR_HTTP_RESPONSE_INVALID',
    `KBS ${step} response is not a JSON object`,
    { step },
  )
}

function stringMember(object: Record<string, unknown>, name: string, step: KbsClientStep) {
  const value = object[name]
  if (typeof value !== 'string') {
    throw new KbsClientError(
      'ERR_HTTP_RESPONSE_INVALID',
      `KBS ${step} response has no string member ${name}`,
      { step },
    )
  }

  return value
}

async function decryptResource(text: string, key: TeeKey): Promise<Uint8Array> {
  const jwe = parseJson(text, 'resource')
  try {
    const { plaintext } = await flattenedDecrypt(
      {
        protected: stringMember(jwe, 'protected', 'resource'),
        encrypted_key: stringMember(jwe, 'encrypted_key', 'resource'),
        iv: stringMember(jwe, 'iv', 'resource'),
        ciphertext: stringMember(jwe, 'ciphertext', 'resource'),
        tag: stringMember(jwe, 'tag', 'resource'),
        ...(typeof jwe.aad === 'string' ? { aad: jwe.aad } : {}),
      },
      key.privateKey,
      {
        keyManagementAlgorithms: [key.publicJwk.alg ?? ''],
        contentEncryptionAlgorithms: ['A256GCM'],
      },
    )
    return plaintext
  } catch (error) {
    if (error instanceof KbsClientError) throw error
    throw new KbsClientError(
      'ERR_HTTP_RESPONSE_INVALID',
      'KBS resource does not decrypt with the TEE key of this exchange',
      { step: 'resource' },
      { cause: error },
    )
  }
}

/**
 * Fetches a resource from a KBS. Sends the `Request`, then attests to the challenge: the
 * evidence's report data starts with Trustee's runtime data digest of the challenge nonce and a
 * TEE key made for this call. Then gets the resource and decrypts its JWE with that key, which
 * never leaves memory.
 *
 * TLS: an https URL is checked against the system roots, or `ca` when given. Certificate checks
 * are off only with `insecure: true`.
 *
 * @throws KbsClientError `ERR_KBS_UNAUTHORIZED`, `ERR_KBS_ATTESTATION`, `ERR_KBS_DENIED` or
 *   `ERR_KBS_NOT_FOUND` when the KBS rejects a step (401, 403, 404), with its problem detail.
 *   `ERR_HTTP_REQUEST_FAILED` when the KBS cannot be reached or responds with another error
 *   status. `ERR_HTTP_RESPONSE_INVALID` for a malformed response or a resource that does not
 *   decrypt.
 * @throws AttestError as the attester throws it.
 * @throws ConfigError `ERR_CONFIG_INVALID` for a URL that is not http or https.
 * @throws KbsError `ERR_KBS_NOT_FOUND` for a resource path that is not `repository/type/tag`.
 */
export async function kbsGetResource(options: KbsGetResourceOptions): Promise<KbsResource> {
  const resource = formatResourcePath(parseResourcePath(options.path))
  const tee = options.tee ?? options.attester.platform
  const exchange: Exchange = {
    base: baseUrl(options.url),
    dispatcher: dispatcherFor(options),
    timeoutMs: options.timeoutMs ?? 30_000,
    cookie: undefined,
    token: undefined,
  }
  try {
    // 1. Request → Challenge, which sets the session cookie.
    const request = { version: KBS_CLIENT_PROTOCOL_VERSION, tee, 'extra-params': '' }
    const challenge = parseJson(await send(exchange, 'auth', '/kbs/v0/auth', request), 'auth')
    const nonce = stringMember(challenge, 'nonce', 'auth')

    // 2. Evidence whose report data binds the nonce and a TEE key made for this exchange.
    const key = await createTeeKey(options.keyType ?? 'EC')
    const runtime = { nonce, teePubkey: key.publicJwk, additionalEvidence: '' }
    const evidence = await options.attester.attest(runtimeDataDigest(runtime, tee))
    const attestation = {
      'runtime-data': { nonce, 'tee-pubkey': key.publicJwk },
      'tee-evidence': { primary_evidence: primaryEvidence(tee, evidence), additional_evidence: '' },
    }
    const attested = parseJson(
      await send(exchange, 'attest', '/kbs/v0/attest', attestation),
      'attest',
    )
    const token = stringMember(attested, 'token', 'attest')
    exchange.token = token

    // 3. The resource, encrypted to the TEE key.
    const sealed = await send(exchange, 'resource', `/kbs/v0/resource/${resource}`)

    return { bytes: await decryptResource(sealed, key), token }
  } finally {
    await exchange.dispatcher?.close()
  }
}
