/**
 * The HTTP client every collateral service uses: time limits, bounded retries that honour
 * Retry-After, a size limit, the proxy from the environment and a User-Agent. Node only.
 *
 * @module
 */
import { STATUS_CODES } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Dispatcher, EnvHttpProxyAgent, interceptors, request } from 'undici'
import { CollateralFetchError, type FetchFailureReason } from './fetch-error.js'
import {
  backoffDelay,
  isRetryableStatus,
  isRetryableTransportError,
  parseRetryAfter,
} from './retry.js'

/** User-Agent of every request, so service operators can tell confide's traffic apart. */
export const USER_AGENT = 'confide/0.1.0'

const DEFAULTS = {
  timeoutMs: 15_000,
  maxAttempts: 3,
  retryDelayMs: 1_000,
  maxRetryDelayMs: 60_000,
  // Collateral items are a few KiB (the largest file in the test corpus is 19 KiB), so 8 MiB
  // leaves room for CRLs that grow long without letting a broken server fill memory.
  maxBodyBytes: 8 * 1024 * 1024,
  maxRedirections: 3,
}

/** Options of an HTTP client. Every field has a default. */
export interface HttpClientOptions {
  /**
   * Sends the requests. Default: undici's EnvHttpProxyAgent, which reads HTTP_PROXY, HTTPS_PROXY
   * and NO_PROXY (or their lower-case forms), following up to 3 redirects.
   */
  readonly dispatcher?: Dispatcher
  readonly userAgent?: string
  /** Time for one attempt, from sending the request to the last body byte. Default: 15 s. */
  readonly timeoutMs?: number
  /** Attempts per request, the first included. Default: 3. */
  readonly maxAttempts?: number
  /** Wait before the first retry; it doubles for each further retry. Default: 1 s. */
  readonly retryDelayMs?: number
  /**
   * Maximum wait before a retry. A Retry-After asking for more fails the request at once
   * (reason `throttled`). Default: 60 s.
   */
  readonly maxRetryDelayMs?: number
  /** Largest response body. Default: 8 MiB. */
  readonly maxBodyBytes?: number
}

/** One request. */
export interface HttpRequest {
  readonly url: string
  /** Default: GET. POST is for services such as OCSP that take a request body. */
  readonly method?: 'GET' | 'POST'
  readonly accept?: string
  readonly body?: Uint8Array
  readonly contentType?: string
}

/** A 2xx response with its whole body. Header names are lower case. */
export interface HttpResponse {
  readonly url: string
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/** Sends requests with retries, and turns responses other than 2xx into errors. */
export interface HttpClient {
  /**
   * Sends a request and returns its 2xx response.
   *
   * @throws CollateralFetchError `ERR_COLLATERAL_UNAVAILABLE` naming the URL and the reason.
   */
  send(request: HttpRequest): Promise<HttpResponse>
  /** Sends a GET request; see `send`. */
  get(url: string, accept?: string): Promise<HttpResponse>
  /** Closes the connections of a dispatcher this client created. */
  close(): Promise<void>
}

/**
 * Creates the default dispatcher: the proxy settings of `env` (HTTP_PROXY, HTTPS_PROXY, NO_PROXY,
 * upper or lower case), with up to 3 redirects followed.
 */
export function proxyDispatcher(env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const agent = new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? '',
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? '',
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
  })
  return agent.compose(interceptors.redirect({ maxRedirections: DEFAULTS.maxRedirections }))
}

/** Reason one attempt failed, and whether and when to try again. */
interface AttemptFailure {
  readonly reason: FetchFailureReason
  readonly detail: string
  readonly status?: number
  readonly cause?: unknown
  readonly retry: boolean
  /** The wait a Retry-After header requested. */
  readonly retryAfterMs?: number
}

/** The outcome of one attempt: a response, or why there is none. */
type Attempt = { readonly response: HttpResponse } | { readonly failure: AttemptFailure }

/** Builds the error of a request whose last attempt failed. */
function fetchError(
  call: HttpRequest,
  failure: AttemptFailure,
  attempts: number,
  retryLimitMs: number | undefined,
): CollateralFetchError {
  let suffix = attempts > 1 ? ` (${attempts} attempts)` : ''
  if (failure.retryAfterMs !== undefined && retryLimitMs !== undefined) {
    const requested = Math.ceil(failure.retryAfterMs / 1000)
    const allowed = Math.floor(retryLimitMs / 1000)
    suffix = `; Retry-After requests a wait of ${requested} s, more than the ${allowed} s allowed`
  }
  const message = `${call.method ?? 'GET'} ${call.url} failed: ${failure.detail}${suffix}`
  const fields = {
    reason: retryLimitMs === undefined ? failure.reason : ('throttled' as const),
    url: call.url,
    attempts,
    ...(failure.status === undefined ? {} : { status: failure.status }),
  }
  return new CollateralFetchError(message, fields, { cause: failure.cause })
}

