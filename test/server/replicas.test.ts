/**
 * Two `confide serve` replicas on one PostgreSQL store, configured as deploy/ configures them:
 * the same store URL, master key, EAR signing key and admin public key, and separate data
 * folders. The replicas are child processes rather than two servers in this process, so that no
 * module state shared inside one Node process can stand in for the store. The steps of each KBS
 * exchange go to either replica, and concurrent attestations race for one nonce across both.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { flattenedDecrypt } from 'jose'
import { createSimAttester } from '../../src/attest/sim.js'
import { KbsBroker } from '../../src/kbs/broker.js'
import { kbsGetResource } from '../../src/kbs/client.js'
import { generateMasterKey, ResourceSealer } from '../../src/kbs/envelope.js'
import { verifyKbsEvidence } from '../../src/kbs/evidence.js'
import { parseKbsAttestation, parseKbsRequest } from '../../src/kbs/protocol.js'
import { parseResourcePath } from '../../src/kbs/resource-path.js'
import { runtimeDataDigest } from '../../src/kbs/runtime-data.js'
import { sessionKey } from '../../src/kbs/sessions.js'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey, type SimKey } from '../../src/platforms/sim/dev-key.js'
import { mintAdminToken } from '../../src/server/admin-token.js'
import { loadSigningKey } from '../../src/server/key-files.js'
import { openStore, type Store } from '../../src/store/open.js'
import { findPostgresBin, ThrowawayCluster } from '../helpers/postgres.js'
import { type ServeProcess, startServeProcess } from '../helpers/serve-process.js'
import {
  base64Json,
  createTeeKey,
  openResource,
  SIM_POLICY,
  sessionCookie,
  type TeeKey,
} from './helpers.js'

/** Attestations sent at once with one session's nonce, half to each replica. */
const CONCURRENT_ATTESTS = 32
/** How far the clock of the broker that opens expired sessions lags the real clock. */
const PAST_OFFSET_MS = 60 * 60 * 1000

const SECRET = 'the shared database password'
const SECRET_PATH = 'replica/db/password'
const SIM_KEY_FILE = 'sim-key.pem'

/** The files both replicas are given, and the private halves the test signs with. */
interface Deployment {
  readonly folder: string
  readonly store: string
  readonly masterKeyFile: string
  readonly signingKeyFile: string
  readonly simKey: SimKey
  readonly adminKey: KeyObject
  readonly args: readonly string[]
}

/** Writes the master key, EAR signing key, admin public key and sim key into a new folder. */
async function createDeployment(store: string): Promise<Deployment> {
  const folder = mkdtempSync(join(tmpdir(), 'confide-replicas-'))
  const masterKeyFile = join(folder, 'master-key')
  writeFileSync(masterKeyFile, `${generateMasterKey()}\n`, { mode: 0o600 })
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const signingKeyFile = join(folder, 'ear-signing-key.pem')
  const signingPem = signing.privateKey.export({ type: 'pkcs8', format: 'pem' })
  writeFileSync(signingKeyFile, signingPem, { mode: 0o600 })
  const admin = generateKeyPairSync('ed25519')
  const adminPublic = join(folder, 'admin.pem.pub')
  writeFileSync(adminPublic, admin.publicKey.export({ type: 'spki', format: 'pem' }))

  return {
    folder,
    store,
    masterKeyFile,
    signingKeyFile,
    simKey: await loadSimKey({ path: join(folder, SIM_KEY_FILE) }),
    adminKey: admin.privateKey,
    args: [
      '--store',
      store,
      '--admin-key',
      adminPublic,
      '--master-key-file',
      masterKeyFile,
      '--signing-key',
      signingKeyFile,
    ],
  }
}

/**
 * Returns the environment of one replica: its own data folder, so that replicas share nothing on
 * disk but the key files, and the sim key both trust through `CONFIDE_SIM_KEY`.
 */
