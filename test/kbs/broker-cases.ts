/**
 * Key broker cases that every store engine must pass: the good path releases, and every
 * adversarial exchange is refused without releasing anything, each decision with one audit
 * record. Each engine's test file calls `describeKbsBroker` with its own way to make stores.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type CryptoKey, exportJWK, flattenedDecrypt, generateKeyPair, type JWK } from 'jose'
import type { Policy } from '../../src/appraisal/policy.js'
import type { AuditRecord } from '../../src/kbs/audit.js'
import { KbsBroker } from '../../src/kbs/broker.js'
import { generateMasterKey, ResourceSealer } from '../../src/kbs/envelope.js'
import { verifyKbsEvidence } from '../../src/kbs/evidence.js'
import type { KbsAttestation, KbsResponse, KbsTeePubkey } from '../../src/kbs/protocol.js'
import { runtimeDataDigest } from '../../src/kbs/runtime-data.js'
import { sessionKey } from '../../src/kbs/sessions.js'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey, type SimKey } from '../../src/platforms/sim/dev-key.js'
import type { Store } from '../../src/store/open.js'
import { interopJson } from './interop.js'

/** How the cases reach one engine. */
export interface BrokerEngine {
  /** Returns a new, empty, migrated store. */
  newStore(): Promise<Store>
}

const START = new Date('2026-12-04T18:00:00.000Z')
const client = { address: '192.0.2.7' }
const path = { repository: 'default', type: 'key', tag: 'payroll' }
const secret = new TextEncoder().encode('payroll database password')
const ATTESTATION_POLICY: Policy = { id: 'kbs-attestation', allowSimulated: true }
const SIM_POLICY: Policy = { id: 'sim-only', allowSimulated: true, platforms: ['sim'] }

interface TeeKey {
  readonly privateKey: CryptoKey
  readonly jwk: JWK
}

async function teeKey(): Promise<TeeKey> {
  const pair = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true })
  return {
    privateKey: pair.privateKey as CryptoKey,
    jwk: { ...(await exportJWK(pair.publicKey)), alg: 'ECDH-ES+A256KW' },
  }
}

/** Returns the public JWK of a new RSA key of `bits` bits, for RSA-OAEP-256. */
function rsaTeeKey(bits: number): KbsTeePubkey {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  const { n, e } = publicKey.export({ format: 'jwk' })

  return { kty: 'RSA', alg: 'RSA-OAEP-256', n: n ?? '', e: e ?? '' }
}

