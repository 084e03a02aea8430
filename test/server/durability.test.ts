/**
 * Durability of admin writes across SIGKILL, on a SQLite file and on PostgreSQL. `confide serve`
 * runs as a child process. The test sends concurrent admin writes (resources, resource policies
 * and `/v1/admin` policies) and kills the child with SIGKILL after a random number of them were
 * acknowledged, while the others are in flight. It then restarts the child on the same store and
 * keys. Every acknowledged write must read back with its exact content and have its audit
 * record. A write that got no response must be either absent or
 * whole, and every sealed resource in the store must decrypt.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject, randomBytes, randomInt } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { flattenedDecrypt } from 'jose'
import { generateMasterKey, ResourceSealer } from '../../src/kbs/envelope.js'
import { runtimeDataDigest } from '../../src/kbs/runtime-data.js'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey, type SimKey } from '../../src/platforms/sim/dev-key.js'
import { mintAdminToken } from '../../src/server/admin-token.js'
import { openStore } from '../../src/store/open.js'
import { findPostgresBin, ThrowawayCluster } from '../helpers/postgres.js'
import { type ServeProcess, startServeProcess } from '../helpers/serve-process.js'
import { base64Json, createTeeKey, SIM_POLICY, sessionCookie, type TeeKey } from './helpers.js'

/** Rounds of write, kill and restart per engine. */
const ROUNDS = 3
/** Admin writes in flight at once. */
const CONCURRENCY = 16
/** The child is killed after between these numbers of acknowledged writes in a round. */
const MIN_ACKNOWLEDGED = 10
const MAX_ACKNOWLEDGED = 120

type WriteKind = 'resource' | 'resource-policy' | 'policy'

/** One admin write the test sent, and whether the service acknowledged it with 2xx. */
interface Write {
  readonly kind: WriteKind
  /** Resource path, resource policy path, or policy id. */
  readonly target: string
  /** Resource bytes as base64, or the policy document. */
  readonly content: string | Record<string, unknown>
  acknowledged: boolean
}

/** The store, keys and configuration that survive a restart. */
interface Deployment {
  readonly folder: string
  readonly store: string
  readonly masterKeyFile: string
  readonly simKey: SimKey
  readonly adminKey: KeyObject
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
}

async function createDeployment(store: (folder: string) => Promise<string>): Promise<Deployment> {
  const folder = mkdtempSync(join(tmpdir(), 'confide-durability-'))
  const masterKeyFile = join(folder, 'master-key')
  writeFileSync(masterKeyFile, `${generateMasterKey()}\n`, { mode: 0o600 })
  const admin = generateKeyPairSync('ed25519')
  const adminPublic = join(folder, 'admin.pem.pub')
  writeFileSync(adminPublic, admin.publicKey.export({ type: 'spki', format: 'pem' }))
  const simKeyFile = join(folder, 'sim-key.pem')
  const location = await store(folder)

  return {
    folder,
    store: location,
    masterKeyFile,
    simKey: await loadSimKey({ path: simKeyFile }),
    adminKey: admin.privateKey,
    args: ['--store', location, '--admin-key', adminPublic, '--master-key-file', masterKeyFile],
    env: {
      ...process.env,
      XDG_DATA_HOME: join(folder, 'data'),
      CONFIDE_SIM_KEY: simKeyFile,
      CONFIDE_ADMIN_KEY: '',
      CONFIDE_MASTER_KEY: '',
      CONFIDE_STORE: '',
    },
  }
}

/** Returns a random write of `kind`, named after its round and number so that none repeats. */
function newWrite(kind: WriteKind, round: number, index: number): Write {
  const name = `r${round}-w${index}`
  if (kind === 'resource')
    return {
      kind,
      target: `durable/secret/${name}`,
      content: randomBytes(randomInt(1, 4096)).toString('base64'),
      acknowledged: false,
    }
  const policy = { id: `${kind}-${name}`, platforms: ['sim'], allowSimulated: true }
  if (kind === 'resource-policy')
    return { kind, target: `durable/policy/${name}`, content: policy, acknowledged: false }

  return {
    kind,
    target: policy.id,
    content: { ...policy, allowDebug: index % 2 === 0 },
    acknowledged: false,
  }
}

