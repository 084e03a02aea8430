/**
 * The Trustee KBS routes through `inject`: a full exchange with simulated evidence, release by
 * cookie and by bearer token, and the refusals, none of which releases anything.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  attestSim,
  base64Json,
  openResource,
  SIM_POLICY,
  sessionCookie,
  startTestService,
  type TestService,
} from './helpers.js'

const PROBLEM = 'https://github.com/confidential-containers/kbs/errors/'
const SECRET = 'the database password'

describe('KBS routes', () => {
  let service: TestService
  let auth: { authorization: string }
  before(async () => {
    service = await startTestService()
    auth = { authorization: `Bearer ${await service.adminToken()}` }
    const setup = [
      { url: '/kbs/v0/attestation-policy', payload: { policy: base64Json(SIM_POLICY) } },
      {
        url: '/kbs/v0/resource-policy',
        payload: { policy: base64Json(SIM_POLICY), resource: 'default/key/db' },
      },
      {
        url: '/kbs/v0/resource-policy',
        payload: {
          policy: base64Json({ id: 'tdx-only', platforms: ['tdx'] }),
          resource: 'default/key/tdx',
        },
      },
    ]
    for (const { url, payload } of setup) {
      const response = await service.app.inject({ method: 'POST', url, headers: auth, payload })
      assert.equal(response.statusCode, 200, response.body)
    }
    for (const tag of ['db', 'tdx', 'nopolicy']) {
      const response = await service.app.inject({
        method: 'POST',
        url: `/kbs/v0/resource/default/key/${tag}`,
        headers: { ...auth, 'content-type': 'text/plain' },
        payload: SECRET,
      })
      assert.equal(response.statusCode, 200, response.body)
    }
  })
  after(() => service.close())

  const get = (url: string, headers: Record<string, string> = {}) =>
    service.app.inject({ method: 'GET', url, headers })

  it('releases a resource to the session cookie', async () => {
    const attested = await attestSim(service)
    const response = await get('/kbs/v0/resource/default/key/db', { cookie: attested.cookie })
    assert.equal(response.statusCode, 200)
    assert.equal(await openResource(response.json(), attested.teeKey), SECRET)
  })

  it('releases a resource to the bearer token', async () => {
    const attested = await attestSim(service)
    const response = await get('/kbs/v0/resource/default/key/db', {
      authorization: `Bearer ${attested.token}`,
    })
    assert.equal(response.statusCode, 200)
    assert.equal(await openResource(response.json(), attested.teeKey), SECRET)
  })

  it('sets the session cookie HttpOnly on /kbs/v0', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/auth',
      payload: { version: '0.4.0', tee: 'sim', 'extra-params': '' },
    })
    const header = String(response.headers['set-cookie'])
    assert.match(header, /^kbs-session-id=/)
    assert.match(header, /HttpOnly/)
    assert.match(header, /Path=\/kbs\/v0/)
    assert.equal(typeof (response.json() as { nonce: unknown }).nonce, 'string')
  })

  it('refuses a resource without credentials with 401', async () => {
    const response = await get('/kbs/v0/resource/default/key/db')
    assert.equal(response.statusCode, 401)
    assert.ok((response.json() as { type: string }).type.startsWith(PROBLEM))
  })

  it('refuses an unattested session with 401', async () => {
    const authResponse = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/auth',
      payload: { version: '0.4.0', tee: 'sim', 'extra-params': '' },
    })
    const cookie = sessionCookie(authResponse.headers['set-cookie'])
    const response = await get('/kbs/v0/resource/default/key/db', { cookie })
    assert.equal(response.statusCode, 401)
  })

  it('refuses a resource whose policy is not met with 403', async () => {
    const attested = await attestSim(service)
    const response = await get('/kbs/v0/resource/default/key/tdx', { cookie: attested.cookie })
    assert.equal(response.statusCode, 403)
    assert.equal((response.json() as { type: string }).type, `${PROBLEM}PolicyDeny`)
  })

  it('refuses a resource without a policy with 403', async () => {
    const attested = await attestSim(service)
    const response = await get('/kbs/v0/resource/default/key/nopolicy', { cookie: attested.cookie })
    assert.equal(response.statusCode, 403)
  })

  it('answers 404 for a missing resource', async () => {
    const attested = await attestSim(service)
    const response = await get('/kbs/v0/resource/default/key/absent', { cookie: attested.cookie })
    assert.equal(response.statusCode, 404)
  })

  for (const segment of [
    "x'%20OR%20'1'='1",
    '%27%3B%20DROP%20TABLE%20kbs_resource%3B--',
    '..',
    '%2e%2e',
  ]) {
    it(`finds nothing at the path segment ${segment}`, async () => {
      const attested = await attestSim(service)
      const response = await get(`/kbs/v0/resource/default/key/${segment}`, {
        cookie: attested.cookie,
      })
      assert.equal(response.statusCode, 404)
      assert.ok((response.json() as { type: string }).type.startsWith(PROBLEM))
    })
  }

  it('refuses a replayed attestation with 401', async () => {
    const authResponse = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/auth',
      payload: { version: '0.4.0', tee: 'sim', 'extra-params': '' },
    })
    const cookie = sessionCookie(authResponse.headers['set-cookie'])
    const attest = (payload: object) =>
      service.app.inject({ method: 'POST', url: '/kbs/v0/attest', headers: { cookie }, payload })
    const payload = {
      'runtime-data': {
        nonce: (authResponse.json() as { nonce: string }).nonce,
        'tee-pubkey': { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: 'AA', y: 'AA' },
      },
      'tee-evidence': { primary_evidence: {}, additional_evidence: '' },
    }
    const first = await attest(payload)
    assert.equal(first.statusCode, 401)
    const second = await attest(payload)
    assert.equal(second.statusCode, 401)
    assert.match((second.json() as { detail: string }).detail, /nonce|session/)
  })

  it('refuses attest without a session cookie with 401', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/attest',
      payload: { 'runtime-data': { nonce: 'n', 'tee-pubkey': {} }, 'tee-evidence': {} },
    })
    assert.equal(response.statusCode, 401)
    assert.equal((response.json() as { type: string }).type, `${PROBLEM}TokenNotFound`)
  })

  it('rejects a malformed Request with 400 in Trustee form', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/auth',
      payload: { tee: 'sim' },
    })
    assert.equal(response.statusCode, 400)
    const body = response.json() as { type: string; detail: string }
    assert.ok(body.type.startsWith(PROBLEM))
    assert.equal(typeof body.detail, 'string')
  })

  it('rejects an unknown TEE', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/auth',
      payload: { version: '0.4.0', tee: 'not-a-tee', 'extra-params': '' },
    })
    assert.ok(response.statusCode === 400 || response.statusCode === 401, response.body)
  })

  it('reads and deletes a resource policy', async () => {
    const read = await get('/kbs/v0/resource-policy?resource=default/key/db', auth)
    assert.equal(read.statusCode, 200)
    const { policy } = read.json() as { policy: string }
    assert.equal(JSON.parse(Buffer.from(policy, 'base64').toString()).id, SIM_POLICY.id)
    const missing = await get('/kbs/v0/resource-policy?resource=default/key/none', auth)
    assert.equal(missing.statusCode, 404)
    const removed = await service.app.inject({
      method: 'DELETE',
      url: '/kbs/v0/resource-policy?resource=default/key/tdx',
      headers: auth,
    })
    assert.equal(removed.statusCode, 200)
  })

  it('rejects a policy that is not a policy with 400', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/resource-policy',
      headers: auth,
      payload: { policy: Buffer.from('package policy\ndefault allow = true').toString('base64') },
    })
    assert.equal(response.statusCode, 400)
  })

  it('rejects an empty resource with 400', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/kbs/v0/resource/default/key/empty',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(0),
    })
    assert.equal(response.statusCode, 400)
  })

  it('deletes a resource, then answers 404', async () => {
    const url = '/kbs/v0/resource/default/key/nopolicy'
    const first = await service.app.inject({ method: 'DELETE', url, headers: auth })
    assert.equal(first.statusCode, 200)
    const second = await service.app.inject({ method: 'DELETE', url, headers: auth })
    assert.equal(second.statusCode, 404)
  })

  it('counts releases and refusals', async () => {
    const text = (await get('/metrics')).body
    assert.match(
      text,
      /confide_kbs_resource_requests_total\{decision="release",status="200"\} [1-9]/,
    )
    assert.match(
      text,
      /confide_kbs_resource_requests_total\{decision="refuse",status="403"\} [1-9]/,
    )
    assert.match(
      text,
      /confide_kbs_resource_requests_total\{decision="refuse",status="401"\} [1-9]/,
    )
  })
})
