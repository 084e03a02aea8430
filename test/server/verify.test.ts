/**
 * The verifier routes: `/v1/verify` and `/v1/appraise` with simulated evidence, their schema
 * errors, body size and rate limits, and the counters they move.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { SIM_POLICY, startTestService, type TestService } from './helpers.js'

function evidenceOf(service: TestService, reportData = new Uint8Array([1, 2, 3])): string {
  return Buffer.from(simEvidence(service.simKey, { reportData })).toString('base64')
}

/** Returns `ear.status` of the EAR's first submodule. */
function earStatus(ear: string): unknown {
  const claims = decodeJwt(ear) as { submods: Record<string, Record<string, unknown>> }
  return Object.values(claims.submods)[0]?.['ear.status']
}

describe('POST /v1/verify', () => {
  let service: TestService
  before(async () => {
    service = await startTestService()
  })
  after(() => service.close())

  async function verify(payload: unknown) {
    return service.app.inject({ method: 'POST', url: '/v1/verify', payload: payload as object })
  }

  it('returns the result and an EAR', async () => {
    const response = await verify({ evidence: evidenceOf(service) })
    assert.equal(response.statusCode, 200)
    const body = response.json() as { result: { verdict: string; platform: string }; ear: string }
    assert.equal(body.result.platform, 'sim')
    assert.equal(body.result.verdict, 'valid')
    // The default policy rejects simulated TEEs.
    assert.equal(earStatus(body.ear), 'contraindicated')
  })

  it('appraises against a stored policy', async () => {
    await service.app.inject({
      method: 'PUT',
      url: `/v1/admin/policies/${SIM_POLICY.id}`,
      headers: { authorization: `Bearer ${await service.adminToken()}` },
      payload: SIM_POLICY,
    })
    const response = await verify({ evidence: evidenceOf(service), policyId: SIM_POLICY.id })
    assert.equal(response.statusCode, 200)
    // A simulated TEE is at best a warning: its hardware claim proves nothing.
    assert.equal(earStatus((response.json() as { ear: string }).ear), 'warning')
  })

  it('judges report data against the expected value', async () => {
    const response = await verify({ evidence: evidenceOf(service), reportData: '0102ff' })
    assert.equal(response.statusCode, 200)
    assert.equal((response.json() as { result: { verdict: string } }).result.verdict, 'invalid')
  })

  it('rejects an unknown policy with 404', async () => {
    const response = await verify({ evidence: evidenceOf(service), policyId: 'no-such-policy' })
    assert.equal(response.statusCode, 404)
    assert.equal((response.json() as { code: string }).code, 'POLICY_NOT_FOUND')
  })

  it('treats an SQL-ish policy id as not found', async () => {
    const policyId = "x' OR '1'='1'; DROP TABLE policy; --"
    const response = await verify({ evidence: evidenceOf(service), policyId })
    assert.equal(response.statusCode, 404)
  })

  const invalidBodies: Array<[string, unknown]> = [
    ['no evidence', {}],
    ['evidence that is not base64', { evidence: 'not base64!' }],
    ['an unknown field', { evidence: 'AAAA', extra: true }],
    ['report data of odd length', { evidence: 'AAAA', reportData: 'abc' }],
    ['report data over 64 bytes', { evidence: 'AAAA', reportData: 'aa'.repeat(65) }],
    ['a collateral name with ..', { evidence: 'AAAA', collateral: { '../x': 'AAAA' } }],
    ['a platform in capitals', { evidence: 'AAAA', platform: 'TDX' }],
    ['a body that is not an object', []],
  ]
  for (const [name, payload] of invalidBodies) {
    it(`rejects ${name} with 400`, async () => {
      const response = await verify(payload)
      assert.equal(response.statusCode, 400)
      assert.equal((response.json() as { code: string }).code, 'FST_ERR_VALIDATION')
    })
  }

  it('rejects evidence no platform reads with 400', async () => {
    const response = await verify({ evidence: Buffer.from('hello, world').toString('base64') })
    assert.equal(response.statusCode, 400)
    assert.equal((response.json() as { code: string }).code, 'ERR_PARSE_UNKNOWN_FORMAT')
  })

  it('rejects an unknown platform with 400', async () => {
    const response = await verify({ evidence: evidenceOf(service), platform: 'nosuch' })
    assert.equal(response.statusCode, 400)
    assert.match((response.json() as { code: string }).code, /^ERR_CONFIG_/)
  })

  it('rejects a nonce the platform has no field for', async () => {
    const response = await verify({ evidence: evidenceOf(service), nonce: '00112233' })
    assert.equal(response.statusCode, 400)
    assert.equal((response.json() as { code: string }).code, 'ERR_CONFIG_INVALID')
  })

  it('rejects a malformed JSON body with 400', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/v1/verify',
      headers: { 'content-type': 'application/json' },
      payload: '{"evidence":',
    })
    assert.equal(response.statusCode, 400)
  })

  it('counts verifications by platform and verdict', async () => {
    const read = async () => {
      const text = (await service.app.inject({ method: 'GET', url: '/metrics' })).body
      const line = text
        .split('\n')
        .find((entry) =>
          entry.startsWith('confide_verifications_total{platform="sim",verdict="valid"}'),
        )
      return Number(line?.split(' ')[1] ?? 0)
    }
    const before = await read()
    await verify({ evidence: evidenceOf(service) })
    assert.equal(await read(), before + 1)
  })
})

