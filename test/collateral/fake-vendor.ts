/**
 * A loopback HTTP server standing in for Intel PCS, a PCCS and AMD KDS: it serves corpus
 * collateral under the vendors' paths with their headers, and can respond with chosen statuses,
 * Retry-After, delays and bodies cut short. It listens on 127.0.0.1 only, on a free port.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join, relative } from 'node:path'
import { toHex } from '../../src/core/bytes.js'
import { parseCertificate } from '../../src/pki/certificate.js'
import { parseCrl } from '../../src/pki/crl.js'
import { readKeyExtensions } from '../../src/platforms/snp/key-extensions.js'
import { productFromName } from '../../src/platforms/snp/product.js'

/** The fake server's response to one request. */
export interface FakeReply {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: Uint8Array | string
  /** Delay before the response, in milliseconds. */
  readonly delayMs?: number
  /** Declare the whole body's length but send only this many bytes, then drop the connection. */
  readonly truncateAt?: number
}

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string
  /** Path and query, as sent. */
  readonly target: string
  readonly headers: IncomingMessage['headers']
  readonly body: Uint8Array
}

/** Handles a request, or returns undefined for 404. */
export type FakeHandler = (url: URL, request: SeenRequest) => FakeReply | undefined

/** A running fake vendor server. */
export interface FakeVendor {
  readonly url: string
  readonly requests: SeenRequest[]
  /** Requests whose path starts with `prefix`. */
  count(prefix?: string): number
  close(): Promise<void>
}

function readBody(request: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    request.on('error', reject)
  })
}

function send(response: ServerResponse, reply: FakeReply): void {
  const body = Buffer.from(reply.body ?? '')
  response.writeHead(reply.status ?? 200, {
    ...reply.headers,
    'content-length': String(body.length),
  })
  if (reply.truncateAt === undefined) {
    response.end(body)
    return
  }
  response.write(body.subarray(0, reply.truncateAt))
  setTimeout(() => response.socket?.destroy(), 20)
}

/** Starts a fake server on 127.0.0.1 with a free port. */
export async function startFakeVendor(handler: FakeHandler): Promise<FakeVendor> {
  const requests: SeenRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer(async (request, response) => {
    const seen: SeenRequest = {
      method: request.method ?? 'GET',
      target: request.url ?? '/',
      headers: request.headers,
      body: await readBody(request),
    }
    requests.push(seen)
    const reply = handler(new URL(seen.target, 'http://127.0.0.1'), seen) ?? {
      status: 404,
      body: 'not found',
    }
    if (reply.delayMs === undefined) {
      send(response, reply)
      return
    }
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (!response.destroyed) send(response, reply)
    }, reply.delayMs)
    timers.add(timer)
  })
  // As a proxy, the server accepts CONNECT itself: the tunnel ends in this same server, so a
  // client configured with it as HTTPS_PROXY reaches no other host.
  server.on('connect', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    requests.push({
      method: 'CONNECT',
      target: request.url ?? '',
      headers: request.headers,
      body: new Uint8Array(),
    })
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    if (head.length > 0) socket.unshift(head)
    server.emit('connection', socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (prefix = '/') => requests.filter((r) => r.target.startsWith(prefix)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A handler that fails the test when any request arrives. */
export function failIfContacted(onContact: (target: string) => void): FakeHandler {
  return (url) => {
    onContact(url.pathname + url.search)
    return { status: 500, body: 'this server must not be contacted' }
  }
}

/** Reads every file under a folder, keyed by path relative to it. */
function filesUnder(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>()
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name)
      if (statSync(path).isDirectory()) walk(path)
      else files.set(relative(dir, path), new Uint8Array(readFileSync(path)))
    }
  }
  walk(dir)
  return files
}

