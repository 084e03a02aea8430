/**
 * Admin API cases that every store engine must pass. Policies and reference values are written,
 * read and deleted. Every kind of invalid admin token gets 401, and SQL-ish IDs are not found.
 * The audit log records a KBS exchange. Each engine's test file calls `describeAdminApi`.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { InjectOptions } from 'fastify'
import { SignJWT } from 'jose'
import { mintAdminToken } from '../../src/server/admin-token.js'
import { attestSim, base64Json, SIM_POLICY, startTestService, type TestService } from './helpers.js'

/** Registers the shared cases under `describe(name)`; `newLocation` gives an empty store. */
export function describeAdminApi(name: string, newLocation: () => Promise<string>): void {
  describe(name, () => {
    let service: TestService
    let auth: { authorization: string }
    before(async () => {
      service = await startTestService({ store: await newLocation() })
      auth = { authorization: `Bearer ${await service.adminToken({ subject: 'alice' })}` }
    })
    after(() => service.close())

    const inject = (request: InjectOptions) => service.app.inject(request)

    it('stores, lists, reads and deletes a policy', async () => {
      const put = await inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: auth,
        payload: SIM_POLICY,
      })
      assert.equal(put.statusCode, 200)
      assert.equal((put.json() as { updatedBy: string }).updatedBy, 'alice')

      const list = await inject({ method: 'GET', url: '/v1/admin/policies', headers: auth })
      const ids = (list.json() as { policies: Array<{ policy: { id: string } }> }).policies.map(
        (entry) => entry.policy.id,
      )
      assert.deepEqual(ids, [SIM_POLICY.id])

      const read = await inject({
        method: 'GET',
        url: `/v1/admin/policies/${SIM_POLICY.id}`,
        headers: auth,
      })
      assert.deepEqual((read.json() as { policy: unknown }).policy, SIM_POLICY)

      const removed = await inject({
        method: 'DELETE',
        url: `/v1/admin/policies/${SIM_POLICY.id}`,
        headers: auth,
      })
      assert.equal(removed.statusCode, 204)
      const gone = await inject({
        method: 'GET',
        url: `/v1/admin/policies/${SIM_POLICY.id}`,
        headers: auth,
      })
      assert.equal(gone.statusCode, 404)
    })

    it('replaces a policy by PUT', async () => {
      const url = '/v1/admin/policies/replaced'
      await inject({ method: 'PUT', url, headers: auth, payload: { id: 'replaced' } })
      const second = { id: 'replaced', allowDebug: true }
      const put = await inject({ method: 'PUT', url, headers: auth, payload: second })
      assert.equal(put.statusCode, 200)
      const read = await inject({ method: 'GET', url, headers: auth })
      assert.deepEqual((read.json() as { policy: unknown }).policy, second)
    })

    it('rejects a PUT whose body id differs', async () => {
      const response = await inject({
        method: 'PUT',
        url: '/v1/admin/policies/one',
        headers: auth,
        payload: { id: 'two' },
      })
      assert.equal(response.statusCode, 400)
    })

    it('rejects a malformed policy with 400', async () => {
      const response = await inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: auth,
        payload: { id: 'bad', rules: [{ name: 'r', expression: 'claims.(' }] },
      })
      assert.equal(response.statusCode, 400)
      assert.equal((response.json() as { code: string }).code, 'ERR_POLICY_INVALID')
    })

    it('rejects a policy without id with 400', async () => {
      const response = await inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: auth,
        payload: { allowDebug: true },
      })
      assert.equal(response.statusCode, 400)
    })

    const sqlish = [
      "x' OR '1'='1",
      "'; DROP TABLE policy; --",
      '%',
      '" OR ""="',
      "Robert'); DELETE FROM reference_value; --",
    ]
    for (const id of sqlish) {
      it(`finds no policy ${JSON.stringify(id)}`, async () => {
        const url = `/v1/admin/policies/${encodeURIComponent(id)}`
        assert.equal((await inject({ method: 'GET', url, headers: auth })).statusCode, 404)
        assert.equal((await inject({ method: 'DELETE', url, headers: auth })).statusCode, 404)
        const refUrl = `/v1/admin/reference-values/${encodeURIComponent(id)}`
        assert.equal(
          (await inject({ method: 'DELETE', url: refUrl, headers: auth })).statusCode,
          404,
        )
      })
    }

    it('adds, lists and deletes reference values', async () => {
      const add = await inject({
        method: 'POST',
        url: '/v1/admin/reference-values',
        headers: auth,
        payload: {
          referenceValues: [
            { platform: 'sim', claim: 'measurement', values: ['AB'.repeat(48)] },
            { platform: 'tdx', claim: 'raw.rtmr1', values: ['00'.repeat(48)] },
          ],
        },
      })
      assert.equal(add.statusCode, 200)
      const added = (
        add.json() as { referenceValues: Array<{ id: string; value: { values: string[] } }> }
      ).referenceValues
      assert.equal(added.length, 2)
      assert.deepEqual(added[0]?.value.values, ['ab'.repeat(48)], 'hex is normalized')

      const simOnly = await inject({
        method: 'GET',
        url: '/v1/admin/reference-values?platform=sim',
        headers: auth,
      })
      const listed = (
        simOnly.json() as { referenceValues: Array<{ id: string; createdBy: string }> }
      ).referenceValues
      assert.deepEqual(
        listed.map((entry) => entry.id),
        [added[0]?.id],
      )
      assert.equal(listed[0]?.createdBy, 'alice')

      const removed = await inject({
        method: 'DELETE',
        url: `/v1/admin/reference-values/${added[0]?.id}`,
        headers: auth,
      })
      assert.equal(removed.statusCode, 204)
      const after = await inject({
        method: 'GET',
        url: '/v1/admin/reference-values',
        headers: auth,
      })
      const left = (after.json() as { referenceValues: Array<{ id: string }> }).referenceValues
      assert.deepEqual(
        left.map((entry) => entry.id),
        [added[1]?.id],
      )
    })

    it('uses stored reference values in /v1/verify', async () => {
      await inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: auth,
        payload: {
          ...SIM_POLICY,
          id: 'sim-measured',
          referenceValues: { require: ['measurement'] },
        },
      })
      const { simEvidence, defaultSimMrTd } = await import('../../src/platforms/sim/attester.js')
      const evidence = Buffer.from(simEvidence(service.simKey, { reportData: new Uint8Array(1) }))
      const verify = () =>
        inject({
          method: 'POST',
          url: '/v1/appraise',
          payload: { evidence: evidence.toString('base64'), policyId: 'sim-measured' },
        })
      const checkOf = async () => {
        const body = (await verify()).json() as {
          appraisals: { cpu0: { checks: Array<{ name: string; status: string }> } }
        }
        return body.appraisals.cpu0.checks.find((c) => c.name === 'reference-value:measurement')
          ?.status
      }
      assert.equal(await checkOf(), 'not-checked')
      await inject({
        method: 'POST',
        url: '/v1/admin/reference-values',
        headers: auth,
        payload: {
          referenceValues: [
            {
              platform: 'sim',
              claim: 'measurement',
              values: [Buffer.from(defaultSimMrTd()).toString('hex')],
            },
          ],
        },
      })
      assert.equal(await checkOf(), 'pass')
    })

    it('rejects malformed reference values with 400', async () => {
      const cases = [
        { referenceValues: [] },
        { referenceValues: [{ platform: 'sim', claim: 'measurement', values: [] }] },
        { referenceValues: [{ platform: 'sim', claim: 'bad claim!', values: ['aa'] }] },
        {
          referenceValues: [
            { platform: 'sim', claim: 'measurement', values: ['aa'], notAfter: 'tomorrow' },
          ],
        },
      ]
      for (const payload of cases) {
        const response = await inject({
          method: 'POST',
          url: '/v1/admin/reference-values',
          headers: auth,
          payload,
        })
        assert.equal(response.statusCode, 400, JSON.stringify(payload))
      }
    })

    it('records a KBS exchange in the audit log', async () => {
      await inject({
        method: 'POST',
        url: '/kbs/v0/attestation-policy',
        headers: auth,
        payload: { policy: base64Json(SIM_POLICY) },
      })
      await inject({
        method: 'POST',
        url: '/kbs/v0/resource/default/key/audit',
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        payload: Buffer.from('audited secret'),
      })
      const attested = await attestSim(service)
      const denied = await inject({
        method: 'GET',
        url: '/kbs/v0/resource/default/key/audit',
        headers: { cookie: attested.cookie },
      })
      assert.equal(denied.statusCode, 403, 'no resource policy: default deny')

      const audit = await inject({
        method: 'GET',
        url: '/v1/admin/audit?resource=default/key/audit&action=resource',
        headers: auth,
      })
      assert.equal(audit.statusCode, 200)
      const records = (audit.json() as { records: Array<{ decision: string; resource: string }> })
        .records
      assert.equal(records.length, 1)
      assert.equal(records[0]?.decision, 'deny')
      const writes = await inject({
        method: 'GET',
        url: '/v1/admin/audit?action=set-resource',
        headers: auth,
      })
      const actors = (writes.json() as { records: Array<{ actor: string }> }).records.map(
        (record) => record.actor,
      )
      assert.ok(actors.includes('alice'))
    })

    it('records policy and reference value writes in the audit log', async () => {
      const url = '/v1/admin/policies/audited'
      const policy = { ...SIM_POLICY, id: 'audited' }
      await inject({ method: 'PUT', url, headers: auth, payload: policy })
      assert.equal((await inject({ method: 'DELETE', url, headers: auth })).statusCode, 204)
      const added = await inject({
        method: 'POST',
        url: '/v1/admin/reference-values',
        headers: auth,
        payload: { referenceValues: [{ platform: 'sim', claim: 'measurement', values: ['01'] }] },
      })
      const [value] = (added.json() as { referenceValues: Array<{ id: string }> }).referenceValues
      const refUrl = `/v1/admin/reference-values/${value?.id}`
      assert.equal((await inject({ method: 'DELETE', url: refUrl, headers: auth })).statusCode, 204)

      const actions = [
        'set-policy',
        'delete-policy',
        'add-reference-value',
        'delete-reference-value',
      ]
      for (const action of actions) {
        const audit = await inject({
          method: 'GET',
          url: `/v1/admin/audit?action=${action}`,
          headers: auth,
        })
        assert.equal(audit.statusCode, 200, action)
        const records = (audit.json() as { records: Array<{ actor: string; policyId: string }> })
          .records
        const ids = records.filter((record) => record.actor === 'alice').map((r) => r.policyId)
        const expected = action.endsWith('reference-value') ? value?.id : 'audited'
        assert.ok(ids.includes(expected ?? ''), `${action}: ${JSON.stringify(records)}`)
      }
    })

    it('rejects an audit query with a bad limit', async () => {
      const response = await inject({
        method: 'GET',
        url: '/v1/admin/audit?limit=0',
        headers: auth,
      })
      assert.equal(response.statusCode, 400)
    })

    describe('admin token', () => {
      const routes = [
        { method: 'GET', url: '/v1/admin/policies' },
        { method: 'GET', url: '/v1/admin/reference-values' },
        { method: 'GET', url: '/v1/admin/audit' },
        { method: 'POST', url: '/v1/admin/policies', payload: SIM_POLICY },
        { method: 'DELETE', url: '/v1/admin/policies/x' },
      ] as const

      async function statusWith(authorization: string | undefined): Promise<number[]> {
        const statuses: number[] = []
        for (const route of routes) {
          const response = await inject({
            ...route,
            headers: authorization === undefined ? {} : { authorization },
          })
          statuses.push(response.statusCode)
        }
        return statuses
      }

      const all401 = routes.map(() => 401)

      it('is required', async () => {
        assert.deepEqual(await statusWith(undefined), all401)
      })

      it('must be a Bearer token', async () => {
        assert.deepEqual(await statusWith(`Basic ${Buffer.from('a:b').toString('base64')}`), all401)
      })

      it('must be signed by an admin key', async () => {
        const other = generateKeyPairSync('ed25519').privateKey
        assert.deepEqual(await statusWith(`Bearer ${await mintAdminToken(other)}`), all401)
      })

      it('must not be expired', async () => {
        const token = await service.adminToken({ now: new Date(Date.now() - 2 * 3600_000) })
        assert.deepEqual(await statusWith(`Bearer ${token}`), all401)
      })

      it('must expire within an hour', async () => {
        const now = Math.floor(Date.now() / 1000)
        const token = await new SignJWT({})
          .setProtectedHeader({ alg: 'EdDSA' })
          .setAudience('confide-admin')
          .setIssuedAt(now)
          .setExpirationTime(now + 24 * 3600)
          .sign(service.adminKey)
        assert.deepEqual(await statusWith(`Bearer ${token}`), all401)
      })

      it('must have an expiry', async () => {
        const token = await new SignJWT({})
          .setProtectedHeader({ alg: 'EdDSA' })
          .setAudience('confide-admin')
          .sign(service.adminKey)
        assert.deepEqual(await statusWith(`Bearer ${token}`), all401)
      })

      it('must name the confide-admin audience', async () => {
        const now = Math.floor(Date.now() / 1000)
        const token = await new SignJWT({})
          .setProtectedHeader({ alg: 'EdDSA' })
          .setAudience('someone-else')
          .setExpirationTime(now + 300)
          .sign(service.adminKey)
        assert.deepEqual(await statusWith(`Bearer ${token}`), all401)
      })

      it('rejects an unsigned token', async () => {
        const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
        const exp = Math.floor(Date.now() / 1000) + 300
        const token = `${encode({ alg: 'none' })}.${encode({ aud: 'confide-admin', exp })}.`
        assert.deepEqual(await statusWith(`Bearer ${token}`), all401)
      })

      it('rejects a tampered token', async () => {
        const token = await service.adminToken()
        const [header, payload, signature] = token.split('.')
        const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())
        const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString(
          'base64url',
        )
        assert.deepEqual(await statusWith(`Bearer ${header}.${forged}.${signature}`), all401)
      })

      it('guards the KBS admin routes with Trustee errors', async () => {
        const response = await inject({
          method: 'POST',
          url: '/kbs/v0/resource/default/key/x',
          headers: { 'content-type': 'application/octet-stream' },
          payload: Buffer.from('x'),
        })
        assert.equal(response.statusCode, 401)
        assert.equal(
          (response.json() as { type: string }).type,
          'https://github.com/confidential-containers/kbs/errors/AdminAuth',
        )
      })
    })
  })
}