describe('POST /v1/appraise', () => {
  let service: TestService
  before(async () => {
    service = await startTestService()
  })
  after(() => service.close())

  /** Sends an appraisal, with an admin token unless `anonymous`. */
  async function appraise(payload: object, anonymous = false) {
    const headers = anonymous ? {} : { authorization: `Bearer ${await service.adminToken()}` }
    return service.app.inject({ method: 'POST', url: '/v1/appraise', payload, headers })
  }

  it('appraises against a policy in the request', async () => {
    const response = await appraise({ evidence: evidenceOf(service), policy: SIM_POLICY })
    assert.equal(response.statusCode, 200)
    const body = response.json() as { appraisals: { cpu0: { status: string } }; ear: string }
    assert.equal(body.appraisals.cpu0.status, 'warning')
    assert.equal(earStatus(body.ear), 'warning')
  })

  it('names a request policy inline in the EAR', async () => {
    const policy = { ...SIM_POLICY, id: 'confide:default' }
    const response = await appraise({ evidence: evidenceOf(service), policy })
    assert.equal(response.statusCode, 200)
    const claims = decodeJwt((response.json() as { ear: string }).ear) as {
      submods: Record<string, Record<string, unknown>>
    }
    const policyId = Object.values(claims.submods)[0]?.['ear.appraisal-policy-id']
    assert.equal(policyId, 'inline:confide:default')
  })

  it('rejects a request policy without an admin token', async () => {
    const response = await appraise({ evidence: evidenceOf(service), policy: SIM_POLICY }, true)
    assert.equal(response.statusCode, 401)
  })

  it('rejects request reference values without an admin token', async () => {
    const referenceValues = [{ platform: 'sim', claim: 'measurement', values: ['00'.repeat(48)] }]
    const response = await appraise({ evidence: evidenceOf(service), referenceValues }, true)
    assert.equal(response.statusCode, 401)
  })

  it('appraises under the default policy without a token', async () => {
    const response = await appraise({ evidence: evidenceOf(service) }, true)
    assert.equal(response.statusCode, 200)
    assert.equal(earStatus((response.json() as { ear: string }).ear), 'contraindicated')
  })

  it('matches reference values from the request', async () => {
    const evidence = evidenceOf(service)
    const policy = { ...SIM_POLICY, referenceValues: { require: ['measurement'] } }
    const referenceValues = [{ platform: 'sim', claim: 'measurement', values: ['00'.repeat(48)] }]
    const response = await appraise({ evidence, policy, referenceValues })
    assert.equal(response.statusCode, 200)
    const body = response.json() as {
      appraisals: { cpu0: { checks: Array<{ name: string; status: string }> } }
    }
    const check = body.appraisals.cpu0.checks.find((c) => c.name === 'reference-value:measurement')
    assert.equal(check?.status, 'fail')
  })

  it('rejects a malformed policy with 400', async () => {
    const response = await appraise({
      evidence: evidenceOf(service),
      policy: { id: 'p', allowDebug: 'yes' },
    })
    assert.equal(response.statusCode, 400)
    assert.equal((response.json() as { code: string }).code, 'ERR_POLICY_INVALID')
  })

  it('rejects both policy and policyId', async () => {
    const response = await appraise({
      evidence: evidenceOf(service),
      policy: SIM_POLICY,
      policyId: SIM_POLICY.id,
    })
    assert.equal(response.statusCode, 400)
  })

  it('rejects an unknown policyId with 404', async () => {
    const response = await appraise({ evidence: evidenceOf(service), policyId: 'missing' })
    assert.equal(response.statusCode, 404)
  })

  it('rejects malformed reference values with 400', async () => {
    const response = await appraise({
      evidence: evidenceOf(service),
      policy: SIM_POLICY,
      referenceValues: [
        { platform: 'sim', claim: 'measurement', values: ['aa'], notBefore: 'soon' },
      ],
    })
    assert.equal(response.statusCode, 400)
  })
})

describe('request limits', () => {
  it('rejects a body over the limit with 413', async () => {
    const service = await startTestService({ server: { bodyLimit: 4096 } })
    try {
      const response = await service.app.inject({
        method: 'POST',
        url: '/v1/verify',
        payload: { evidence: 'A'.repeat(8192) },
      })
      assert.equal(response.statusCode, 413)
      assert.equal((response.json() as { code: string }).code, 'FST_ERR_CTP_BODY_TOO_LARGE')
    } finally {
      await service.close()
    }
  })

  it('rejects the default 1 MiB limit plus one with 413', async () => {
    const service = await startTestService()
    try {
      const response = await service.app.inject({
        method: 'POST',
        url: '/v1/verify',
        headers: { 'content-type': 'application/json' },
        payload: `{"evidence":"${'A'.repeat(1024 * 1024)}"}`,
      })
      assert.equal(response.statusCode, 413)
    } finally {
      await service.close()
    }
  })

  it('rate limits the unauthenticated routes with 429', async () => {
    const service = await startTestService({
      server: { rateLimit: { max: 2, timeWindowMs: 60_000 } },
    })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) {
        const response = await service.app.inject({
          method: 'POST',
          url: '/kbs/v0/auth',
          payload: { version: '0.4.0', tee: 'sim', 'extra-params': '' },
        })
        statuses.push(response.statusCode)
      }
      assert.deepEqual(statuses, [200, 200, 429])
      const verify = await service.app.inject({ method: 'POST', url: '/v1/verify', payload: {} })
      assert.equal(verify.statusCode, 400, 'each route counts on its own')
      const health = await service.app.inject({ method: 'GET', url: '/healthz' })
      assert.equal(health.statusCode, 200)
    } finally {
      await service.close()
    }
  })
})
