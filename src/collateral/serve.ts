/**
 * An HTTP server that serves Intel PCS (API v4, as a PCCS serves it) and AMD KDS paths from a
 * collateral index, so verifiers on an air-gapped network can use a bundle fetched elsewhere.
 * Node only. Plain HTTP: put a TLS proxy in front where clients require https.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodePem, toHex } from '../core/bytes.js'
import { productFromName, tcbLayout } from '../platforms/snp/product.js'
import type { CollateralIndex, IndexedDocument } from './bundle-index.js'

/** PCCS's default port. */
export const DEFAULT_SERVE_PORT = 8081

/** A response: status, headers and body. */
interface Reply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body: Uint8Array | string
}

const JSON_TYPE = 'application/json'
const CRL_TYPE = 'application/pkix-crl'
const PEM_TYPE = 'application/x-pem-file'

function text(status: number, message: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` }
}

function chainHeaders(document: IndexedDocument, names: readonly string[]): Record<string, string> {
  if (document.issuerChain === undefined) return {}
  const value = encodeURIComponent(new TextDecoder().decode(document.issuerChain))
  return Object.fromEntries(names.map((name) => [name, value]))
}

function tcbInfoReply(index: CollateralIndex, tee: string, query: URLSearchParams): Reply {
  const fmspc = query.get('fmspc')
  if (fmspc === null || !/^[0-9a-fA-F]{12}$/.test(fmspc)) {
    return text(400, 'fmspc must be 6 bytes of hex')
  }
  const document = index.tcbInfo.get(`${tee}/${fmspc.toLowerCase()}`)
  if (document === undefined)
    return text(404, `no ${tee.toUpperCase()} TCB info for FMSPC ${fmspc}`)
  // PCS v4 names the header TCB-Info-Issuer-Chain; PCCS and PCS v3 add the SGX- prefix.
  const headers = chainHeaders(document, ['TCB-Info-Issuer-Chain', 'SGX-TCB-Info-Issuer-Chain'])
  return { status: 200, headers: { 'content-type': JSON_TYPE, ...headers }, body: document.body }
}

function qeIdentityReply(index: CollateralIndex, tee: 'sgx' | 'tdx'): Reply {
  const document = index.qeIdentity.get(tee)
  if (document === undefined) return text(404, `no ${tee === 'tdx' ? 'TD QE' : 'QE'} identity`)
  const headers = chainHeaders(document, ['SGX-Enclave-Identity-Issuer-Chain'])
  return { status: 200, headers: { 'content-type': JSON_TYPE, ...headers }, body: document.body }
}

function pckCrlReply(index: CollateralIndex, query: URLSearchParams): Reply {
  const ca = query.get('ca')?.toLowerCase()
  if (ca !== 'processor' && ca !== 'platform') return text(400, 'ca must be processor or platform')
  const document = index.pckCrl.get(ca)
  if (document === undefined) return text(404, `no PCK ${ca} CA CRL`)
  const headers = chainHeaders(document, ['SGX-PCK-CRL-Issuer-Chain'])
  // PCS v4 sends PEM unless asked for DER.
  if (query.get('encoding')?.toLowerCase() === 'der') {
    return { status: 200, headers: { 'content-type': CRL_TYPE, ...headers }, body: document.body }
  }
  const pem = encodePem('X509 CRL', document.body)
  return { status: 200, headers: { 'content-type': PEM_TYPE, ...headers }, body: pem }
}

function vcekReply(
  index: CollateralIndex,
  productName: string,
  hwId: string,
  query: URLSearchParams,
): Reply {
  const product = productFromName(productName)
  if (product === undefined) return text(404, `unknown product ${productName}`)
  const requested = new Map<string, number>()
  for (const entry of tcbLayout(product).filter((e) => e.name !== 'reserved')) {
    const value = query.get(entry.extension)
    if (value === null || !/^\d{1,3}$/.test(value)) {
      return text(400, `${entry.extension} must be a number from 0 to 255`)
    }
    requested.set(entry.extension, Number(value))
  }
  const id = hwId.toLowerCase()
  const vcek = index.vceks.find(
    (candidate) =>
      candidate.product === product &&
      (candidate.hwId === id || candidate.hwId.startsWith(id)) &&
      [...requested].every(([name, value]) => candidate.spl.get(name) === value),
  )
  if (vcek === undefined) return text(404, `no ${product} VCEK for this hwID and TCB`)
  return { status: 200, headers: { 'content-type': 'application/x-x509-ca-cert' }, body: vcek.der }
}

function amdReply(index: CollateralIndex, path: string, query: URLSearchParams): Reply | undefined {
  const match = /^\/(vcek|vlek)\/v1\/([^/]+)\/([^/]+)$/.exec(path)
  if (match === null) return undefined
  const [, key, productName = '', leaf = ''] = match
  const product = productFromName(productName)
  if (leaf === 'cert_chain') {
    const chain = product === undefined ? undefined : index.amdChains.get(`${key}/${product}`)
    if (chain === undefined) return text(404, `no ${key} certificate chain for ${productName}`)
    return { status: 200, headers: { 'content-type': PEM_TYPE }, body: chain.body }
  }
  if (leaf === 'crl') {
    const crl = product === undefined ? undefined : index.amdCrls.get(product)
    if (crl === undefined) return text(404, `no CRL for ${productName}`)
    return { status: 200, headers: { 'content-type': CRL_TYPE }, body: crl.body }
  }
  if (key === 'vcek' && /^[0-9a-fA-F]+$/.test(leaf)) {
    return vcekReply(index, productName, leaf, query)
  }
  return undefined
}

/** Returns the response to one request, from the index. */
export function replyFor(index: CollateralIndex, method: string, target: string): Reply {
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'only GET and HEAD are served')
  const url = new URL(target, 'http://localhost')
  const path = url.pathname
  const pcs = /^\/(sgx|tdx)\/certification\/v4\/(tcb|qe\/identity|pckcrl|rootcacrl)$/.exec(path)
  const tee = pcs?.[1] === 'tdx' ? 'tdx' : 'sgx'
  const resource = pcs?.[2]
  if (resource === 'tcb') return tcbInfoReply(index, tee, url.searchParams)
  if (resource === 'qe/identity') return qeIdentityReply(index, tee)
  if (resource === 'pckcrl' && tee === 'sgx') return pckCrlReply(index, url.searchParams)
  const root = index.rootCaCrl
  if (resource === 'rootcacrl' && tee === 'sgx') {
    // A PCCS sends the Root CA CRL as hex text of its DER.
    return root === undefined
      ? text(404, 'no Root CA CRL')
      : { status: 200, headers: { 'content-type': 'text/plain' }, body: toHex(root.body) }
  }
  if (path === '/IntelSGXRootCA.der') {
    return root === undefined
      ? text(404, 'no Root CA CRL')
      : { status: 200, headers: { 'content-type': CRL_TYPE }, body: root.body }
  }

  return amdReply(index, path, url.searchParams) ?? text(404, `no collateral at ${path}`)
}

/** Options of a collateral server. */
export interface ServeOptions {
  /** Address to listen on. Default: 127.0.0.1, so serving other machines takes a choice. */
  readonly host?: string
  /** TCP port; 0 picks a free one. Default: 8081, PCCS's port. */
  readonly port?: number
  /** Called with a request target that could not be read; the client gets 400. */
  readonly onBadRequest?: (target: string, error: unknown) => void
}

function handle(
  index: CollateralIndex,
  request: IncomingMessage,
  response: ServerResponse,
  options: ServeOptions,
): void {
  const target = request.url ?? '/'
  let reply: Reply
  try {
    reply = replyFor(index, request.method ?? 'GET', target)
  } catch (error) {
    options.onBadRequest?.(target, error)
    reply = text(400, 'the request target is not a valid URL path')
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.from(reply.body)
  response.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) })
  response.end(request.method === 'HEAD' ? undefined : body)
}

/** A running collateral server. */
export interface CollateralServer {
  /** Base URL clients use, such as `http://127.0.0.1:8081`. */
  readonly url: string
  readonly server: Server
  close(): Promise<void>
}

/** Serves an index over HTTP until closed. */
export async function serveCollateral(
  index: CollateralIndex,
  options: ServeOptions = {},
): Promise<CollateralServer> {
  const server = createServer((request, response) => handle(index, request, response, options))
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? DEFAULT_SERVE_PORT, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)))
        server.closeAllConnections()
      }),
  }
}
