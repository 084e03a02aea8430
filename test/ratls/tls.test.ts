import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createHttpsServer, request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createServer, type Server, type TLSSocket } from 'node:tls'
import { encodePem, fromBase64, toBase64 } from '../../src/core/bytes.js'
import { isConfideError } from '../../src/core/errors.js'
import type { SimKey } from '../../src/platforms/sim/dev-key.js'
import { createRatlsCertificate } from '../../src/ratls/certificate.js'
import { encodeTcgClaims, encodeTcgEvidence } from '../../src/ratls/extensions.js'
import {
  connectRatls,
  createRatlsServer,
  RatlsAgent,
  type RatlsCredentials,
  RatlsPeerRejectedError,
  ratlsClientOptions,
  ratlsRequestListener,
  ratlsServerOptions,
} from '../../src/ratls/tls.js'
import { buildCertificate } from '../../src/ratls/x509-builder.js'
import { newSimKey, simAttester, simOptions } from './helpers.js'

const HOST = '127.0.0.1'

/** Starts a TLS server on 127.0.0.1, port 0, that records the bytes each client sends. */
async function recordingServer(credentials: RatlsCredentials) {
  const received: Buffer[] = []
  const sockets = new Set<TLSSocket>()
  const server = createServer(ratlsServerOptions(credentials), (socket) => {
    sockets.add(socket)
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, HOST)
  await once(server, 'listening')
  const close = async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  }
  return { server, port: (server.address() as AddressInfo).port, received, close }
}

/** Changes one character of the sim evidence's signature, so it no longer verifies. */
function tamperSignature(evidence: Uint8Array): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(evidence)) as { signature: string }
  const signature = fromBase64(json.signature)
  signature[0] = (signature[0] ?? 0) ^ 0x01
  json.signature = toBase64(signature).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  return new TextEncoder().encode(JSON.stringify(json))
}

/** Builds a self-signed certificate with the given evidence extension over a new P-256 key. */
function certificateWith(oid: string, value: Uint8Array): RatlsCredentials {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const now = Date.now()
  const der = buildCertificate({
    publicKey: pair.publicKey,
    selfKey: pair.privateKey,
    commonName: 'test',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    extensions: [{ oid, value }],
  })
  return {
    cert: encodePem('CERTIFICATE', der),
    key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data))
}

/** TCG evidence over claims that name a key other than the certificate's. */
async function wrongKeyHash(key: SimKey): Promise<RatlsCredentials> {
  const claims = encodeTcgClaims({ pubkeyHash: { algorithmId: 1, digest: new Uint8Array(32) } })
  const reportData = new Uint8Array(64)
  reportData.set(await sha256(claims))
  const evidence = await simAttester(key).attest(reportData)
  return certificateWith('2.23.133.5.4.9', encodeTcgEvidence(evidence, claims))
}

/** Valid TCG evidence for the certificate's key, under an OID that is one arc off. */
async function wrongOid(key: SimKey): Promise<RatlsCredentials> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }))
  const claims = encodeTcgClaims({ pubkeyHash: { algorithmId: 1, digest: await sha256(spki) } })
  const reportData = new Uint8Array(64)
  reportData.set(await sha256(claims))
  const evidence = await simAttester(key).attest(reportData)
  const now = Date.now()
  const der = buildCertificate({
    publicKey: pair.publicKey,
    selfKey: pair.privateKey,
    commonName: 'test',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    extensions: [{ oid: '2.23.133.5.4.8', value: encodeTcgEvidence(evidence, claims) }],
  })
  return {
    cert: encodePem('CERTIFICATE', der),
    key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }
}

describe('connectRatls handshakes', () => {
  let key: SimKey
  before(async () => {
    key = await newSimKey()
  })

  it('accepts a certificate from the trusted sim key', async () => {
    const credentials = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
    })
    const server = await recordingServer(credentials)
    try {
      const { socket, verdict } = await connectRatls({
        host: HOST,
        port: server.port,
        peer: simOptions(key),
      })
      assert.equal(verdict.accepted, true)
      socket.write('hello')
      await new Promise((resolve) => setTimeout(resolve, 50))
      socket.destroy()
      assert.equal(Buffer.concat(server.received).toString(), 'hello')
    } finally {
      await server.close()
    }
  })

  const cases: [string, (key: SimKey) => Promise<RatlsCredentials>, string, string][] = [
    ['wrong key hash', wrongKeyHash, 'pubkey-hash', 'ERR_VERIFY_BINDING'],
    [
      'tampered evidence',
      (k) =>
        createRatlsCertificate({
          attester: simAttester(k, { tamper: tamperSignature }),
          encoding: 'tcg-dice',
        }),
      'evidence',
      'ERR_VERIFY_SIGNATURE',
    ],
    ['extension under a wrong OID', wrongOid, 'extension', 'ERR_VERIFY_NO_EVIDENCE'],
    [
      'expired evidence timestamp',
      (k) =>
        createRatlsCertificate({
          attester: simAttester(k, { at: new Date(Date.now() - 2 * 86_400_000) }),
          encoding: 'tcg-dice',
        }),
      'evidence-age',
      'ERR_VERIFY_STALE',
    ],
  ]
  for (const [name, make, check, code] of cases) {
    it(`rejects a certificate with ${name} before sending data`, async () => {
      const server = await recordingServer(await make(key))
      try {
        const rejection = await connectRatls({
          host: HOST,
          port: server.port,
          peer: simOptions(key),
        }).then(
          () => undefined,
          (error: unknown) => error,
        )
        assert.ok(rejection instanceof RatlsPeerRejectedError, String(rejection))
        assert.equal(rejection.code, code)
        assert.equal(rejection.verdict.checks.find((c) => c.status === 'fail')?.name, check)
        assert.match(rejection.message, new RegExp(`^RA-TLS peer rejected: ${check}: `))
        await new Promise((resolve) => setTimeout(resolve, 20))
        assert.equal(server.received.length, 0)
      } finally {
        await server.close()
      }
    })
  }
})

