/**
 * node:tls and node:https with RA-TLS: a server that presents an RA-TLS certificate, and clients
 * and mutual-TLS servers that verify the peer's certificate before any application data moves.
 *
 * The peer's certificate is self-signed, so the TLS layer cannot judge it and runs with
 * `rejectUnauthorized: false`. Node then skips `checkServerIdentity` for it (that hook only runs
 * for a certificate that already chains to a CA), and the evidence check is asynchronous anyway.
 * So the check runs when the handshake completes, and the socket reaches the caller (or the HTTP
 * request is written, or the request handler runs) only once the peer is accepted. A rejected
 * peer's socket is destroyed with an error that gives the reason.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Agent, type AgentOptions, type RequestOptions } from 'node:https'
import type { Duplex } from 'node:stream'
import {
  type ConnectionOptions,
  connect,
  createServer,
  type Server,
  type TLSSocket,
  type TlsOptions,
} from 'node:tls'
import { ConfideError, type ErrorCode } from '../core/errors.js'
import { RatlsCache } from './cache.js'
import { type RatlsVerdict, type VerifyRatlsOptions, verifyRatlsCertificate } from './verify.js'

/** A certificate chain and private key, PEM, as `createRatlsCertificate` returns them. */
export interface RatlsCredentials {
  readonly cert: string
  readonly key: string
}

/** A TLS peer was not accepted. `verdict` has every check. */
export class RatlsPeerRejectedError extends ConfideError {
  readonly verdict: RatlsVerdict

  constructor(verdict: RatlsVerdict) {
    const code: ErrorCode = verdict.code ?? 'ERR_VERIFY_NO_EVIDENCE'
    super(code, `RA-TLS peer rejected: ${verdict.reason}`)
    this.verdict = verdict
  }
}

/** Verification options with a cache, one per helper unless the caller shares one. */
function withCache(peer: VerifyRatlsOptions): VerifyRatlsOptions {
  return peer.cache === undefined ? { ...peer, cache: new RatlsCache() } : peer
}

/**
 * TLS options for a server that presents an RA-TLS certificate. With `peer`, the server also
 * requests a client certificate, which `createRatlsServer` or `ratlsRequestListener` then verify.
 */
export function ratlsServerOptions(credentials: RatlsCredentials, peer?: boolean): TlsOptions {
  return {
    cert: credentials.cert,
    key: credentials.key,
    ...(peer === true ? { requestCert: true, rejectUnauthorized: false } : {}),
  }
}

/**
 * Returns TLS options for a client of an RA-TLS server. They turn off the CA check, because the
 * certificate is self-signed and `verifyRatlsPeer` judges it instead. With `credentials`, the
 * client presents its own RA-TLS certificate for mutual TLS.
 */
export function ratlsClientOptions(credentials?: RatlsCredentials): ConnectionOptions {
  return {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    ...(credentials === undefined ? {} : { cert: credentials.cert, key: credentials.key }),
  }
}

/** Builds the verdict for a peer that sent no certificate. */
function noCertificateVerdict(): RatlsVerdict {
  const detail = 'the peer presented no certificate'
  return {
    verdict: 'invalid',
    accepted: false,
    reason: `certificate: ${detail}`,
    code: 'ERR_VERIFY_NO_EVIDENCE',
    checks: [{ name: 'certificate', status: 'fail', detail, code: 'ERR_VERIFY_NO_EVIDENCE' }],
    cached: false,
    verifiedAt: new Date().toISOString(),
  }
}

/** Verifies the RA-TLS certificate the peer of a connected socket presented. */
export async function verifyRatlsPeer(
  socket: TLSSocket,
  peer: VerifyRatlsOptions,
): Promise<RatlsVerdict> {
  const certificate = socket.getPeerCertificate(false)
  const raw = (certificate as { raw?: Buffer }).raw
  if (raw === undefined || raw.length === 0) return noCertificateVerdict()

  return verifyRatlsCertificate(new Uint8Array(raw), peer)
}

/** Options of `connectRatls`: where to connect, and how to judge the server. */
export interface ConnectRatlsOptions {
  readonly host: string
  readonly port: number
  /** Verification options for the server's certificate. */
  readonly peer: VerifyRatlsOptions
  /** The client's RA-TLS credentials, for mutual TLS. */
  readonly credentials?: RatlsCredentials
  /** Further node:tls options (servername, ALPN). */
  readonly tls?: ConnectionOptions
}

/** Waits for the handshake of `socket`, verifies the peer, and destroys the socket on rejection. */
function verifyAfterHandshake(
  socket: TLSSocket,
  peer: VerifyRatlsOptions,
): Promise<{ socket: TLSSocket; verdict: RatlsVerdict }> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    socket.once('error', onError)
    socket.once('secureConnect', () => {
      verifyRatlsPeer(socket, peer).then(
        (verdict) => {
          socket.off('error', onError)
          if (verdict.accepted) {
            resolve({ socket, verdict })
            return
          }
          const error = new RatlsPeerRejectedError(verdict)
          socket.destroy()
          reject(error)
        },
        (error: unknown) => {
          socket.destroy()
          reject(error)
        },
      )
    })
  })
}

