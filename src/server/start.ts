/**
 * Starting the service: opens the store, loads or creates the keys beside it, builds the server,
 * listens, and shuts down gracefully on SIGTERM or SIGINT (stop accepting, finish the requests in
 * flight, close the store). Node only.
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { openCollateralSession } from '../collateral/session.js'
import { ConfigError } from '../core/errors.js'
import { createFileOnce } from '../crypto/key-file.js'
import { KbsBroker } from '../kbs/broker.js'
import { generateMasterKey, MASTER_KEY_ENV, ResourceSealer } from '../kbs/envelope.js'
import { loadSimKey } from '../platforms/sim/dev-key.js'
import { storeLocation } from '../store/location.js'
import { openStore, type Store } from '../store/open.js'
import { buildServer } from './app.js'
import { SERVICE_VERIFIER } from './context.js'
import { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js'
import { createKbsVerifier } from './kbs-verify.js'
import { keyFolder, loadAdminKeys, loadSigningKey, MASTER_KEY_FILE } from './key-files.js'
import type { LoggerOptions } from './logging.js'
import { createServerMetrics } from './metrics.js'
import type { PlatformKeys } from './trusted-keys.js'

/** Settings of `startServer`. Absent fields take the defaults described on each. */
export interface ServeConfig {
  /** TCP port; 0 picks a free one. Default: `DEFAULT_PORT`. */
  readonly port?: number
  /** Listen address. Default: `DEFAULT_HOST` (loopback). */
  readonly host?: string
  /** Store location. Default: `CONFIDE_STORE`, else the SQLite file in the XDG data folder. */
  readonly store?: string
  /** TLS certificate and private key files, PEM. Both or neither. Default: plain HTTP. */
  readonly tlsCert?: string
  readonly tlsKey?: string
  /** File of Ed25519 admin public keys. Default: `CONFIDE_ADMIN_KEY`, else none (admin routes return 401). */
  readonly adminKey?: string
  /** Master key file. Default: `CONFIDE_MASTER_KEY`, else `master-key` in the key folder, created on first start. */
  readonly masterKeyFile?: string
  /** EAR signing key file. Default: `ear-signing-key.pem` in the key folder, created on first start. */
  readonly signingKey?: string
  /** Never fetch collateral; use the cache and the request's files. Default: false. */
  readonly offline?: boolean
  readonly bodyLimit?: number
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number }
  /** Pino logging. Default: info level on stdout. */
  readonly logger?: boolean | LoggerOptions
  /** Environment read for defaults. Default: the process's. */
  readonly env?: NodeJS.ProcessEnv
  /**
   * Public keys trusted directly: TPM attestation keys for TPM evidence only, Arm CCA platform
   * keys for CCA evidence only. Default: none.
   */
  readonly trustedKeys?: PlatformKeys
  /** Shut down on SIGTERM and SIGINT. Default: true. */
  readonly handleSignals?: boolean
}

/** A listening service. */
export interface RunningServer {
  readonly app: FastifyInstance
  /** The URL the service listens on, such as `http://127.0.0.1:8080`. */
  readonly url: string
  readonly store: Store
  /** Stops accepting, finishes the requests in flight, then closes the store. Safe to call twice. */
  close(): Promise<void>
  /** Resolves when the service has shut down. */
  readonly closed: Promise<void>
}

/** Returns the URL with its password replaced, for logs. */
function redactLocation(location: string): string {
  try {
    const url = new URL(location)
    if (url.password !== '') url.password = '***'
    return url.href
  } catch {
    return location
  }
}

/** Loads the master key: the given file, else the environment, else the default file (created when absent). */
async function loadSealer(
  config: ServeConfig,
  folder: string,
  env: NodeJS.ProcessEnv,
): Promise<{ sealer: ResourceSealer; source: string; created: boolean }> {
  if (config.masterKeyFile !== undefined)
    return {
      sealer: ResourceSealer.fromFile(config.masterKeyFile),
      source: config.masterKeyFile,
      created: false,
    }
  if ((env[MASTER_KEY_ENV] ?? '').trim() !== '')
    return {
      sealer: ResourceSealer.fromEnv(MASTER_KEY_ENV, env),
      source: MASTER_KEY_ENV,
      created: false,
    }
  const path = join(folder, MASTER_KEY_FILE)
  const created = !existsSync(path)
  if (created) await createFileOnce(path, `${generateMasterKey()}\n`)

  return { sealer: ResourceSealer.fromFile(path), source: path, created }
}

