/**
 * The HTTP client of every collateral service, against loopback servers the tests start:
 * statuses, retries, Retry-After, time limits, cut bodies, size limits, proxies and redirects.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Agent } from 'undici'
import { CollateralFetchError } from '../../src/collateral/fetch-error.js'
import {
  createHttpClient,
  type HttpClientOptions,
  proxyDispatcher,
  serviceUrl,
  USER_AGENT,
} from '../../src/collateral/http.js'
import {
  backoffDelay,
  isRetryableStatus,
  isRetryableTransportError,
  parseRetryAfter,
} from '../../src/collateral/retry.js'
import { type FakeReply, startFakeVendor } from './fake-vendor.js'

const dispatcher = new Agent()
after(() => dispatcher.close())

/** Fast settings: short waits so retries do not slow the suite. */
function client(options: HttpClientOptions = {}) {
  return createHttpClient({ dispatcher, retryDelayMs: 5, timeoutMs: 2_000, ...options })
}

async function failure(promise: Promise<unknown>): Promise<CollateralFetchError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof CollateralFetchError, `expected a CollateralFetchError: ${error}`)
    return error
  }
  assert.fail('the request succeeded')
}

/** Serves the replies in turn, repeating the last. */
function sequence(...replies: FakeReply[]) {
  let next = 0
  return () => replies[Math.min(next++, replies.length - 1)]
}