function replicaEnv(deployment: Deployment, name: string): NodeJS.ProcessEnv {
  const dataHome = join(deployment.folder, `${name}-data`)
  mkdirSync(dataHome)

  return {
    ...process.env,
    XDG_DATA_HOME: dataHome,
    CONFIDE_SIM_KEY: join(deployment.folder, SIM_KEY_FILE),
    CONFIDE_ADMIN_KEY: '',
    CONFIDE_MASTER_KEY: '',
    CONFIDE_STORE: '',
  }
}

/** Sends a JSON POST. */
function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

/** Sends an admin write and checks that it returned 200. */
async function adminPost(url: string, token: string, path: string, body: unknown): Promise<void> {
  const response = await post(url, path, body, { authorization: `Bearer ${token}` })
  assert.equal(response.status, 200, `${path} on ${url}: ${await response.text()}`)
}

/** Stores a resource with the raw body, as an admin. */
async function putResource(url: string, token: string, path: string, bytes: string) {
  const response = await fetch(`${url}/kbs/v0/resource/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.from(bytes),
  })
  assert.equal(response.status, 200, `resource ${path} on ${url}: ${await response.text()}`)
}

/** A session opened by `auth`: its cookie and its nonce. */
interface Challenge {
  readonly cookie: string
  readonly nonce: string
}

async function auth(url: string): Promise<Challenge> {
  const response = await post(url, '/kbs/v0/auth', {
    version: '0.4.0',
    tee: 'sim',
    'extra-params': '',
  })
  assert.equal(response.status, 200, `auth on ${url}`)
  const cookie = sessionCookie(response.headers.getSetCookie())
  const { nonce } = (await response.json()) as { nonce: string }

  return { cookie, nonce }
}

/** Returns a KBS `Attestation` body with sim evidence binding the nonce and the TEE key. */
function attestationBody(simKey: SimKey, nonce: string, teeKey: TeeKey, at?: Date) {
  const digest = runtimeDataDigest(
    { nonce, teePubkey: teeKey.publicJwk as never, additionalEvidence: '' },
    'sim',
  )
  const evidence = simEvidence(simKey, { reportData: digest, ...(at === undefined ? {} : { at }) })

  return {
    'runtime-data': { nonce, 'tee-pubkey': teeKey.publicJwk },
    'tee-evidence': {
      primary_evidence: JSON.parse(Buffer.from(evidence).toString('utf8')),
      additional_evidence: '',
    },
  }
}

/** An attested session: its cookie, the token `attest` returned, and the TEE key bound to it. */
interface Attested {
  readonly cookie: string
  readonly token: string
  readonly teeKey: TeeKey
}

/** Runs `auth` on `authUrl` and `attest` on `attestUrl` with the session cookie. */
async function attest(simKey: SimKey, authUrl: string, attestUrl: string): Promise<Attested> {
  const { cookie, nonce } = await auth(authUrl)
  const teeKey = await createTeeKey()
  const response = await post(attestUrl, '/kbs/v0/attest', attestationBody(simKey, nonce, teeKey), {
    cookie,
  })
  const text = await response.text()
  assert.equal(response.status, 200, `attest on ${attestUrl}: ${text}`)
  const { token } = JSON.parse(text) as { token: string }

  return { cookie, token, teeKey }
}

/** Fetches a resource with the given credential headers. */
function getResource(url: string, path: string, headers: Record<string, string>) {
  return fetch(`${url}/kbs/v0/resource/${path}`, { headers })
}

/** Fetches a resource, checks the 200 and returns the plaintext decrypted with `teeKey`. */
async function fetchSecret(
  url: string,
  path: string,
  headers: Record<string, string>,
  teeKey: TeeKey,
): Promise<string> {
  const response = await getResource(url, path, headers)
  const body = await response.text()
  assert.equal(response.status, 200, `resource ${path} on ${url}: ${body}`)

  return openResource(JSON.parse(body), teeKey)
}

/** Checks that a KBS request was rejected with `status` and a detail matching `detail`. */
async function assertRejected(
  response: Response,
  status: number,
  detail: RegExp,
  label: string,
): Promise<void> {
  const body = (await response.json()) as { detail?: string }
  assert.equal(response.status, status, `${label}: ${JSON.stringify(body)}`)
  assert.match(body.detail ?? '', detail, label)
}

/** One record of `GET /v1/admin/audit`, as JSON. */
interface AuditJson {
  readonly id: number
  readonly action: string
  readonly decision: string
  readonly reason: string
  readonly sessionId?: string
}

async function readAudit(url: string, token: string, query: string): Promise<AuditJson[]> {
  const response = await fetch(`${url}/v1/admin/audit?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  })
  const body = await response.text()
  assert.equal(response.status, 200, `audit on ${url}: ${body}`)

  return (JSON.parse(body) as { records: AuditJson[] }).records
}

