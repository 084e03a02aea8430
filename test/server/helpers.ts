/**
 * A service under test: an in-memory (or given) store, a real broker with a throwaway master
 * key, an EAR signing key, an admin key pair, and a simulated TEE key the server trusts.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { type CryptoKey, exportJWK, flattenedDecrypt, generateKeyPair } from 'jose'
import { KbsBroker } from '../../src/kbs/broker.js'
import { ResourceSealer } from '../../src/kbs/envelope.js'
import { verifyKbsEvidence } from '../../src/kbs/evidence.js'
import { runtimeDataDigest } from '../../src/kbs/runtime-data.js'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey, type SimKey } from '../../src/platforms/sim/dev-key.js'
import { mintAdminToken } from '../../src/server/admin-token.js'
import { buildServer, type ServerOptions } from '../../src/server/app.js'
import { createServerMetrics } from '../../src/server/metrics.js'
import { openStore, type Store } from '../../src/store/open.js'

/** A built server and what a test needs to drive it. */
export interface TestService {
  readonly app: FastifyInstance
  readonly store: Store
  readonly simKey: SimKey
  readonly adminKey: KeyObject
  /** Log lines written so far, when built with `captureLogs`. */
  readonly logs: string[]
  /** Mints an admin token with the test admin key. */
  adminToken(options?: { ttlSeconds?: number; subject?: string; now?: Date }): Promise<string>
  close(): Promise<void>
}

export interface TestServiceOptions {
  /** Store location. Default: `:memory:`. */
  readonly store?: string
  /** Write logs at info level into `logs`. Default: no logging. */
  readonly captureLogs?: boolean
  /** Replaces or adds server options. */
  readonly server?: Partial<ServerOptions>
}

/** Builds a server around a fresh store, keys and broker. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const folder = mkdtempSync(join(tmpdir(), 'confide-server-'))
  const simKey = await loadSimKey({ path: join(folder, 'sim-key.pem') })
  const store = await openStore(options.store ?? ':memory:')
  const { privateKey: signingKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const signer = { key: signingKey, alg: 'ES256' as const, kid: 'test-signer' }
  const admin = generateKeyPairSync('ed25519')
  const metrics = createServerMetrics()
  const trustedKeys = [simKey.publicKeySpki]
  const broker = new KbsBroker({
    store,
    sealer: new ResourceSealer(randomBytes(32)),
    signer,
    verify: async (evidence, tee, verifyOptions) => {
      const result = await verifyKbsEvidence(evidence, tee, { ...verifyOptions, trustedKeys })
      metrics.verifications.inc({ platform: result.platform, verdict: result.verdict })
      return result
    },
  })
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      )
      done()
    },
  })
  const app = await buildServer({
    store,
    broker,
    signer,
    adminKeys: [admin.publicKey],
    trustedSimKeys: trustedKeys,
    metrics,
    logger: options.captureLogs === true ? { level: 'info', stream } : false,
    ...options.server,
  })

  return {
    app,
    store,
    simKey,
    adminKey: admin.privateKey,
    logs,
    adminToken: (tokenOptions = {}) => mintAdminToken(admin.privateKey, tokenOptions),
    close: async () => {
      await app.close()
      await store.close()
      rmSync(folder, { recursive: true, force: true })
    },
  }
}

/** A policy that accepts the simulated TEE, for tests. */
export const SIM_POLICY = { id: 'sim-dev', platforms: ['sim'], allowSimulated: true } as const

/** Returns `value` as base64 of its UTF-8 JSON. */
export function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64')
}

/** A TEE key pair for a KBS exchange, with the public JWK as a client sends it. */
export interface TeeKey {
  readonly privateKey: CryptoKey
  readonly publicJwk: Record<string, string>
}

export async function createTeeKey(): Promise<TeeKey> {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' })
  const jwk = await exportJWK(publicKey)
  return {
    privateKey,
    publicJwk: { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: `${jwk.x}`, y: `${jwk.y}` },
  }
}

/** Returns the `kbs-session-id` cookie a response set, as a Cookie header value. */
export function sessionCookie(setCookie: string | string[] | number | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie.join(';') : String(setCookie)
  const match = /kbs-session-id=([^;]+)/.exec(header)
  if (match === null) throw new Error(`no kbs-session-id cookie in ${header}`)
  return `kbs-session-id=${match[1]}`
}

/** The outcome of `auth` + `attest` through `inject`. */
export interface Attested {
  readonly cookie: string
  readonly token: string
  readonly teeKey: TeeKey
}

/** Runs `auth` and `attest` with simulated evidence bound to the challenge. */
export async function attestSim(service: TestService): Promise<Attested> {
  const auth = await service.app.inject({
    method: 'POST',
    url: '/kbs/v0/auth',
    payload: { version: '0.4.0', tee: 'sim', 'extra-params': '' },
  })
  if (auth.statusCode !== 200) throw new Error(`auth failed: ${auth.statusCode} ${auth.body}`)
  const cookie = sessionCookie(auth.headers['set-cookie'])
  const { nonce } = auth.json() as { nonce: string }
  const teeKey = await createTeeKey()
  const digest = runtimeDataDigest(
    { nonce, teePubkey: teeKey.publicJwk as never, additionalEvidence: '' },
    'sim',
  )
  const evidence = simEvidence(service.simKey, { reportData: digest })
  const attest = await service.app.inject({
    method: 'POST',
    url: '/kbs/v0/attest',
    headers: { cookie },
    payload: {
      'runtime-data': { nonce, 'tee-pubkey': teeKey.publicJwk },
      'tee-evidence': {
        primary_evidence: JSON.parse(Buffer.from(evidence).toString('utf8')),
        additional_evidence: '',
      },
    },
  })
  if (attest.statusCode !== 200)
    throw new Error(`attest failed: ${attest.statusCode} ${attest.body}`)

  return { cookie, token: (attest.json() as { token: string }).token, teeKey }
}

/** Decrypts a released resource with the TEE key. */
export async function openResource(body: unknown, teeKey: TeeKey): Promise<string> {
  const { plaintext } = await flattenedDecrypt(body as never, teeKey.privateKey)
  return new TextDecoder().decode(plaintext)
}