/** Sends one write and returns the response status. */
async function send(url: string, token: string, write: Write): Promise<number> {
  const authorization = `Bearer ${token}`
  if (write.kind === 'resource') {
    const response = await fetch(`${url}/kbs/v0/resource/${write.target}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/octet-stream' },
      body: Buffer.from(write.content as string, 'base64'),
    })
    await response.arrayBuffer()
    return response.status
  }
  const body =
    write.kind === 'resource-policy'
      ? { policy: base64Json(write.content), resource: write.target }
      : write.content
  const path = write.kind === 'resource-policy' ? '/kbs/v0/resource-policy' : '/v1/admin/policies'
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  await response.arrayBuffer()
  return response.status
}

/**
 * Sends writes from `CONCURRENCY` workers until `killAfter` of them were acknowledged, then kills
 * the child with SIGKILL at once, with the other workers' writes in flight. Returns every write
 * sent.
 */
async function writeUntilKilled(
  server: ServeProcess,
  token: string,
  round: number,
  killAfter: number,
): Promise<Write[]> {
  const kinds: WriteKind[] = ['resource', 'resource-policy', 'policy']
  const writes: Write[] = []
  let acknowledged = 0
  let killed = false
  const worker = async () => {
    while (!killed) {
      const write = newWrite(kinds[writes.length % kinds.length] as WriteKind, round, writes.length)
      writes.push(write)
      let status: number
      try {
        status = await send(server.url, token, write)
      } catch {
        // The connection closed under the kill: the write's outcome is unknown.
        return
      }
      if (killed) return
      const label = `${write.kind} ${write.target} returned ${status}`
      assert.ok(status >= 200, label)
      assert.ok(status < 300, label)
      write.acknowledged = true
      acknowledged += 1
      if (acknowledged === killAfter) {
        killed = true
        server.child.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  assert.equal(await server.exited, null, 'the child ended by the signal')

  return writes
}

/** Additional data of a sealed resource, as the broker binds it to its path. */
function resourceAad(path: string): Uint8Array {
  return new TextEncoder().encode(`confide-kbs-resource:${path}`)
}

/**
 * Opens the store with the server stopped and checks it: every sealed resource decrypts, each
 * resource written is absent or exact, and every acknowledged write has its audit record.
 */
async function checkStore(deployment: Deployment, writes: readonly Write[]): Promise<void> {
  const store = await openStore(deployment.store)
  try {
    const sealer = ResourceSealer.fromFile(deployment.masterKeyFile)
    const rows = await store.db.selectFrom('kbs_resource').select(['path', 'sealed']).execute()
    const stored = new Map<string, string>()
    for (const row of rows) {
      const plaintext = sealer.open(new Uint8Array(row.sealed), resourceAad(row.path))
      stored.set(row.path, Buffer.from(plaintext).toString('base64'))
    }
    for (const write of writes.filter((each) => each.kind === 'resource')) {
      const content = stored.get(write.target)
      if (write.acknowledged) assert.equal(content, write.content, `resource ${write.target}`)
      else if (content !== undefined) assert.equal(content, write.content, write.target)
    }

    const audit = await store.db
      .selectFrom('kbs_audit')
      .select(['action', 'resource', 'policy_id', 'decision'])
      .where('action', 'in', ['set-resource', 'set-resource-policy', 'set-policy'])
      .execute()
    const audited = new Set(
      audit.map((row) => `${row.action} ${row.resource ?? row.policy_id} ${row.decision}`),
    )
    const actions = {
      resource: 'set-resource',
      'resource-policy': 'set-resource-policy',
      policy: 'set-policy',
    }
    for (const write of writes.filter((each) => each.acknowledged)) {
      const key = `${actions[write.kind]} ${write.target} allow`
      assert.ok(audited.has(key), `no audit record for ${key}`)
    }
  } finally {
    await store.close()
  }
}

/** Runs `auth` and `attest` over HTTP with simulated evidence. Returns the session cookie and TEE key. */
async function attestOverHttp(
  url: string,
  simKey: SimKey,
): Promise<{ cookie: string; teeKey: TeeKey }> {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
  const auth = await post('/kbs/v0/auth', { version: '0.4.0', tee: 'sim', 'extra-params': '' })
  assert.equal(auth.status, 200, 'auth')
  const cookie = sessionCookie(auth.headers.getSetCookie())
  const { nonce } = (await auth.json()) as { nonce: string }
  const teeKey = await createTeeKey()
  const digest = runtimeDataDigest(
    { nonce, teePubkey: teeKey.publicJwk as never, additionalEvidence: '' },
    'sim',
  )
  const evidence = new TextDecoder().decode(simEvidence(simKey, { reportData: digest }))
  const attestation = {
    'runtime-data': { nonce, 'tee-pubkey': teeKey.publicJwk },
    'tee-evidence': { primary_evidence: JSON.parse(evidence), additional_evidence: '' },
  }
  const attest = await post('/kbs/v0/attest', attestation, { cookie })
  assert.equal(attest.status, 200, `attest: ${await attest.text()}`)

  return { cookie, teeKey }
}

/** Returns what the service stores at a write's target, or undefined when it stores nothing. */
async function readTarget(
  url: string,
  headers: { cookie: string; authorization: string },
  teeKey: TeeKey,
  write: Write,
): Promise<string | Record<string, unknown> | undefined> {
  const path =
    write.kind === 'resource'
      ? `/kbs/v0/resource/${write.target}`
      : write.kind === 'resource-policy'
        ? `/kbs/v0/resource-policy?resource=${encodeURIComponent(write.target)}`
        : `/v1/admin/policies/${encodeURIComponent(write.target)}`
  const response = await fetch(`${url}${path}`, {
    headers: write.kind === 'resource' ? { cookie: headers.cookie } : headers,
  })
  const body = await response.text()
  if (response.status === 404) return undefined
  assert.equal(response.status, 200, `${write.kind} ${write.target}: ${body}`)

  if (write.kind === 'resource') {
    const { plaintext } = await flattenedDecrypt(JSON.parse(body), teeKey.privateKey)
    return Buffer.from(plaintext).toString('base64')
  }
  if (write.kind === 'resource-policy') {
    const { policy } = JSON.parse(body) as { policy: string }
    return JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as Record<string, unknown>
  }

  return (JSON.parse(body) as { policy: Record<string, unknown> }).policy
}

/**
 * Reads every write back through the restarted server: resources by a KBS exchange with the
 * simulated TEE, policies by the admin API. An acknowledged write must be there with its exact
 * content; a write without a response must be absent or exact.
 */
async function readBack(
  server: ServeProcess,
  deployment: Deployment,
  token: string,
  writes: readonly Write[],
): Promise<void> {
  const { cookie, teeKey } = await attestOverHttp(server.url, deployment.simKey)
  const headers = { cookie, authorization: `Bearer ${token}` }
  for (const write of writes) {
    const content = await readTarget(server.url, headers, teeKey, write)
    const label = `${write.acknowledged ? 'acknowledged' : 'unanswered'} ${write.kind} ${write.target}`
    if (write.acknowledged || content !== undefined) assert.deepEqual(content, write.content, label)
  }
}

/** Sets the attestation policy and the `*` resource policy that let the simulated TEE read. */
async function allowSim(url: string, token: string): Promise<void> {
  for (const [path, body] of [
    ['/kbs/v0/attestation-policy', { policy: base64Json(SIM_POLICY) }],
    ['/kbs/v0/resource-policy', { policy: base64Json(SIM_POLICY), resource: '*' }],
  ] as const) {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    assert.equal(response.status, 200, `${path}: ${await response.text()}`)
  }
}

/**
 * Runs `ROUNDS` rounds of writes, SIGKILL, store check and restart with a read-back of every
 * write so far, then stops the last child with SIGTERM.
 */
async function killAndRestart(deployment: Deployment): Promise<void> {
  const token = await mintAdminToken(deployment.adminKey, { subject: 'durability' })
  let server = await startServeProcess(deployment.args, deployment.env)
  const writes: Write[] = []
  let stage = 'setup'
  try {
    await allowSim(server.url, token)
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = randomInt(MIN_ACKNOWLEDGED, MAX_ACKNOWLEDGED + 1)
      stage = `round ${round}, killed after ${killAfter} acknowledged writes`
      const sent = await writeUntilKilled(server, token, round, killAfter)
      const unanswered = sent.filter((write) => !write.acknowledged).length
      assert.equal(sent.length - unanswered, killAfter, 'acknowledged writes')
      assert.ok(unanswered > 0, 'writes were in flight at the kill')
      writes.push(...sent)

      await checkStore(deployment, writes)
      server = await startServeProcess(deployment.args, deployment.env)
      await readBack(server, deployment, token, writes)
    }
    assert.equal(await server.stop('SIGTERM'), 0, 'the last child exits 0 on SIGTERM')
  } catch (error) {
    await server.stop('SIGKILL')
    throw new Error(
      `${stage}: ${(error as Error).message}\nLast child's log:\n${server.logTail()}`,
      {
        cause: error,
      },
    )
  }
}

describe('admin writes across SIGKILL', () => {
  const deployments: Deployment[] = []
  after(() => {
    for (const deployment of deployments)
      rmSync(deployment.folder, { recursive: true, force: true })
  })

  it('keeps every acknowledged write on SQLite', { timeout: 180_000 }, async () => {
    const deployment = await createDeployment(async (folder) => join(folder, 'store.db'))
    deployments.push(deployment)
    await killAndRestart(deployment)
  })

  const bin = findPostgresBin()
  const skip =
    bin === undefined ? 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin' : false
  describe('on PostgreSQL', { skip }, () => {
    const cluster = bin === undefined ? undefined : new ThrowawayCluster(bin)
    before(() => cluster?.start())
    after(() => cluster?.stop())

    it('keeps every acknowledged write on PostgreSQL', { timeout: 180_000 }, async () => {
      if (cluster === undefined) throw new Error('no cluster')
      const deployment = await createDeployment(() => cluster.newDatabase())
      deployments.push(deployment)
      await killAndRestart(deployment)
    })
  })
})
