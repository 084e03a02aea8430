/**
 * Operations: health and readiness, metrics, the OpenAPI document at /docs, request IDs, and the
 * redaction of credentials in logs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLocalJWKSet, type JWK, jwtVerify } from 'jose'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { attestSim, base64Json, SIM_POLICY, startTestService } from './helpers.js'

describe('operations routes', () => {
  it('answers /healthz and /readyz', async () => {
    const service = await startTestService()
    try {
      const health = await service.app.inject({ method: 'GET', url: '/healthz' })
      assert.equal(health.statusCode, 200)
      const ready = await service.app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(ready.statusCode, 200)
      assert.deepEqual(ready.json(), { status: 'ready' })
    } finally {
      await service.close()
    }
  })

  it('answers /readyz with 503 when the store is closed', async () => {
    const service = await startTestService()
    await service.store.close()
    try {
      const ready = await service.app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(ready.statusCode, 503)
      const health = await service.app.inject({ method: 'GET', url: '/healthz' })
      assert.equal(health.statusCode, 200)
    } finally {
      await service.app.close()
    }
  })

  it('serves Prometheus metrics with latencies', async () => {
    const service = await startTestService()
    try {
      await service.app.inject({ method: 'GET', url: '/healthz' })
      const metrics = await service.app.inject({ method: 'GET', url: '/metrics' })
      assert.equal(metrics.statusCode, 200)
      assert.match(String(metrics.headers['content-type']), /^text\/plain/)
      assert.match(
        metrics.body,
        /confide_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} 1/,
      )
      assert.match(metrics.body, /# TYPE confide_verifications_total counter/)
      assert.match(metrics.body, /# TYPE confide_collateral_items_total counter/)
      assert.match(metrics.body, /process_cpu_user_seconds_total/)
    } finally {
      await service.close()
    }
  })

  it('answers unknown routes with 404', async () => {
    const service = await startTestService()
    try {
      const v1 = await service.app.inject({ method: 'GET', url: '/v1/nothing' })
      assert.equal(v1.statusCode, 404)
      const kbs = await service.app.inject({ method: 'GET', url: '/kbs/v0/nothing' })
      assert.equal(kbs.statusCode, 404)
      assert.match((kbs.json() as { type: string }).type, /InvalidRequestPath$/)
    } finally {
      await service.close()
    }
  })

  it('publishes every route in the OpenAPI document', async () => {
    const service = await startTestService()
    try {
      const page = await service.app.inject({ method: 'GET', url: '/docs' })
      assert.ok(page.statusCode === 200 || page.statusCode === 302, String(page.statusCode))
      const document = await service.app.inject({ method: 'GET', url: '/docs/json' })
      assert.equal(document.statusCode, 200)
      const spec = document.json() as {
        openapi: string
        paths: Record<string, Record<string, unknown>>
      }
      assert.match(spec.openapi, /^3\./)
      const expected: Record<string, string[]> = {
        '/v1/verify': ['post'],
        '/v1/appraise': ['post'],
        '/v1/admin/policies': ['get', 'post'],
        '/v1/admin/policies/{id}': ['get', 'put', 'delete'],
        '/v1/admin/reference-values': ['get', 'post'],
        '/v1/admin/reference-values/{id}': ['delete'],
        '/v1/admin/audit': ['get'],
        '/kbs/v0/auth': ['post'],
        '/kbs/v0/attest': ['post'],
        '/kbs/v0/resource/{repository}/{type}/{tag}': ['get', 'post', 'delete'],
        '/kbs/v0/resource-policy': ['get', 'post', 'delete'],
        '/kbs/v0/attestation-policy': ['post'],
        '/healthz': ['get'],
        '/readyz': ['get'],
        '/metrics': ['get'],
      }
      for (const [path, methods] of Object.entries(expected)) {
        for (const method of methods)
          assert.ok(spec.paths[path]?.[method] !== undefined, `${method} ${path} is documented`)
      }
      const verify = spec.paths['/v1/verify']?.post as {
        requestBody?: { content?: Record<string, { schema?: { required?: string[] } }> }
      }
      assert.deepEqual(verify.requestBody?.content?.['application/json']?.schema?.required, [
        'evidence',
      ])
    } finally {
      await service.close()
    }
  })
})

describe('request logs', () => {
  it('carry the request ID and echo it', async () => {
    const service = await startTestService({ captureLogs: true })
    try {
      const response = await service.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': 'trace-42' },
      })
      assert.equal(response.headers['x-request-id'], 'trace-42')
      const lines = service.logs.map((line) => JSON.parse(line) as { reqId?: string })
      assert.ok(lines.some((line) => line.reqId === 'trace-42'))
      const odd = await service.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': 'bad id\nwith newline' },
      })
      assert.match(String(odd.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    } finally {
      await service.close()
    }
  })

  it('never contain tokens, cookies or resources', async () => {
    const service = await startTestService({ captureLogs: true })
    try {
      const adminToken = await service.adminToken()
      const secret = 'resource-plaintext-7f3a'
      const auth = { authorization: `Bearer ${adminToken}` }
      await service.app.inject({
        method: 'POST',
        url: '/kbs/v0/attestation-policy',
        headers: auth,
        payload: { policy: base64Json(SIM_POLICY) },
      })
      await service.app.inject({
        method: 'POST',
        url: '/kbs/v0/resource-policy',
        headers: auth,
        payload: { policy: base64Json(SIM_POLICY) },
      })
      await service.app.inject({
        method: 'POST',
        url: '/kbs/v0/resource/default/key/logged',
        headers: { ...auth, 'content-type': 'text/plain' },
        payload: secret,
      })
      const attested = await attestSim(service)
      await service.app.inject({
        method: 'GET',
        url: '/kbs/v0/resource/default/key/logged',
        headers: { authorization: `Bearer ${attested.token}`, cookie: attested.cookie },
      })
      // A bad admin token is logged as rejected, without the token.
      await service.app.inject({
        method: 'GET',
        url: '/v1/admin/policies',
        headers: { authorization: 'Bearer not.a.token' },
      })
      const text = service.logs.join('\n')
      assert.ok(service.logs.length > 10)
      assert.ok(!text.includes(adminToken), 'admin token')
      assert.ok(!text.includes(attested.token), 'attestation token')
      assert.ok(!text.includes(attested.cookie.split('=')[1] ?? 'missing'), 'session cookie')
      assert.ok(!text.includes('not.a.token'), 'rejected token')
      assert.ok(!text.includes(secret), 'resource plaintext')
      assert.match(text, /"authorization":"\[Redacted\]"/)
      assert.match(text, /"cookie":"\[Redacted\]"/)
    } finally {
      await service.close()
    }
  })
})

describe('GET /v1/ear/jwks', () => {
  it('publishes the key that verifies EARs', async () => {
    const service = await startTestService()
    try {
      const jwks = await service.app.inject({ method: 'GET', url: '/v1/ear/jwks' })
      assert.equal(jwks.statusCode, 200)
      const { keys } = jwks.json() as { keys: JWK[] }
      assert.equal(keys.length, 1)
      const [key] = keys
      assert.equal(key?.kid, 'test-signer')
      assert.equal(key?.alg, 'ES256')
      assert.equal(key?.d, undefined)

      const evidence = simEvidence(service.simKey, { reportData: new Uint8Array([7]) })
      const verified = await service.app.inject({
        method: 'POST',
        url: '/v1/verify',
        payload: { evidence: Buffer.from(evidence).toString('base64') },
      })
      assert.equal(verified.statusCode, 200)
      const { ear } = verified.json() as { ear: string }
      const { protectedHeader } = await jwtVerify(ear, createLocalJWKSet({ keys }))
      assert.equal(protectedHeader.kid, 'test-signer')
    } finally {
      await service.close()
    }
  })
})