describe('RatlsAgent', () => {
  let key: SimKey
  let good: RatlsCredentials
  before(async () => {
    key = await newSimKey()
    good = await createRatlsCertificate({ attester: simAttester(key), encoding: 'gramine' })
  })

  async function httpsServer(credentials: RatlsCredentials) {
    let requests = 0
    const server = createHttpsServer(ratlsServerOptions(credentials), (_request, response) => {
      requests++
      response.end('secret')
    })
    server.listen(0, HOST)
    await once(server, 'listening')
    return { server, port: (server.address() as AddressInfo).port, requests: () => requests }
  }

  function get(port: number, agent: RatlsAgent): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: HOST, port, path: '/', agent }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () => resolve(body))
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('sends the request after the server is accepted', async () => {
    const { server, port, requests } = await httpsServer(good)
    const agent = new RatlsAgent(simOptions(key))
    try {
      assert.equal(await get(port, agent), 'secret')
      assert.equal(requests(), 1)
    } finally {
      agent.destroy()
      server.closeAllConnections()
      server.close()
    }
  })

  it('never writes the request to a rejected server', async () => {
    const stale = await createRatlsCertificate({
      attester: simAttester(key, { at: new Date(Date.now() - 2 * 86_400_000) }),
      encoding: 'gramine',
    })
    const server = await recordingServer(stale)
    const agent = new RatlsAgent(simOptions(key))
    try {
      const error = await get(server.port, agent).then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(isConfideError(error, 'ERR_VERIFY_STALE'), String(error))
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(server.received.length, 0)
    } finally {
      agent.destroy()
      await server.close()
    }
  })
})

describe('mutual TLS', () => {
  let key: SimKey
  let serverCredentials: RatlsCredentials
  let server: Server
  let port: number
  const accepted: string[] = []
  const rejected: string[] = []

  before(async () => {
    key = await newSimKey()
    serverCredentials = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
    })
    server = createRatlsServer(
      {
        credentials: serverCredentials,
        peer: simOptions(key),
        onRejected: (verdict) => rejected.push(verdict.code ?? ''),
      },
      (socket, verdict) => {
        accepted.push(verdict?.extension?.encoding ?? '')
        socket.end('welcome')
      },
    )
    server.listen(0, HOST)
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })

  after(async () => {
    server.close()
    await once(server, 'close')
  })

  it('serves a client whose certificate is accepted', async () => {
    const client = await createRatlsCertificate({
      attester: simAttester(key),
      encoding: 'tcg-dice',
    })
    const { socket } = await connectRatls({
      host: HOST,
      port,
      peer: simOptions(key),
      credentials: client,
    })
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    await once(socket, 'end')
    socket.destroy()
    assert.equal(Buffer.concat(chunks).toString(), 'welcome')
    assert.deepEqual(accepted, ['tcg-dice'])
  })

  it('drops a client without an RA-TLS certificate unanswered', async () => {
    const { connect } = await import('node:tls')
    const socket = connect({ host: HOST, port, ...ratlsClientOptions() })
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => undefined)
    await once(socket, 'close')
    assert.equal(chunks.length, 0)
    assert.deepEqual(rejected, ['ERR_VERIFY_NO_EVIDENCE'])
  })

  it('wraps an https listener', async () => {
    let served = 0
    const https = createHttpsServer(
      ratlsServerOptions(serverCredentials, true),
      ratlsRequestListener(simOptions(key), (_request, response, verdict) => {
        served++
        response.end(verdict.extension?.encoding)
      }),
    )
    https.listen(0, HOST)
    await once(https, 'listening')
    const httpsPort = (https.address() as AddressInfo).port
    const client = await createRatlsCertificate({ attester: simAttester(key), encoding: 'gramine' })
    const agent = new RatlsAgent(simOptions(key), { credentials: client })
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ host: HOST, port: httpsPort, agent }, (response) => {
          let text = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => {
            text += chunk
          })
          response.on('end', () => resolve(text))
        })
        req.on('error', reject)
        req.end()
      })
      assert.equal(body, 'gramine')
      assert.equal(served, 1)
    } finally {
      agent.destroy()
      https.closeAllConnections()
      https.close()
    }
  })
})
