/**
 * `startServer` and `confide serve` on 127.0.0.1 with port 0: keys created beside the store
 * with mode 0600 and reused on restart, and graceful shutdown on SIGTERM that finishes a request
 * in flight.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey } from '../../src/platforms/sim/dev-key.js'
import { startServer } from '../../src/server/start.js'
import { sharedRoot } from '../helpers/corpus.js'

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
const folder = mkdtempSync(join(tmpdir(), 'confide-start-'))
after(() => rmSync(folder, { recursive: true, force: true }))

describe('startServer', () => {
  it('creates its keys beside the store and reuses them', async () => {
    const home = join(folder, 'reuse')
    const env = { XDG_DATA_HOME: home }
    const config = { port: 0, offline: true, logger: false, handleSignals: false, env } as const
    const first = await startServer(config)
    let kid: unknown
    try {
      assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const health = await fetch(`${first.url}/healthz`)
      assert.equal(health.status, 200)
      for (const file of ['ear-signing-key.pem', 'master-key', 'confide.db']) {
        const path = join(home, 'confide', file)
        assert.equal(statSync(path).mode & 0o777, 0o600, file)
      }
      assert.equal(statSync(join(home, 'confide')).mode & 0o777, 0o700)
      kid = await signerKid(first.url)
      assert.equal(typeof kid, 'string')
    } finally {
      await first.close()
    }
    const second = await startServer(config)
    try {
      assert.equal(await signerKid(second.url), kid)
    } finally {
      await second.close()
    }
  })

  it('trusts a sim key created after the start', async () => {
    const home = join(folder, 'late-sim-key')
    const env = { XDG_DATA_HOME: home }
    const running = await startServer({
      port: 0,
      offline: true,
      logger: false,
      handleSignals: false,
      env,
    })
    try {
      const key = await loadSimKey({ env })
      const evidence = simEvidence(key, { reportData: new Uint8Array([5]) })
      const response = await fetch(`${running.url}/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ evidence: Buffer.from(evidence).toString('base64') }),
      })
      assert.equal(response.status, 200)
      const { result } = (await response.json()) as { result: { verdict: string } }
      assert.equal(result.verdict, 'valid')
    } finally {
      await running.close()
    }
  })

  it('reports a sim key file it cannot read', async () => {
    const home = join(folder, 'broken-sim-key')
    const keyFile = join(folder, 'broken-sim-key.pem')
    writeFileSync(keyFile, 'not a key')
    const env = { XDG_DATA_HOME: home, CONFIDE_SIM_KEY: keyFile }
    const config = { port: 0, offline: true, logger: false, handleSignals: false, env } as const
    const running = await startServer(config)
    try {
      const other = await loadSimKey({ path: join(folder, 'other-sim-key.pem') })
      const evidence = simEvidence(other, { reportData: new Uint8Array([5]) })
      const response = await fetch(`${running.url}/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ evidence: Buffer.from(evidence).toString('base64') }),
      })
      assert.notEqual(response.status, 200)
      assert.match(await response.text(), /broken-sim-key\.pem/)
    } finally {
      await running.close()
    }
  })

  it('rejects a TLS certificate without a key', async () => {
    await assert.rejects(
      startServer({
        port: 0,
        tlsCert: '/nonexistent.pem',
        logger: false,
        env: { XDG_DATA_HOME: folder },
      }),
      (error) => (error as { code?: string }).code === 'ERR_CONFIG_INVALID',
    )
  })

  it('rejects an admin key file that does not exist', async () => {
    await assert.rejects(
      startServer({
        port: 0,
        adminKey: join(folder, 'missing.pub'),
        logger: false,
        env: { XDG_DATA_HOME: join(folder, 'missing-admin') },
      }),
      /admin key .* does not exist/,
    )
  })
})

/** Returns the `kid` header of an EAR from `/v1/verify`, which names the signing key. */
async function signerKid(url: string): Promise<string | undefined> {
  const { simEvidence } = await import('../../src/platforms/sim/attester.js')
  const { loadSimKey } = await import('../../src/platforms/sim/dev-key.js')
  const key = await loadSimKey({ path: join(folder, 'sim-key.pem') })
  const evidence = Buffer.from(simEvidence(key, { reportData: new Uint8Array(1) })).toString(
    'base64',
  )
  const response = await fetch(`${url}/v1/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ evidence }),
  })
  const { ear } = (await response.json()) as { ear: string }
  const header = JSON.parse(Buffer.from(ear.split('.')[0] ?? '', 'base64url').toString()) as {
    kid?: string
  }
  return header.kid
}

/** Waits for a JSON log line whose `msg` is `message` and returns it. */
function waitForLog(child: ChildProcess, message: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString()
      for (const line of buffered.split('\n')) {
        if (!line.startsWith('{')) continue
        const entry = JSON.parse(line) as Record<string, unknown>
        if (entry.msg === message) {
          child.stdout?.off('data', onData)
          resolve(entry)
          return
        }
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`exited with ${code} before logging ${message}`)))
  })
}

describe('confide serve', () => {
  it('rejects a certificate as --trust-tpm-key', () => {
    const home = join(folder, 'trust-key')
    const certificate = join(
      sharedRoot,
      'corpus',
      'amd-sev-snp',
      'snp-v2-milan-vcek-gosevguest',
      'certs',
      'ask_ark.pem',
    )
    const run = spawnSync(
      process.execPath,
      [MAIN, 'serve', '--port', '0', '--trust-tpm-key', certificate],
      {
        env: { ...process.env, XDG_DATA_HOME: home },
        encoding: 'utf8',
      },
    )
    assert.equal(run.status, 2)
    assert.match(run.stderr, /contains a certificate; give the public key only/)
  })

  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    const home = join(folder, 'serve')
    const child = spawn(
      process.execPath,
      [MAIN, 'serve', '--port', '0', '--offline', '--store', join(home, 'store.db')],
      {
        env: { ...process.env, XDG_DATA_HOME: home, CONFIDE_ADMIN_KEY: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      const listening = await waitForLog(child, 'listening')
      const url = new URL(String(listening.url))
      assert.equal(url.hostname, '127.0.0.1')

      // Start a request whose body arrives in two parts, and send SIGTERM between them.
      const body = JSON.stringify({ evidence: 'AAAA' })
      const response = new Promise<number>((resolve, reject) => {
        const outgoing = request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/v1/verify',
            headers: { 'content-type': 'application/json', 'content-length': body.length },
          },
          (incoming) => {
            incoming.resume()
            incoming.on('end', () => resolve(incoming.statusCode ?? 0))
          },
        )
        outgoing.on('error', reject)
        outgoing.write(body.slice(0, 5))
        setTimeout(() => {
          child.kill('SIGTERM')
          setTimeout(() => outgoing.end(body.slice(5)), 300)
        }, 200)
      })
      assert.equal(await response, 400, 'the request in flight is answered')
      assert.equal(await exited, 0)
      assert.match(output, /"msg":"shutting down/)
      assert.match(output, /"msg":"shut down"/)
      assert.match(output, /no admin key configured, so admin routes return 401/)
      assert.match(output, /"msg":"EAR signing key created"/)
      await assert.rejects(fetch(`${url.origin}/healthz`), 'no longer listening')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