describe('createHttpClient', () => {
  it('returns the body byte for byte with a user agent', async () => {
    const body = new Uint8Array([0x7b, 0x00, 0xff, 0x0a, 0x20])
    const server = await startFakeVendor(() => ({ body }))
    try {
      const response = await client().get(`${server.url}/x`, 'application/json')
      assert.deepEqual(response.body, body)
      assert.equal(response.status, 200)
      assert.equal(server.requests[0]?.headers['user-agent'], USER_AGENT)
      assert.equal(server.requests[0]?.headers.accept, 'application/json')
    } finally {
      await server.close()
    }
  })

  it('does not retry a 404 and names the URL', async () => {
    const server = await startFakeVendor(() => undefined)
    try {
      const url = `${server.url}/sgx/certification/v4/tcb?fmspc=000000000000`
      const error = await failure(client().get(url))
      assert.equal(error.code, 'ERR_COLLATERAL_UNAVAILABLE')
      assert.equal(error.reason, 'status')
      assert.equal(error.status, 404)
      assert.equal(error.url, url)
      assert.equal(error.attempts, 1)
      assert.ok(error.message.includes(url))
      assert.equal(server.requests.length, 1)
    } finally {
      await server.close()
    }
  })

  it('reports the Error-Code and Request-ID headers of PCS', async () => {
    const headers = { 'Error-Code': 'InvalidParameter', 'Request-ID': 'abc123' }
    const server = await startFakeVendor(() => ({ status: 400, headers }))
    try {
      const error = await failure(client().get(`${server.url}/tcb`))
      assert.equal(error.status, 400)
      assert.match(error.message, /InvalidParameter/)
      assert.match(error.message, /abc123/)
    } finally {
      await server.close()
    }
  })

  it('retries server errors and then succeeds', async () => {
    const server = await startFakeVendor(sequence({ status: 503 }, { status: 500 }, { body: 'ok' }))
    try {
      const response = await client().get(`${server.url}/x`)
      assert.equal(new TextDecoder().decode(response.body), 'ok')
      assert.equal(server.requests.length, 3)
    } finally {
      await server.close()
    }
  })

  it('gives up after the last attempt', async () => {
    const server = await startFakeVendor(() => ({ status: 502 }))
    try {
      const error = await failure(client({ maxAttempts: 3 }).get(`${server.url}/x`))
      assert.equal(error.reason, 'status')
      assert.equal(error.status, 502)
      assert.equal(error.attempts, 3)
      assert.equal(server.requests.length, 3)
    } finally {
      await server.close()
    }
  })

  it('waits as long as Retry-After asks after a 429', async () => {
    const server = await startFakeVendor(
      sequence({ status: 429, headers: { 'Retry-After': '1' } }, { body: 'vcek' }),
    )
    try {
      const started = performance.now()
      const response = await client().get(`${server.url}/vcek/v1/Milan/00`)
      const waited = performance.now() - started
      assert.equal(new TextDecoder().decode(response.body), 'vcek')
      assert.equal(server.requests.length, 2)
      assert.ok(waited >= 990, `waited ${waited} ms`)
    } finally {
      await server.close()
    }
  })

  it('honours Retry-After given as an HTTP date', async () => {
    const date = new Date(Date.now() + 1_000).toUTCString()
    const server = await startFakeVendor(
      sequence({ status: 503, headers: { 'Retry-After': date } }, { body: 'ok' }),
    )
    try {
      await client().get(`${server.url}/x`)
      assert.equal(server.requests.length, 2)
    } finally {
      await server.close()
    }
  })

  it('fails at once when Retry-After exceeds the limit', async () => {
    const server = await startFakeVendor(() => ({ status: 429, headers: { 'Retry-After': '600' } }))
    try {
      const error = await failure(client({ maxRetryDelayMs: 10_000 }).get(`${server.url}/x`))
      assert.equal(error.reason, 'throttled')
      assert.equal(error.status, 429)
      assert.equal(error.attempts, 1)
      assert.match(error.message, /600 s/)
      assert.equal(server.requests.length, 1)
    } finally {
      await server.close()
    }
  })

  it('reports throttling when 429 persists', async () => {
    const server = await startFakeVendor(() => ({ status: 429, headers: { 'Retry-After': '0' } }))
    try {
      const error = await failure(client({ maxAttempts: 2 }).get(`${server.url}/x`))
      assert.equal(error.reason, 'throttled')
      assert.equal(error.attempts, 2)
    } finally {
      await server.close()
    }
  })

  it('times out a slow response and retries it', async () => {
    const server = await startFakeVendor(() => ({ body: 'late', delayMs: 1_000 }))
    try {
      const started = performance.now()
      const error = await failure(client({ timeoutMs: 100, maxAttempts: 2 }).get(`${server.url}/x`))
      assert.equal(error.reason, 'timeout')
      assert.equal(error.attempts, 2)
      assert.equal(server.requests.length, 2)
      assert.ok(performance.now() - started < 900, 'the time limit cut the wait short')
    } finally {
      await server.close()
    }
  })

  it('accepts a slow response within the time limit', async () => {
    const server = await startFakeVendor(() => ({ body: 'slow', delayMs: 150 }))
    try {
      const response = await client({ timeoutMs: 1_000 }).get(`${server.url}/x`)
      assert.equal(new TextDecoder().decode(response.body), 'slow')
    } finally {
      await server.close()
    }
  })

  it('retries a body cut short and then succeeds', async () => {
    const server = await startFakeVendor(
      sequence({ body: 'a'.repeat(1000), truncateAt: 10 }, { body: 'whole' }),
    )
    try {
      const response = await client().get(`${server.url}/x`)
      assert.equal(new TextDecoder().decode(response.body), 'whole')
      assert.equal(server.requests.length, 2)
    } finally {
      await server.close()
    }
  })

  it('reports a body that is always cut short', async () => {
    const server = await startFakeVendor(() => ({ body: 'a'.repeat(1000), truncateAt: 10 }))
    try {
      const error = await failure(client({ maxAttempts: 2 }).get(`${server.url}/x`))
      assert.equal(error.reason, 'network')
      assert.equal(error.attempts, 2)
    } finally {
      await server.close()
    }
  })

  it('rejects a body over the size limit without retrying', async () => {
    const server = await startFakeVendor(() => ({ body: 'x'.repeat(5000) }))
    try {
      const error = await failure(client({ maxBodyBytes: 1000 }).get(`${server.url}/x`))
      assert.equal(error.reason, 'too-large')
      assert.equal(server.requests.length, 1)
    } finally {
      await server.close()
    }
  })

  it('reports a refused connection', async () => {
    const server = await startFakeVendor(() => ({ body: '' }))
    const url = `${server.url}/x`
    await server.close()
    const error = await failure(client({ maxAttempts: 2 }).get(url))
    assert.equal(error.reason, 'network')
    assert.equal(error.url, url)
    assert.match(error.message, /ECONNREFUSED/)
  })

  it('sends a POST body with its content type', async () => {
    const server = await startFakeVendor(() => ({ body: 'ok' }))
    try {
      const body = new Uint8Array([1, 2, 3])
      await client().send({
        url: `${server.url}/ocsp`,
        method: 'POST',
        body,
        contentType: 'application/ocsp-request',
      })
      assert.equal(server.requests[0]?.method, 'POST')
      assert.deepEqual(server.requests[0]?.body, body)
      assert.equal(server.requests[0]?.headers['content-type'], 'application/ocsp-request')
    } finally {
      await server.close()
    }
  })
})