async function readTls(config: ServeConfig): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (config.tlsCert === undefined && config.tlsKey === undefined) return undefined
  if (config.tlsCert === undefined || config.tlsKey === undefined)
    throw new ConfigError('ERR_CONFIG_INVALID', 'give both --tls-cert and --tls-key, or neither')
  const read = (path: string, what: string) =>
    readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(
        'ERR_CONFIG_INVALID',
        `cannot read the ${what} ${path}: ${error.code ?? error.message}`,
      )
    })

  return {
    cert: await read(config.tlsCert, 'TLS certificate'),
    key: await read(config.tlsKey, 'TLS key'),
  }
}

/**
 * Returns a function that returns the DER SPKI of the local simulated TEE key once it exists.
 * The key is never created here. It is looked up on each call until found, so a key made by
 * `confide attest --attester sim` after the start is trusted without a restart. A key file that
 * exists but cannot be read is an error, so the request that met it fails with the reason.
 */
function localSimKeys(env: NodeJS.ProcessEnv): () => Promise<readonly Uint8Array[]> {
  let found: readonly Uint8Array[] = []

  return async () => {
    if (found.length > 0) return found
    try {
      found = [(await loadSimKey({ env, create: false })).publicKeySpki]
    } catch (error) {
      // No key yet: sim evidence stays unverified until one exists.
      if (!(error instanceof ConfigError && error.code === 'ERR_CONFIG_KEY_NOT_FOUND')) throw error
    }
    return found
  }
}

/** Waits for SIGTERM or SIGINT, then closes. The second signal ends the process the default way. */
function closeOnSignals(running: RunningServer): void {
  const onSignal = (signal: NodeJS.Signals) => {
    running.app.log.info(
      { signal },
      'shutting down: no new connections, finishing requests in flight',
    )
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    void running.close()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  void running.closed.then(() => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  })
}

/**
 * Opens the store, loads or creates the keys, and listens. Logs where the store and keys are.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a store, key or TLS file that cannot be used.
 */
export async function startServer(config: ServeConfig = {}): Promise<RunningServer> {
  const env = config.env ?? process.env
  const location = storeLocation(config.store, env)
  const folder = keyFolder(location, env)
  const tls = await readTls(config)
  const signing = await loadSigningKey(config.signingKey, folder)
  const master = await loadSealer(config, folder, env)
  const admin = await loadAdminKeys(config.adminKey, env)
  const trustedSimKeys = localSimKeys(env)
  const store = await openStore(location)
  const session = openCollateralSession({ store: location, offline: config.offline === true, env })
  const metrics = createServerMetrics()
  const trustedKeys = config.trustedKeys ?? {}
  const verify = createKbsVerifier({
    collateral: session.fetcher,
    trustedSimKeys,
    trustedKeys,
    metrics,
  })
  const broker = new KbsBroker({
    store,
    sealer: master.sealer,
    signer: signing.signer,
    verify,
    verifier: SERVICE_VERIFIER,
  })
  let app: FastifyInstance
  try {
    app = await buildServer({
      store,
      broker,
      signer: signing.signer,
      adminKeys: admin.keys,
      trustedSimKeys,
      trustedKeys,
      metrics,
      collateral: session.fetcher,
      ...(config.bodyLimit === undefined ? {} : { bodyLimit: config.bodyLimit }),
      ...(config.rateLimit === undefined ? {} : { rateLimit: config.rateLimit }),
      ...(config.logger === undefined ? {} : { logger: config.logger }),
      ...(tls === undefined ? {} : { tls }),
    })
  } catch (error) {
    await session.close()
    await store.close()
    throw error
  }
  const log = app.log
  log.info({ store: redactLocation(location), dialect: store.dialect }, 'store opened')
  log.info(
    { path: signing.path, alg: signing.signer.alg, kid: signing.signer.kid },
    signing.created ? 'EAR signing key created' : 'EAR signing key loaded',
  )
  log.info(
    { source: master.source },
    master.created ? 'resource master key created' : 'resource master key loaded',
  )
  if (admin.keys.length === 0)
    log.warn(
      'no admin key configured, so admin routes return 401. Create one with `confide admin keygen --out admin.pem` and restart with --admin-key admin.pem.pub (or CONFIDE_ADMIN_KEY)',
    )
  else log.info({ source: admin.source, keys: admin.keys.length }, 'admin keys loaded')

  let resolveClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve
  })
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      try {
        await app.close()
      } finally {
        await session.close()
        await store.close()
        log.info('shut down')
        resolveClosed()
      }
    })()
    return closing
  }
  try {
    await app.listen({ port: config.port ?? DEFAULT_PORT, host: config.host ?? DEFAULT_HOST })
  } catch (error) {
    await close()
    throw new ConfigError('ERR_CONFIG_INVALID', `cannot listen: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const host = config.host ?? DEFAULT_HOST
  const url = `${tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`
  const running: RunningServer = { app, url, store, close, closed }
  if (config.handleSignals !== false) closeOnSignals(running)

  return running
}