function baseName(path: string): string {
  return path.replace(/^.*\//, '')
}

/** Encodes a PEM chain as Intel sends it in a header: URL-encoded. */
export function encodedChain(pem: Uint8Array): string {
  return encodeURIComponent(new TextDecoder().decode(pem))
}

interface Route {
  readonly path: string
  /** Query parameters the request must carry, compared without case. */
  readonly query?: Readonly<Record<string, string>>
  /** For KDS VCEKs: the hwID path segment must be a prefix of this hex. */
  readonly hwIdPrefixOf?: string
  readonly reply: FakeReply
}

function matches(route: Route, url: URL): boolean {
  if (route.hwIdPrefixOf !== undefined) {
    const hwId = url.pathname.slice(route.path.length).toLowerCase()
    return url.pathname.startsWith(route.path) && hwId !== '' && route.hwIdPrefixOf.startsWith(hwId)
  }
  if (url.pathname !== route.path) return false
  return Object.entries(route.query ?? {}).every(
    ([name, value]) => url.searchParams.get(name)?.toLowerCase() === value.toLowerCase(),
  )
}

function intelRoutes(files: Map<string, Uint8Array>): Route[] {
  const routes: Route[] = []
  const chain = (path: string) => files.get(path.replace(/\.[^./]+$/, '_issuer_chain.pem'))
  for (const [path, body] of files) {
    const name = baseName(path)
    if (name === 'tcb_info.json') {
      const info = JSON.parse(new TextDecoder().decode(body)).tcbInfo
      const pem = chain(path)
      routes.push({
        path: `/${String(info.id).toLowerCase()}/certification/v4/tcb`,
        query: { fmspc: info.fmspc },
        reply: {
          headers: pem === undefined ? {} : { 'TCB-Info-Issuer-Chain': encodedChain(pem) },
          body,
        },
      })
    } else if (name === 'qe_identity.json') {
      const identity = JSON.parse(new TextDecoder().decode(body)).enclaveIdentity
      const pem = chain(path)
      routes.push({
        path: `/${identity.id === 'TD_QE' ? 'tdx' : 'sgx'}/certification/v4/qe/identity`,
        reply: {
          headers:
            pem === undefined ? {} : { 'SGX-Enclave-Identity-Issuer-Chain': encodedChain(pem) },
          body,
        },
      })
    } else if (/^pck_crl(?!.*issuer_chain).*\.der$/.test(name)) {
      const ca = /Processor/.test(parseCrl(body).issuer) ? 'processor' : 'platform'
      const pem = chain(path)
      routes.push({
        path: '/sgx/certification/v4/pckcrl',
        query: { ca },
        reply: {
          headers: pem === undefined ? {} : { 'SGX-PCK-CRL-Issuer-Chain': encodedChain(pem) },
          body,
        },
      })
    } else if (name === 'root_ca_crl.der') {
      routes.push({ path: '/IntelSGXRootCA.der', reply: { body } })
      routes.push({ path: '/sgx/certification/v4/rootcacrl', reply: { body: toHex(body) } })
    }
  }
  return routes
}

function amdRoutes(files: Map<string, Uint8Array>): Route[] {
  const routes: Route[] = []
  const signing = [...files].find(([path]) => /^(vcek|vlek)\.der$/.test(baseName(path)))
  if (signing === undefined) return routes
  const [signingPath, der] = signing
  const extensions = readKeyExtensions(parseCertificate(der))
  const product = productFromName(extensions.productName ?? '')
  if (product === undefined) return routes
  const kind = baseName(signingPath).startsWith('vlek') ? 'vlek' : 'vcek'
  if (kind === 'vcek' && extensions.hwId !== undefined) {
    routes.push({
      path: `/vcek/v1/${product}/`,
      hwIdPrefixOf: toHex(extensions.hwId),
      reply: { headers: { 'content-type': 'application/x-x509-ca-cert' }, body: der },
    })
  }
  // The chain file is served under the signing key's product, whatever it holds, so a case
  // whose chain is for another product reaches the verifier as it is in the corpus.
  const chainFile = [...files].find(([path]) => /^(ask|asvk)_ark\.pem$/.test(baseName(path)))
  if (chainFile !== undefined) {
    routes.push({ path: `/${kind}/v1/${product}/cert_chain`, reply: { body: chainFile[1] } })
  }
  return routes
}

/**
 * Returns a handler serving a corpus case's collateral (or any folder in its layout) with the
 * PCS v4 and KDS paths. Requests for anything the folder lacks get 404, as PCS returns for an
 * unknown FMSPC.
 */
export function corpusHandler(dir: string): FakeHandler {
  const files = filesUnder(dir)
  const routes = [...intelRoutes(files), ...amdRoutes(files)]
  return (url) => routes.find((route) => matches(route, url))?.reply
}
