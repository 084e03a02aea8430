/**
 * The KBS client against the confide service, listening on 127.0.0.1 with a store in memory and
 * the simulated TEE's key in a temporary folder.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { generateKeyPair } from 'jose'
import type { Attester } from '../../src/attest/attester.js'
import { createSimAttester } from '../../src/attest/sim.js'
import { isConfideError } from '../../src/core/errors.js'
import { KbsBroker } from '../../src/kbs/broker.js'
import { type KbsClientError, kbsGetResource } from '../../src/kbs/client.js'
import { generateMasterKey, ResourceSealer } from '../../src/kbs/envelope.js'
import { verifyKbsEvidence } from '../../src/kbs/evidence.js'
import { loadSimKey, type SimKey } from '../../src/platforms/sim/dev-key.js'
import { buildServer } from '../../src/server/app.js'
import { openStore, type Store } from '../../src/store/open.js'
import { cli } from '../attest/verify-cli.js'

const SECRET = new TextEncoder().encode('the database password')
const ALLOW_SIM = { id: 'allow-sim', allowSimulated: true }

let folder: string
let simKey: SimKey
let store: Store
let server: FastifyInstance
let url: string

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'confide-kbs-client-'))
  simKey = await loadSimKey({ path: join(folder, 'sim-key.pem') })
  store = await openStore(':memory:')
  const { privateKey } = await generateKeyPair('ES256')
  const signer = { key: privateKey, alg: 'ES256' as const }
  const broker = new KbsBroker({
    store,
    sealer: new ResourceSealer(Buffer.from(generateMasterKey(), 'hex')),
    signer,
    verify: (evidence, tee, options) =>
      verifyKbsEvidence(evidence, tee, { ...options, trustedKeys: [simKey.publicKeySpki] }),
  })
  await broker.setAttestationPolicy(ALLOW_SIM, 'test')
  await broker.setResource({ repository: 'default', type: 'db', tag: 'password' }, SECRET, 'test')
  await broker.setResource({ repository: 'locked', type: 'db', tag: 'password' }, SECRET, 'test')
  await broker.setResourcePolicy(
    { repository: 'default', type: 'db', tag: 'password' },
    ALLOW_SIM,
    'test',
  )
  await broker.setResourcePolicy(
    { repository: 'default', type: 'db', tag: 'missing' },
    ALLOW_SIM,
    'test',
  )
  server = await buildServer({ store, broker, signer, adminKeys: [], logger: false })
  await server.listen({ host: '127.0.0.1', port: 0 })
  url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
})

after(async () => {
  await server.close()
  await store.close()
})

function failsWith(code: string, status?: number) {
  return (error: unknown) => {
    assert.ok(isConfideError(error), String(error))
    assert.equal(error.code, code, error.message)
    if (status !== undefined) assert.equal((error as KbsClientError).status, status)
    return true
  }
}

describe('kbsGetResource', () => {
  it('releases a resource to an EC key', async () => {
    const attester = createSimAttester(simKey)
    const resource = await kbsGetResource({ url, path: 'default/db/password', attester })
    assert.deepEqual(resource.bytes, SECRET)
    assert.equal(resource.token.split('.').length, 3)
  })

  it('releases a resource to an RSA key', async () => {
    const attester = createSimAttester(simKey)
    const path = 'default/db/password'
    const resource = await kbsGetResource({ url, path, attester, keyType: 'RSA' })
    assert.deepEqual(resource.bytes, SECRET)
  })

  it('shows the policy denial', async () => {
    const attester = createSimAttester(simKey)
    const request = kbsGetResource({ url, path: 'locked/db/password', attester })
    await assert.rejects(request, failsWith('ERR_KBS_DENIED', 403))
    await assert.rejects(
      kbsGetResource({ url, path: 'locked/db/password', attester }),
      (error: KbsClientError) => {
        assert.equal(error.step, 'resource')
        assert.equal(error.problemType, 'PolicyDeny')
        assert.ok(error.detail !== undefined)
        assert.ok(error.detail.length > 0)
        assert.match(error.message, /HTTP 403 PolicyDeny: /)
        return true
      },
    )
  })

  it('reports a missing resource', async () => {
    const attester = createSimAttester(simKey)
    const request = kbsGetResource({ url, path: 'default/db/missing', attester })
    await assert.rejects(request, failsWith('ERR_KBS_NOT_FOUND', 404))
  })

  it('reports evidence that binds other data', async () => {
    const sim = createSimAttester(simKey)
    const attester: Attester = { ...sim, attest: () => sim.attest(new Uint8Array(64)) }
    const request = kbsGetResource({ url, path: 'default/db/password', attester })
    await assert.rejects(request, failsWith('ERR_KBS_ATTESTATION', 401))
  })

  it('reports evidence signed by an untrusted key', async () => {
    const other = await loadSimKey({ path: join(folder, 'other-key.pem') })
    const attester = createSimAttester(other)
    const request = kbsGetResource({ url, path: 'default/db/password', attester })
    await assert.rejects(request, failsWith('ERR_KBS_ATTESTATION', 401))
  })

  it('reports an unsupported protocol TEE', async () => {
    const attester = createSimAttester(simKey)
    const request = kbsGetResource({ url, path: 'default/db/password', attester, tee: 'csv' })
    await assert.rejects(request, (error: KbsClientError) => {
      assert.equal(error.step, 'auth')
      assert.equal(error.status, 401)
      return true
    })
  })

  it('reports a closed port', async () => {
    const closed = await buildServer({
      store,
      signer: { key: (await generateKeyPair('ES256')).privateKey, alg: 'ES256' },
      adminKeys: [],
      logger: false,
    })
    await closed.listen({ host: '127.0.0.1', port: 0 })
    const port = (closed.server.address() as AddressInfo).port
    await closed.close()
    const attester = createSimAttester(simKey)
    const request = kbsGetResource({
      url: `http://127.0.0.1:${port}`,
      path: 'default/db/password',
      attester,
    })
    await assert.rejects(request, failsWith('ERR_HTTP_REQUEST_FAILED'))
  })

  it('stops reading a response body past its limit', async () => {
    let written = 0
    const endless = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (written < 64 * 1024 * 1024 && response.write(chunk)) written += chunk.length
        if (written < 64 * 1024 * 1024) response.once('drain', pump)
        else response.end()
      }
      pump()
    })
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = endless.address() as AddressInfo
      const request = kbsGetResource({
        url: `http://127.0.0.1:${port}`,
        path: 'default/db/password',
        attester: createSimAttester(simKey),
      })
      await assert.rejects(request, failsWith('ERR_HTTP_RESPONSE_INVALID'))
      assert.ok(written < 64 * 1024 * 1024, 'the client stopped reading before the end')
    } finally {
      endless.closeAllConnections()
      await new Promise<void>((resolve) => endless.close(() => resolve()))
    }
  })

  it('rejects a path without three segments', async () => {
    const attester = createSimAttester(simKey)
    const request = kbsGetResource({ url, path: 'default/password', attester })
    await assert.rejects(request, failsWith('ERR_KBS_NOT_FOUND'))
  })

  it('rejects a URL that is not http', async () => {
    const attester = createSimAttester(simKey)
    const request = kbsGetResource({ url: 'file:///etc', path: 'a/b/c', attester })
    await assert.rejects(request, failsWith('ERR_CONFIG_INVALID'))
  })
})

describe('confide kbs get', () => {
  const run = promisify(execFile)
  const env = () => ({ ...process.env, CONFIDE_SIM_KEY: join(folder, 'sim-key.pem') })

  it('writes the resource with mode 0600', async () => {
    const out = join(folder, 'password')
    const args = [cli, 'kbs', 'get', url, 'default/db/password', '--out', out, '--attester', 'sim']
    const { stderr } = await run(process.execPath, args, { env: env() })
    assert.match(stderr, /simulated TEE/)
    assert.deepEqual(new Uint8Array(readFileSync(out)), SECRET)
    assert.equal(statSync(out).mode & 0o777, 0o600)
  })

  it('writes into a FIFO without replacing it', async () => {
    const fifo = join(folder, 'secret-pipe')
    execFileSync('mkfifo', [fifo])
    const received = readFile(fifo)
    const args = [cli, 'kbs', 'get', url, 'default/db/password', '--out', fifo, '--attester', 'sim']
    await run(process.execPath, args, { env: env() })
    assert.deepEqual(new Uint8Array(await received), SECRET)
    assert.ok(statSync(fifo).isFIFO())
  })

  it('rejects a directory as --out', async () => {
    const args = [
      cli,
      'kbs',
      'get',
      url,
      'default/db/password',
      '--out',
      folder,
      '--attester',
      'sim',
    ]
    await assert.rejects(run(process.execPath, args, { env: env() }), /is a directory/)
  })

  it('prints the resource with --out -', async () => {
    const args = [cli, 'kbs', 'get', url, 'default/db/password', '--out', '-', '--attester', 'sim']
    const { stdout } = await run(process.execPath, args, { env: env() })
    assert.equal(stdout, 'the database password')
  })

  it('exits 2 with the denial detail', async () => {
    const args = [cli, 'kbs', 'get', url, 'locked/db/password', '--out', '-', '--attester', 'sim']
    await assert.rejects(
      run(process.execPath, args, { env: env() }),
      (error: Error & { code: number; stderr: string; stdout: string }) => {
        assert.equal(error.code, 2)
        assert.match(error.stderr, /PolicyDeny/)
        assert.match(error.stderr, /ERR_KBS_DENIED/)
        assert.equal(error.stdout, '')
        return true
      },
    )
  })
})