describe('proxyDispatcher', () => {
  it('tunnels requests through HTTP_PROXY', async () => {
    // The "proxy" serves the tunneled request itself, so nothing leaves this machine.
    const proxy = await startFakeVendor(() => ({ body: 'from the proxy' }))
    const target = 'http://127.0.0.1:9/sgx/certification/v4/qe/identity'
    const viaProxy = proxyDispatcher({ HTTP_PROXY: proxy.url })
    try {
      const http = createHttpClient({ dispatcher: viaProxy, timeoutMs: 2_000, maxAttempts: 1 })
      const response = await http.get(target)
      assert.equal(new TextDecoder().decode(response.body), 'from the proxy')
      assert.equal(proxy.requests[0]?.method, 'CONNECT')
      assert.equal(proxy.requests[0]?.target, '127.0.0.1:9')
      assert.equal(proxy.requests[1]?.target, '/sgx/certification/v4/qe/identity')
    } finally {
      await viaProxy.close()
      await proxy.close()
    }
  })

  it('bypasses the proxy for NO_PROXY hosts', async () => {
    const proxy = await startFakeVendor(() => ({ body: 'from the proxy' }))
    const origin = await startFakeVendor(() => ({ body: 'direct' }))
    const direct = proxyDispatcher({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' })
    try {
      const http = createHttpClient({ dispatcher: direct, timeoutMs: 2_000, maxAttempts: 1 })
      const response = await http.get(`${origin.url}/x`)
      assert.equal(new TextDecoder().decode(response.body), 'direct')
      assert.equal(proxy.requests.length, 0)
    } finally {
      await direct.close()
      await proxy.close()
      await origin.close()
    }
  })

  it('follows a redirect', async () => {
    const server = await startFakeVendor((url) =>
      url.pathname === '/old' ? { status: 302, headers: { location: '/new' } } : { body: 'moved' },
    )
    const redirecting = proxyDispatcher({})
    try {
      const response = await createHttpClient({ dispatcher: redirecting }).get(`${server.url}/old`)
      assert.equal(new TextDecoder().decode(response.body), 'moved')
    } finally {
      await redirecting.close()
      await server.close()
    }
  })
})

describe('serviceUrl', () => {
  it('drops trailing slashes', () => {
    assert.equal(serviceUrl('https://pccs.example:8081/', '--pccs'), 'https://pccs.example:8081')
  })

  it('rejects other schemes and relative URLs', () => {
    assert.throws(() => serviceUrl('ftp://pccs', '--pccs'), { code: 'ERR_CONFIG_INVALID' })
    assert.throws(() => serviceUrl('pccs:8081', '--pccs'), { code: 'ERR_CONFIG_INVALID' })
    assert.throws(() => serviceUrl('/pccs', '--pccs'), { code: 'ERR_CONFIG_INVALID' })
  })
})

describe('parseRetryAfter', () => {
  const now = new Date('2026-01-01T00:00:00Z')

  it('reads seconds', () => {
    assert.equal(parseRetryAfter('10', now), 10_000)
    assert.equal(parseRetryAfter(' 0 ', now), 0)
  })

  it('reads an HTTP date', () => {
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000)
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0)
  })

  it('ignores missing and unreadable values', () => {
    assert.equal(parseRetryAfter(undefined, now), undefined)
    assert.equal(parseRetryAfter('soon', now), undefined)
    assert.equal(parseRetryAfter('-5', now), undefined)
  })
})

describe('backoffDelay', () => {
  it('doubles from the base and stays under the cap', () => {
    assert.equal(
      backoffDelay(1, 100, 10_000, () => 0),
      100,
    )
    assert.equal(
      backoffDelay(3, 100, 10_000, () => 0),
      400,
    )
    assert.equal(
      backoffDelay(3, 100, 10_000, () => 1),
      500,
    )
    assert.equal(
      backoffDelay(20, 100, 10_000, () => 0.5),
      10_000,
    )
  })
})

describe('isRetryableStatus', () => {
  it('retries throttling and server errors only', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) assert.ok(isRetryableStatus(status))
    for (const status of [400, 401, 403, 404, 501]) assert.ok(!isRetryableStatus(status))
  })
})

describe('isRetryableTransportError', () => {
  it('retries all but unknown host names', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EAI_AGAIN', undefined]) {
      assert.ok(isRetryableTransportError(code), String(code))
    }
    assert.ok(!isRetryableTransportError('ENOTFOUND'))
  })
})