/**
 * Connects to an RA-TLS server and resolves once its certificate is verified and accepted. Until
 * then the caller has no socket, so nothing can be written to an unverified peer.
 *
 * @throws RatlsPeerRejectedError (through the promise) with the reason the server was rejected;
 *   socket errors as they come.
 */
export function connectRatls(
  options: ConnectRatlsOptions,
): Promise<{ socket: TLSSocket; verdict: RatlsVerdict }> {
  const socket = connect({
    ...options.tls,
    ...ratlsClientOptions(options.credentials),
    host: options.host,
    port: options.port,
  })

  return verifyAfterHandshake(socket, options.peer)
}

/** Options of a `RatlsAgent`. */
export interface RatlsAgentOptions {
  /** The client's RA-TLS credentials, for mutual TLS. */
  readonly credentials?: RatlsCredentials
  /** Options of the underlying https.Agent (keepAlive, maxSockets). */
  readonly agent?: AgentOptions
  /** Called with the verdict on each new connection, accepted or not. */
  readonly onVerdict?: (verdict: RatlsVerdict) => void
}

/**
 * An https.Agent whose connections verify the server's RA-TLS certificate before the request is
 * written: the socket is handed to node:http only after the server is accepted, and a rejected
 * server fails the request with RatlsPeerRejectedError. Keep-alive connections are verified once.
 */
export class RatlsAgent extends Agent {
  readonly #peer: VerifyRatlsOptions
  readonly #options: RatlsAgentOptions

  constructor(peer: VerifyRatlsOptions, options: RatlsAgentOptions = {}) {
    super({ ...options.agent, maxCachedSessions: 0 })
    this.#peer = withCache(peer)
    this.#options = options
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = connect({
      ...(options as ConnectionOptions),
      ...ratlsClientOptions(this.#options.credentials),
    })
    verifyAfterHandshake(socket, this.#peer).then(
      ({ socket: verified, verdict }) => {
        this.#options.onVerdict?.(verdict)
        callback?.(null, verified)
      },
      (error: Error) => {
        if (error instanceof RatlsPeerRejectedError) this.#options.onVerdict?.(error.verdict)
        callback?.(error, socket)
      },
    )

    return undefined
  }
}

/** Options of `createRatlsServer`. */
export interface RatlsServerOptions {
  readonly credentials: RatlsCredentials
  /** Verify each client's RA-TLS certificate (mutual TLS). Absent: clients are not verified. */
  readonly peer?: VerifyRatlsOptions
  /** Called for each client that was rejected, after its socket is destroyed. */
  readonly onRejected?: (verdict: RatlsVerdict) => void
}

/**
 * Creates a TLS server that presents an RA-TLS certificate. With `peer`, each client's
 * certificate is verified first, and `onConnection` receives only accepted clients. A rejected
 * client's socket is destroyed before the server reads or writes application data.
 */
export function createRatlsServer(
  options: RatlsServerOptions,
  onConnection: (socket: TLSSocket, verdict: RatlsVerdict | undefined) => void,
): Server {
  const server = createServer(ratlsServerOptions(options.credentials, options.peer !== undefined))
  const peer = options.peer === undefined ? undefined : withCache(options.peer)
  server.on('secureConnection', (socket: TLSSocket) => {
    if (peer === undefined) {
      onConnection(socket, undefined)
      return
    }
    verifyRatlsPeer(socket, peer).then(
      (verdict) => {
        if (verdict.accepted) {
          onConnection(socket, verdict)
          return
        }
        socket.destroy()
        options.onRejected?.(verdict)
      },
      (error: unknown) => socket.destroy(error instanceof Error ? error : undefined),
    )
  })

  return server
}

/**
 * Wraps an HTTP request listener for an https server created with `ratlsServerOptions(credentials,
 * true)`: the listener runs only for requests on connections whose client certificate is
 * accepted. A rejected client's connection is destroyed without a response. Each connection is
 * verified once.
 */
export function ratlsRequestListener(
  peer: VerifyRatlsOptions,
  listener: (request: IncomingMessage, response: ServerResponse, verdict: RatlsVerdict) => void,
  onRejected?: (verdict: RatlsVerdict) => void,
): (request: IncomingMessage, response: ServerResponse) => void {
  const cached = withCache(peer)
  const verdicts = new WeakMap<object, Promise<RatlsVerdict>>()

  return (request, response) => {
    const socket = request.socket as TLSSocket
    let verdict = verdicts.get(socket)
    if (verdict === undefined) {
      verdict = verifyRatlsPeer(socket, cached)
      verdicts.set(socket, verdict)
    }
    verdict.then(
      (result) => {
        if (result.accepted) {
          listener(request, response, result)
          return
        }
        socket.destroy()
        onRejected?.(result)
      },
      () => socket.destroy(),
    )
  }
}