/** Describes a response other than 2xx, with PCS's Error-Code and Error-Message headers if sent. */
function statusDetail(status: number, headers: Readonly<Record<string, string>>): string {
  const text = `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd()
  const code = headers['error-code']
  const message = headers['error-message']
  const extra = [code, message].filter((part) => part !== undefined && part !== '').join(': ')
  const requestId = headers['request-id']
  return [
    text,
    extra === '' ? '' : ` (${extra})`,
    requestId ? ` [Request-ID ${requestId}]` : '',
  ].join('')
}

function flattenHeaders(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined)
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

/** Returns the system error code of a transport failure, such as ECONNREFUSED. */
function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const cause = error.cause as { code?: unknown } | undefined
  const code = (error as { code?: unknown }).code ?? cause?.code
  return typeof code === 'string' ? code : undefined
}

function networkDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = errorCode(error)
  return code === undefined ? error.message : `${error.message} (${code})`
}

/** Stops reading a body, ignoring the abort error undici raises for a destroyed body. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {})
  body.destroy()
}

export { serviceUrl } from './service-url.js'

/** Creates an HTTP client. Close it when done if it created its own dispatcher. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const settings = { ...DEFAULTS, ...options }
  const ownDispatcher = options.dispatcher === undefined
  const dispatcher = options.dispatcher ?? proxyDispatcher()
  const userAgent = options.userAgent ?? USER_AGENT

  async function readBody(body: Dispatcher.ResponseData['body']): Promise<Uint8Array | undefined> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > settings.maxBodyBytes) {
        discard(body)
        return undefined
      }
      chunks.push(chunk)
    }
    return new Uint8Array(Buffer.concat(chunks))
  }

  async function attempt(call: HttpRequest): Promise<Attempt> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), settings.timeoutMs)
    try {
      const headers: Record<string, string> = { 'user-agent': userAgent }
      if (call.accept !== undefined) headers.accept = call.accept
      if (call.contentType !== undefined) headers['content-type'] = call.contentType
      const response = await request(call.url, {
        method: call.method ?? 'GET',
        headers,
        ...(call.body === undefined ? {} : { body: call.body }),
        dispatcher,
        signal: controller.signal,
      })
      const responseHeaders = flattenHeaders(response.headers)
      const status = response.statusCode
      if (status < 200 || status > 299) {
        await response.body.dump()
        const retryAfterMs = parseRetryAfter(responseHeaders['retry-after'], new Date())
        const failure: AttemptFailure = {
          reason: status === 429 ? 'throttled' : 'status',
          detail: statusDetail(status, responseHeaders),
          status,
          retry: isRetryableStatus(status),
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        }
        return { failure }
      }

      const declared = Number(responseHeaders['content-length'] ?? Number.NaN)
      const body = declared > settings.maxBodyBytes ? undefined : await readBody(response.body)
      if (body === undefined) {
        if (declared > settings.maxBodyBytes) discard(response.body)
        const detail = `the response exceeds ${settings.maxBodyBytes} bytes`
        return { failure: { reason: 'too-large', detail, status, retry: false } }
      }
      return { response: { url: call.url, status, headers: responseHeaders, body } }
    } catch (error) {
      const timedOut = controller.signal.aborted
      const detail = timedOut
        ? `no complete response within ${settings.timeoutMs} ms`
        : networkDetail(error)
      const failure: AttemptFailure = {
        reason: timedOut ? 'timeout' : 'network',
        detail,
        cause: error,
        retry: timedOut || isRetryableTransportError(errorCode(error)),
      }
      return { failure }
    } finally {
      clearTimeout(timer)
    }
  }

  async function send(call: HttpRequest): Promise<HttpResponse> {
    for (let attempts = 1; ; attempts++) {
      const outcome = await attempt(call)
      if ('response' in outcome) return outcome.response

      const { failure } = outcome
      const waitTooLong =
        failure.retryAfterMs !== undefined && failure.retryAfterMs > settings.maxRetryDelayMs
      if (!failure.retry || attempts >= settings.maxAttempts || waitTooLong) {
        throw fetchError(
          call,
          failure,
          attempts,
          waitTooLong ? settings.maxRetryDelayMs : undefined,
        )
      }
      const backoff = backoffDelay(attempts, settings.retryDelayMs, settings.maxRetryDelayMs)
      await sleep(failure.retryAfterMs ?? backoff)
    }
  }

  return {
    send,
    get: (url, accept) => send({ url, ...(accept === undefined ? {} : { accept }) }),
    close: async () => {
      if (ownDispatcher) await dispatcher.close()
    },
  }
}