/** Registers the shared cases under `describe(name)`. */
export function describeKbsBroker(name: string, engine: BrokerEngine): void {
  describe(name, () => {
    const scratch = mkdtempSync(join(tmpdir(), 'confide-kbs-'))
    let simKey: SimKey
    let signer: { key: CryptoKey; alg: 'ES256' }
    before(async () => {
      simKey = await loadSimKey({ path: join(scratch, 'sim-key.pem'), create: true })
      const pair = await generateKeyPair('ES256')
      signer = { key: pair.privateKey as CryptoKey, alg: 'ES256' }
    })
    after(() => rmSync(scratch, { recursive: true, force: true }))

    /** Creates a broker on a new store, with a clock the test moves and the sim key trusted. */
    async function setup(options: { nonceTtlSeconds?: number; randomNonce?: () => string } = {}) {
      const store = await engine.newStore()
      const clock = { now: START }
      const broker = new KbsBroker({
        store,
        sealer: new ResourceSealer(Buffer.from(generateMasterKey(), 'hex')),
        signer,
        verify: (evidence, tee, verifyOptions) =>
          verifyKbsEvidence(evidence, tee, {
            ...verifyOptions,
            trustedKeys: [simKey.publicKeySpki],
          }),
        now: () => clock.now,
        ...options,
      })
      await broker.setAttestationPolicy(ATTESTATION_POLICY, 'admin')
      await broker.setResource(path, secret, 'admin')
      return { store, broker, clock }
    }

    type Setup = Awaited<ReturnType<typeof setup>>

    async function withBroker(use: (setup: Setup) => Promise<void>, options = {}) {
      const context = await setup(options)
      try {
        await use(context)
      } finally {
        await context.store.close()
      }
    }

    interface EvidenceChoice {
      /** Key the runtime data names. */
      readonly key: TeeKey
      /** Key the evidence binds. Absent: `key`. */
      readonly boundKey?: TeeKey
      /** Nonce the evidence binds. Absent: the challenge's. */
      readonly boundNonce?: string
      /** Nonce the runtime data names. Absent: the challenge's. */
      readonly runtimeNonce?: string
      readonly debug?: boolean
    }

    function attestation(nonce: string, choice: EvidenceChoice, at: Date): KbsAttestation {
      const boundKey = choice.boundKey ?? choice.key
      const digest = runtimeDataDigest(
        { nonce: choice.boundNonce ?? nonce, teePubkey: boundKey.jwk, additionalEvidence: '' },
        'sim',
      )
      const evidence = simEvidence(simKey, {
        reportData: digest,
        at,
        ...(choice.debug === undefined ? {} : { debug: choice.debug }),
      })
      return {
        'runtime-data': {
          nonce: choice.runtimeNonce ?? nonce,
          'tee-pubkey': choice.key.jwk as never,
        },
        'tee-evidence': {
          primary_evidence: JSON.parse(new TextDecoder().decode(evidence)),
          additional_evidence: '',
        },
      }
    }

    async function challenge(broker: KbsBroker) {
      return broker.auth({ version: '0.4.0', tee: 'sim', 'extra-params': '' }, client)
    }

    /** Runs auth and attest for a key; returns the session and token. */
    async function attested(context: Setup, key: TeeKey) {
      const { challenge: issued, sessionId } = await challenge(context.broker)
      const { token } = await context.broker.attest(
        sessionId,
        attestation(issued.nonce, { key }, context.clock.now),
        client,
      )
      return { sessionId, token }
    }

    async function auditCount(broker: KbsBroker): Promise<number> {
      return (await broker.audit({ limit: 1000 })).length
    }

    async function lastAudit(broker: KbsBroker): Promise<AuditRecord> {
      const [record] = await broker.audit({ limit: 1 })
      assert.ok(record !== undefined)
      return record
    }

    /** Asserts that a call is refused with `code` and adds exactly one deny record. */
    async function rejected(broker: KbsBroker, call: () => Promise<unknown>, code: string) {
      const before = await auditCount(broker)
      await assert.rejects(call(), (error: unknown) => {
        assert.equal((error as { code?: string }).code, code)
        return true
      })
      assert.equal(await auditCount(broker), before + 1)
      const record = await lastAudit(broker)
      assert.equal(record.decision, 'deny')
      return record
    }

    async function opens(response: KbsResponse, key: TeeKey): Promise<Uint8Array> {
      const { plaintext } = await flattenedDecrypt(response, key.privateKey)
      return new Uint8Array(plaintext)
    }

    it('releases on the good path', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        await context.broker.setResourcePolicy(path, SIM_POLICY, 'admin')
        const { sessionId, token } = await attested(context, key)
        const attest = await lastAudit(context.broker)
        assert.equal(attest.action, 'attest')
        assert.equal(attest.decision, 'allow')
        assert.equal(attest.tee, 'sim')
        assert.match(attest.evidenceSha256 ?? '', /^[0-9a-f]{64}$/)

        const byCookie = await context.broker.resource({ sessionId }, path, client)
        assert.deepEqual(await opens(byCookie, key), secret)
        const record = await lastAudit(context.broker)
        assert.equal(record.action, 'resource')
        assert.equal(record.decision, 'allow')
        assert.equal(record.clientAddress, client.address)
        assert.equal(record.sessionId, sessionKey(sessionId))
        assert.equal(record.tee, 'sim')
        assert.equal(record.resource, 'default/key/payroll')
        assert.equal(record.evidenceSha256, attest.evidenceSha256)
        assert.equal(record.policyId, 'sim-only')
        assert.ok(record.reason.length > 0)

        const byToken = await context.broker.resource({ token }, path, client)
        assert.deepEqual(await opens(byToken, key), secret)
      }))

    it('falls back to the * policy', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        await context.broker.setResourcePolicy('*', SIM_POLICY, 'admin')
        const { sessionId } = await attested(context, key)
        const response = await context.broker.resource({ sessionId }, path, client)
        assert.deepEqual(await opens(response, key), secret)
      }))

    it('refuses a replayed nonce', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        const { challenge: issued, sessionId } = await challenge(context.broker)
        const message = attestation(issued.nonce, { key }, context.clock.now)
        await context.broker.attest(sessionId, message, client)
        const record = await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
        assert.match(record.reason, /nonce used/)
      }))

    it('refuses evidence for another nonce', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        const other = await challenge(context.broker)
        const { challenge: issued, sessionId } = await challenge(context.broker)
        const message = attestation(
          issued.nonce,
          { key, boundNonce: other.challenge.nonce },
          context.clock.now,
        )
        const record = await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
        assert.match(record.reason, /report data/)
      }))

    it('refuses runtime data with another nonce', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        const other = await challenge(context.broker)
        const { challenge: issued, sessionId } = await challenge(context.broker)
        const nonce = other.challenge.nonce
        const message = attestation(
          issued.nonce,
          { key, boundNonce: nonce, runtimeNonce: nonce },
          context.clock.now,
        )
        const record = await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
        assert.match(record.reason, /nonce does not equal/)
      }))

    it('refuses a swapped tee-pubkey', () =>
      withBroker(async (context) => {
        const [keyA, keyB] = [await teeKey(), await teeKey()]
        const { challenge: issued, sessionId } = await challenge(context.broker)
        const message = attestation(issued.nonce, { key: keyB, boundKey: keyA }, context.clock.now)
        await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
        await rejected(
          context.broker,
          () => context.broker.resource({ sessionId }, path, client),
          'ERR_KBS_UNAUTHORIZED',
        )
      }))

    it('refuses an expired session', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        await context.broker.setResourcePolicy(path, SIM_POLICY, 'admin')
        const { challenge: issued, sessionId } = await challenge(context.broker)
        context.clock.now = new Date(START.getTime() + 301_000)
        const message = attestation(issued.nonce, { key }, context.clock.now)
        const record = await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
        assert.match(record.reason, /session expired/)

        context.clock.now = START
        const fresh = await attested(context, key)
        context.clock.now = new Date(START.getTime() + 301_000)
        await rejected(
          context.broker,
          () => context.broker.resource({ sessionId: fresh.sessionId }, path, client),
          'ERR_KBS_UNAUTHORIZED',
        )
        await rejected(
          context.broker,
          () => context.broker.resource({ token: fresh.token }, path, client),
          'ERR_KBS_UNAUTHORIZED',
        )
      }))

    it('purges expired sessions on a later auth', () =>
      withBroker(async (context) => {
        const { sessionId: old } = await challenge(context.broker)
        context.clock.now = new Date(START.getTime() + 10_000)
        const { sessionId: recent } = await challenge(context.broker)
        context.clock.now = new Date(START.getTime() + 400_000)
        const { sessionId: current } = await challenge(context.broker)

        const rows = await context.store.db.selectFrom('kbs_session').select('id').execute()
        const ids = rows.map((row) => row.id)
        assert.ok(!ids.includes(sessionKey(old)), 'the expired session is gone')
        assert.ok(!ids.includes(sessionKey(recent)), 'the second expired session is gone')
        assert.ok(ids.includes(sessionKey(current)))
      }))

    it('refuses a weak TEE key at attestation', () =>
      withBroker(async (context) => {
        const key = { privateKey: undefined as never, jwk: rsaTeeKey(1024) }
        const { challenge: issued, sessionId } = await challenge(context.broker)
        const message = attestation(issued.nonce, { key }, context.clock.now)
        const record = await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
        assert.match(record.reason, /1024 bits, below 2048/)
      }))

    it('refuses an expired nonce', () =>
      withBroker(
        async (context) => {
          const key = await teeKey()
          const { challenge: issued, sessionId } = await challenge(context.broker)
          context.clock.now = new Date(START.getTime() + 11_000)
          const message = attestation(issued.nonce, { key }, context.clock.now)
          const record = await rejected(
            context.broker,
            () => context.broker.attest(sessionId, message, client),
            'ERR_KBS_ATTESTATION',
          )
          assert.match(record.reason, /nonce expired/)
        },
        { nonceTtlSeconds: 10 },
      ))

    it('refuses when the resource policy denies', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        const tdxOnly: Policy = { id: 'tdx-only', allowSimulated: true, platforms: ['tdx'] }
        await context.broker.setResourcePolicy(path, tdxOnly, 'admin')
        await context.broker.setResourcePolicy('*', SIM_POLICY, 'admin')
        const { sessionId } = await attested(context, key)
        const record = await rejected(
          context.broker,
          () => context.broker.resource({ sessionId }, path, client),
          'ERR_KBS_DENIED',
        )
        assert.equal(record.policyId, 'tdx-only')
        assert.match(record.reason, /platform fail/)
      }))

    it('refuses a simulated TEE under a strict policy', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        await context.broker.setResourcePolicy(path, { id: 'strict' }, 'admin')
        const { sessionId } = await attested(context, key)
        const record = await rejected(
          context.broker,
          () => context.broker.resource({ sessionId }, path, client),
          'ERR_KBS_DENIED',
        )
        assert.match(record.reason, /simulated fail/)
      }))

    it('denies by default without a policy', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        const { sessionId, token } = await attested(context, key)
        const record = await rejected(
          context.broker,
          () => context.broker.resource({ sessionId }, path, client),
          'ERR_KBS_DENIED',
        )
        assert.match(record.reason, /default deny/)
        await rejected(
          context.broker,
          () => context.broker.resource({ token }, path, client),
          'ERR_KBS_DENIED',
        )
      }))

    it('refuses a debug TEE', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        await context.broker.setResourcePolicy(path, SIM_POLICY, 'admin')
        const { challenge: issued, sessionId } = await challenge(context.broker)
        const message = attestation(issued.nonce, { key, debug: true }, context.clock.now)
        const record = await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
        assert.match(record.reason, /ERR_VERIFY_DEBUG/)

        await context.broker.setAttestationPolicy({ ...ATTESTATION_POLICY, allowDebug: true }, 'a')
        const second = await challenge(context.broker)
        const debugMessage = attestation(second.challenge.nonce, { key, debug: true }, START)
        await context.broker.attest(second.sessionId, debugMessage, client)
        const denied = await rejected(
          context.broker,
          () => context.broker.resource({ sessionId: second.sessionId }, path, client),
          'ERR_KBS_DENIED',
        )
        assert.match(denied.reason, /debug fail/)
      }))

    it('refuses tampered evidence', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        const { challenge: issued, sessionId } = await challenge(context.broker)
        const message = attestation(issued.nonce, { key }, context.clock.now)
        const evidence = message['tee-evidence'].primary_evidence as { body: string }
        const body = Buffer.from(evidence.body, 'base64url')
        body[body.length - 3] = (body[body.length - 3] ?? 0) ^ 1
        evidence.body = body.toString('base64url')
        await rejected(
          context.broker,
          () => context.broker.attest(sessionId, message, client),
          'ERR_KBS_ATTESTATION',
        )
      }))

    it('keeps a token bound to its own key and session', () =>
      withBroker(async (context) => {
        const [keyA, keyB] = [await teeKey(), await teeKey()]
        await context.broker.setResourcePolicy(path, SIM_POLICY, 'admin')
        const sessionA = await attested(context, keyA)
        const sessionB = await attested(context, keyB)
        await rejected(
          context.broker,
          () =>
            context.broker.resource(
              { sessionId: sessionB.sessionId, token: sessionA.token },
              path,
              client,
            ),
          'ERR_KBS_UNAUTHORIZED',
        )

        const response = await context.broker.resource({ token: sessionA.token }, path, client)
        await assert.rejects(opens(response, keyB))
        assert.deepEqual(await opens(response, keyA), secret)

        const [header, payload, signature] = sessionA.token.split('.') as [string, string, string]
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
        claims.submods.cpu0['ear.veraison.annotated-evidence'].runtime_data_claims['tee-pubkey'] =
          keyB.jwk
        const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`
        await rejected(
          context.broker,
          () => context.broker.resource({ token: forged }, path, client),
          'ERR_KBS_UNAUTHORIZED',
        )
      }))

    it('refuses an unknown resource', () =>
      withBroker(async (context) => {
        const key = await teeKey()
        await context.broker.setResourcePolicy('*', SIM_POLICY, 'admin')
        const { sessionId } = await attested(context, key)
        const unknown = { repository: 'default', type: 'key', tag: 'absent' }
        await rejected(
          context.broker,
          () => context.broker.resource({ sessionId }, unknown, client),
          'ERR_KBS_NOT_FOUND',
        )
        const sqlish = { repository: "x' or '1'='1", type: 'key', tag: 'payroll' }
        await rejected(
          context.broker,
          () => context.broker.resource({ sessionId }, sqlish, client),
          'ERR_KBS_NOT_FOUND',
        )
      }))

    it('refuses missing, unknown and unattested credentials', () =>
      withBroker(async (context) => {
        await context.broker.setResourcePolicy('*', SIM_POLICY, 'admin')
        const { sessionId } = await challenge(context.broker)
        for (const credential of [{}, { sessionId: 'unknown' }, { sessionId }, { token: 'a.b.c' }])
          await rejected(
            context.broker,
            () => context.broker.resource(credential, path, client),
            'ERR_KBS_UNAUTHORIZED',
          )
      }))

    it('stores sessions under a digest, never the cookie value', () =>
      withBroker(async (context) => {
        const { sessionId } = await challenge(context.broker)
        const rows = await context.store.db.selectFrom('kbs_session').select('id').execute()
        assert.deepEqual(
          rows.map((row) => row.id),
          [sessionKey(sessionId)],
        )
        assert.notEqual(sessionKey(sessionId), sessionId)
      }))

    it('never stores the plaintext', () =>
      withBroker(async (context) => {
        const rows = await context.store.db.selectFrom('kbs_resource').selectAll().execute()
        assert.equal(rows.length, 1)
        for (const row of rows) {
          const bytes = Buffer.from(row.sealed)
          assert.equal(bytes.indexOf(Buffer.from(secret)), -1)
          assert.ok(!JSON.stringify(row).includes('payroll database'))
        }
      }))

    it('replays the Trustee sample exchange', () =>
      withBroker(
        async (context) => {
          const folder = 'trustee-sample-tee-evidence'
          await context.broker.setResourcePolicy(path, SIM_POLICY, 'admin')
          await context.broker.setResourcePolicy('*', { id: 'sample', allowSimulated: true }, 'a')
          const request = interopJson(folder, 'request.json') as never
          const { challenge: issued, sessionId } = await context.broker.auth(request, client)
          assert.deepEqual(
            issued.nonce,
            (interopJson(folder, 'challenge.json') as { nonce: string }).nonce,
          )
          const message = interopJson(folder, 'attestation.json') as KbsAttestation
          // The report data binds the runtime data, so the attestation passes the binding check.
          // It is then rejected because the real Trustee client used a 1024-bit RSA TEE key.
          const record = await rejected(
            context.broker,
            () => context.broker.attest(sessionId, message, client),
            'ERR_KBS_ATTESTATION',
          )
          assert.match(record.reason, /RSA modulus has 1024 bits/)

          const { challenge: again, sessionId: second } = await context.broker.auth(request, client)
          const strongKey = await rsaTeeKey(2048)
          const bound = {
            ...message,
            'runtime-data': {
              ...message['runtime-data'],
              nonce: again.nonce,
              'tee-pubkey': strongKey,
            },
          }
          await assert.rejects(context.broker.attest(second, bound, client), /report data/)
        },
        { randomNonce: () => 'Hh459Yb8p3scemptkzC7Od5EBi16hbNUPTZzKRoFH/E=' },
      ))

    it('audits administrative writes', () =>
      withBroker(async (context) => {
        const writes = await context.broker.audit({ decision: 'allow' })
        assert.deepEqual(writes.map((record) => [record.action, record.actor]).reverse(), [
          ['set-attestation-policy', 'admin'],
          ['set-resource', 'admin'],
        ])
        assert.equal(await context.broker.deleteResource(path, 'admin'), true)
        assert.equal(await context.broker.deleteResource(path, 'admin'), false)
        assert.equal((await context.broker.audit({ resource: 'default/key/payroll' })).length, 3)
        assert.equal((await context.broker.getAttestationPolicy()).id, 'kbs-attestation')
      }))
  })
}