/** Returns the session ID inside a `kbs-session-id=...` cookie header value. */
function sessionIdOf(cookie: string): string {
  return cookie.slice(cookie.indexOf('=') + 1)
}

/**
 * Builds a broker in this process over the replicas' store and keys, with its clock stopped at
 * `past`. Sessions it opens have expired by the replicas' clocks when `past` is far enough back.
 */
async function pastBroker(deployment: Deployment, store: Store, past: Date): Promise<KbsBroker> {
  const signing = await loadSigningKey(deployment.signingKeyFile, deployment.folder)
  const trustedKeys = [deployment.simKey.publicKeySpki]

  return new KbsBroker({
    store,
    sealer: ResourceSealer.fromFile(deployment.masterKeyFile),
    signer: signing.signer,
    verify: (evidence, tee, options) =>
      verifyKbsEvidence(evidence, tee, { ...options, trustedKeys }),
    now: () => past,
  })
}

const bin = findPostgresBin()
const skip =
  bin === undefined ? 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin' : false

describe('replicas sharing one PostgreSQL store', { skip, timeout: 120_000 }, () => {
  const cluster = bin === undefined ? undefined : new ThrowawayCluster(bin)
  let deployment: Deployment | undefined
  let replicaA: ServeProcess | undefined
  let replicaB: ServeProcess | undefined
  let a = ''
  let b = ''
  let adminToken = ''
  let simKey: SimKey

  before(async () => {
    if (cluster === undefined) throw new Error('no cluster')
    await cluster.start()
    deployment = await createDeployment(await cluster.newDatabase())
    simKey = deployment.simKey
    // Both start at once on an empty database, as a Deployment's pods do.
    const started = await Promise.allSettled([
      startServeProcess(deployment.args, replicaEnv(deployment, 'a')),
      startServeProcess(deployment.args, replicaEnv(deployment, 'b')),
    ])
    if (started[0].status === 'fulfilled') replicaA = started[0].value
    if (started[1].status === 'fulfilled') replicaB = started[1].value
    for (const result of started) if (result.status === 'rejected') throw result.reason
    a = replicaA?.url ?? ''
    b = replicaB?.url ?? ''
    adminToken = await mintAdminToken(deployment.adminKey, { subject: 'replicas' })

    await adminPost(a, adminToken, '/kbs/v0/attestation-policy', {
      policy: base64Json(SIM_POLICY),
    })
    await putResource(a, adminToken, SECRET_PATH, SECRET)
    await adminPost(a, adminToken, '/kbs/v0/resource-policy', {
      policy: base64Json(SIM_POLICY),
      resource: SECRET_PATH,
    })
  })

  after(async () => {
    try {
      await replicaA?.stop('SIGTERM')
      await replicaB?.stop('SIGTERM')
    } finally {
      cluster?.stop()
      if (deployment !== undefined) rmSync(deployment.folder, { recursive: true, force: true })
    }
  })

  it('reports both replicas ready', async () => {
    for (const url of [a, b]) {
      const response = await fetch(`${url}/readyz`)
      assert.equal(response.status, 200, `readyz on ${url}`)
      assert.deepEqual(await response.json(), { status: 'ready' })
    }
  })

  it('serves on B what an admin wrote on A', async () => {
    const path = 'replica/admin/written'
    const policy = { ...SIM_POLICY, id: 'written-on-a' }
    await putResource(a, adminToken, path, 'written on A')
    await adminPost(a, adminToken, '/kbs/v0/resource-policy', {
      policy: base64Json(policy),
      resource: path,
    })

    const read = await fetch(`${b}/kbs/v0/resource-policy?resource=${encodeURIComponent(path)}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    })
    assert.equal(read.status, 200, 'resource policy read on B')
    const { policy: stored } = (await read.json()) as { policy: string }
    const decoded = JSON.parse(Buffer.from(stored, 'base64').toString('utf8')) as { id: string }
    assert.equal(decoded.id, 'written-on-a')

    const session = await attest(simKey, b, b)
    const secret = await fetchSecret(b, path, { cookie: session.cookie }, session.teeKey)
    assert.equal(secret, 'written on A')

    const query = `resource=${encodeURIComponent(path)}&decision=allow`
    const writes = await readAudit(b, adminToken, query)
    const actions = writes.filter((record) => record.action !== 'resource')
    assert.deepEqual(actions.map((record) => record.action).sort(), [
      'set-resource',
      'set-resource-policy',
    ])
  })

  it('completes an exchange that alternates replicas', async () => {
    const { cookie, token, teeKey } = await attest(simKey, a, b)

    const byCookie = await fetchSecret(a, SECRET_PATH, { cookie }, teeKey)
    assert.equal(byCookie, SECRET, 'by cookie on A')
    const byToken = await fetchSecret(b, SECRET_PATH, { authorization: `Bearer ${token}` }, teeKey)
    assert.equal(byToken, SECRET, 'by token on B')
  })

  it('lets one of many concurrent attests use a nonce', async () => {
    const { cookie, nonce } = await auth(a)
    const body = attestationBody(simKey, nonce, await createTeeKey())
    const attempts = Array.from({ length: CONCURRENT_ATTESTS }, (_, index) =>
      post(index % 2 === 0 ? a : b, '/kbs/v0/attest', body, { cookie }),
    )
    const responses = await Promise.all(attempts)
    const bodies = await Promise.all(responses.map((response) => response.json()))

    const statuses = responses.map((response) => response.status)
    assert.equal(statuses.filter((status) => status === 200).length, 1, `statuses ${statuses}`)
    assert.equal(statuses.filter((status) => status === 401).length, CONCURRENT_ATTESTS - 1)
    const rejections = bodies.filter((_, index) => statuses[index] === 401) as { detail: string }[]
    for (const rejection of rejections) assert.equal(rejection.detail, 'nonce used')

    const sessionId = sessionKey(sessionIdOf(cookie))
    const fromA = await readAudit(a, adminToken, 'action=attest&limit=1000')
    const fromB = await readAudit(b, adminToken, 'action=attest&limit=1000')
    const records = fromA.filter((record) => record.sessionId === sessionId)
    assert.deepEqual(
      fromB.filter((record) => record.sessionId === sessionId),
      records,
      'both replicas read the same audit records',
    )
    assert.equal(records.length, CONCURRENT_ATTESTS)
    const allowed = records.filter((record) => record.decision === 'allow')
    const denied = records.filter((record) => record.decision === 'deny')
    assert.equal(allowed.length, 1, 'one allow record')
    assert.equal(denied.length, CONCURRENT_ATTESTS - 1, 'deny records')
    for (const record of denied) assert.equal(record.reason, 'nonce used')
  })

  it('accepts on B a token issued by A', async () => {
    const { token, teeKey } = await attest(simKey, a, a)
    const bearer = { authorization: `Bearer ${token}` }

    assert.equal(await fetchSecret(b, SECRET_PATH, bearer, teeKey), SECRET)
    assert.equal(await fetchSecret(a, SECRET_PATH, bearer, teeKey), SECRET)
  })

  it('binds each token to its own TEE key', async () => {
    const x = await attest(simKey, a, b)
    const y = await attest(simKey, b, a)

    for (const url of [a, b]) {
      const xTokenForY = await getResource(url, SECRET_PATH, {
        authorization: `Bearer ${x.token}`,
        cookie: y.cookie,
      })
      await assertRejected(
        xTokenForY,
        401,
        /issued for another session/,
        `X token, Y cookie ${url}`,
      )
      const yTokenForX = await getResource(url, SECRET_PATH, {
        authorization: `Bearer ${y.token}`,
        cookie: x.cookie,
      })
      await assertRejected(
        yTokenForX,
        401,
        /issued for another session/,
        `Y token, X cookie ${url}`,
      )

      const released = await getResource(url, SECRET_PATH, { authorization: `Bearer ${x.token}` })
      assert.equal(released.status, 200, `X token on ${url}`)
      const sealed = await released.json()
      await assert.rejects(flattenedDecrypt(sealed as never, y.teeKey.privateKey))
      assert.equal(await openResource(sealed, x.teeKey), SECRET)
    }
  })

  it('rejects an expired session on both replicas', async (t) => {
    if (deployment === undefined) throw new Error('no deployment')
    const store = await openStore(deployment.store)
    t.after(() => store.close())
    const past = new Date(Date.now() - PAST_OFFSET_MS)
    const broker = await pastBroker(deployment, store, past)
    const request = parseKbsRequest({ version: '0.4.0', tee: 'sim', 'extra-params': '' })
    const client = { address: '127.0.0.1' }

    // A session that expired before its attestation: its nonce can no longer be used.
    const opened = await broker.auth(request, client)
    const body = attestationBody(simKey, opened.challenge.nonce, await createTeeKey())
    const cookie = `kbs-session-id=${opened.sessionId}`
    for (const url of [a, b]) {
      const response = await post(url, '/kbs/v0/attest', body, { cookie })
      await assertRejected(response, 401, /^session expired$/, `attest on ${url}`)
    }

    // A session attested an hour ago: its cookie and its token have both expired.
    const attested = await broker.auth(request, client)
    const teeKey = await createTeeKey()
    const attestation = attestationBody(simKey, attested.challenge.nonce, teeKey, past)
    const { token } = await broker.attest(attested.sessionId, parseKbsAttestation(attestation))
    assert.equal(
      await broker
        .resource({ token }, parseResourcePath(SECRET_PATH), client)
        .then(() => 'released'),
      'released',
      'the past broker releases to its own session',
    )
    for (const url of [a, b]) {
      const byCookie = await getResource(url, SECRET_PATH, {
        cookie: `kbs-session-id=${attested.sessionId}`,
      })
      await assertRejected(byCookie, 401, /session is expired/, `cookie on ${url}`)
      const byToken = await getResource(url, SECRET_PATH, { authorization: `Bearer ${token}` })
      await assertRejected(byToken, 401, /bearer token is invalid/, `token on ${url}`)
    }
  })

  it('keeps B serving after A stops', async () => {
    const beforeStop = await attest(simKey, a, a)
    assert.equal(await replicaA?.stop('SIGTERM'), 0, 'A exits 0 on SIGTERM')

    const ready = await fetch(`${b}/readyz`)
    assert.equal(ready.status, 200, 'readyz on B')
    const secret = await fetchSecret(
      b,
      SECRET_PATH,
      { cookie: beforeStop.cookie },
      beforeStop.teeKey,
    )
    assert.equal(secret, SECRET, 'a session attested on A, on B')
    const attester = createSimAttester(simKey)
    const resource = await kbsGetResource({ url: b, path: SECRET_PATH, attester })
    assert.equal(new TextDecoder().decode(resource.bytes), SECRET, 'a new exchange on B')
  })
})
