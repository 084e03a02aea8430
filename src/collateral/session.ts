/**
 * Everything a command needs to fetch collateral, from its options and the environment: the
 * service URLs, the HTTP client, the store, and the fetcher over them. Node only.
 *
 * The HTTP client (undici) and the store (Kysely, better-sqlite3) are loaded on first use, which
 * keeps them out of the start-up time of commands whose evidence needs nothing fetched.
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { NVIDIA_OCSP_URL, NVIDIA_RIM_SERVICE_URL } from '../platforms/nvidia/collateral.js'
import type {
  CollateralCache,
  CollateralRecord,
  CollateralStore,
} from '../store/collateral-cache.js'
import { isStoreFile, storeLocation } from '../store/location.js'
import type { Store } from '../store/open.js'
import { CollateralFetcher } from './fetcher.js'
import type { HttpClient, HttpClientOptions } from './http.js'
import { KDS_BASE_URL, KdsClient } from './kds.js'
import { PcsClient, pcsEndpoints } from './pcs.js'
import { serviceUrl } from './service-url.js'

/** Options of a collateral session. Absent fields fall back to the environment, then defaults. */
export interface CollateralSessionOptions {
  /** Base URL of a PCCS. Absent: `CONFIDE_PCCS_URL`, else Intel's PCS. */
  readonly pccsUrl?: string
  /** Base URL of a server with AMD KDS's paths. Absent: `CONFIDE_KDS_URL`, else AMD KDS. */
  readonly kdsUrl?: string
  /** Base URL of NVIDIA's RIM service. Absent: `CONFIDE_NVIDIA_RIM_URL`, else NVIDIA's. */
  readonly nvidiaRimUrl?: string
  /** URL of the OCSP responder for NVIDIA certificates. Absent: `CONFIDE_NVIDIA_OCSP_URL`, else NVIDIA's. */
  readonly nvidiaOcspUrl?: string
  /** Store location. Absent: `CONFIDE_STORE`, else the file in the user's data folder. */
  readonly store?: string
  /** Never use the network; only the store serves items, and it is not created. */
  readonly offline?: boolean
  /** Serve expired cached items when no fresh copy can be had. Default: false. */
  readonly allowStaleCollateral?: boolean
  /** Fetch items even when the store contains a fresh copy. Default: false. */
  readonly refresh?: boolean
  /** Environment to read URLs, the store location and proxy settings from. Default: the process's. */
  readonly env?: NodeJS.ProcessEnv
  /** Time limits, retries and dispatcher of the HTTP client. */
  readonly http?: HttpClientOptions
}

/** A fetcher with the store and connections it opened. Close it when done. */
export interface CollateralSession {
  readonly fetcher: CollateralFetcher
  /** The service base URLs in use, for messages. Absent offline. */
  readonly urls?: { readonly pcs: string; readonly kds: string }
  close(): Promise<void>
}

/**
 * Opens the store on first use, so evidence that needs nothing never creates it. Offline, a
 * store file that does not exist reads as empty and is not created.
 */
class LazyStore implements CollateralStore {
  readonly #location: string
  readonly #offline: boolean
  #opening: Promise<CollateralCache | undefined> | undefined
  #store: Store | undefined

  constructor(location: string, offline: boolean) {
    this.#location = location
    this.#offline = offline
  }

  #cache(): Promise<CollateralCache | undefined> {
    this.#opening ??= (async () => {
      if (this.#offline && isStoreFile(this.#location) && !existsSync(this.#location)) {
        return undefined
      }
      const { openStore } = await import('../store/open.js')
      const { CollateralCache } = await import('../store/collateral-cache.js')
      this.#store = await openStore(this.#location)
      return new CollateralCache(this.#store)
    })()
    return this.#opening
  }

  async get(key: string): Promise<CollateralRecord | undefined> {
    return (await this.#cache())?.get(key)
  }

  async put(record: CollateralRecord): Promise<void> {
    await (await this.#cache())?.put(record)
  }

  async close(): Promise<void> {
    await this.#store?.close()
  }
}

/** Creates an HTTP client that loads undici and reads the proxy settings on its first request. */
function lazyHttpClient(env: NodeJS.ProcessEnv, options: HttpClientOptions = {}): HttpClient {
  let client: Promise<HttpClient> | undefined
  const real = () => {
    client ??= import('./http.js').then(({ createHttpClient, proxyDispatcher }) =>
      createHttpClient({ dispatcher: proxyDispatcher(env), ...options }),
    )
    return client
  }
  return {
    send: async (request) => (await real()).send(request),
    get: async (url, accept) => (await real()).get(url, accept),
    close: async () => {
      if (client !== undefined) await (await client).close()
    },
  }
}

/**
 * Opens a collateral session. Nothing is connected or opened until an item is asked for.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a service URL that is not http or https.
 */
export function openCollateralSession(options: CollateralSessionOptions = {}): CollateralSession {
  const env = options.env ?? process.env
  const store = new LazyStore(storeLocation(options.store, env), options.offline === true)
  const shared = {
    cache: store,
    ...(options.allowStaleCollateral === true ? { allowStaleCollateral: true } : {}),
    ...(options.refresh === true ? { refresh: true } : {}),
  }
  if (options.offline === true) {
    return {
      fetcher: new CollateralFetcher({ ...shared, offline: true }),
      close: () => store.close(),
    }
  }

  const pccs = options.pccsUrl ?? (env.CONFIDE_PCCS_URL || undefined)
  const kdsUrl = options.kdsUrl ?? (env.CONFIDE_KDS_URL || undefined)
  const pcs = pcsEndpoints(pccs === undefined ? undefined : serviceUrl(pccs, '--pccs'))
  const kds = kdsUrl === undefined ? KDS_BASE_URL : serviceUrl(kdsUrl, '--kds')
  const rimUrl = options.nvidiaRimUrl ?? (env.CONFIDE_NVIDIA_RIM_URL || undefined)
  const ocspUrl = options.nvidiaOcspUrl ?? (env.CONFIDE_NVIDIA_OCSP_URL || undefined)
  const nvidia = {
    rimUrl: rimUrl === undefined ? NVIDIA_RIM_SERVICE_URL : serviceUrl(rimUrl, '--nvidia-rim'),
    ocspUrl: ocspUrl === undefined ? NVIDIA_OCSP_URL : serviceUrl(ocspUrl, '--nvidia-ocsp'),
  }
  const http = lazyHttpClient(env, options.http)
  const sources = { http, pcs: new PcsClient(http, pcs), kds: new KdsClient(http, kds), nvidia }

  return {
    fetcher: new CollateralFetcher({ ...shared, sources }),
    urls: { pcs: pcs.baseUrl, kds },
    close: async () => {
      await store.close()
      await http.close()
    },
  }
}
