/**
 * The confide service as a Fastify application: the verifier API, the admin API, Trustee's KBS
 * protocol, health, metrics and OpenAPI documentation. `buildServer` only builds it; nothing
 * listens until the caller calls `listen` (see `start.ts`), and tests use `inject`.
 *
 * @module
 */
import fastifyCookie from '@fastify/cookie'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import type { EarSigningKey } from '../appraisal/ear.js'
import type { CollateralFetcher } from '../collateral/fetcher.js'
import type { KbsBroker } from '../kbs/broker.js'
import type { Store } from '../store/open.js'
import { registerAdminRoutes } from './admin.js'
import type { AdminKey } from './admin-auth.js'
import { registerAppraiseRoute } from './appraise.js'
import type { RouteContext } from './context.js'
import { DEFAULT_BODY_LIMIT, DEFAULT_RATE_LIMIT } from './defaults.js'
import { registerKbsRoutes } from './kbs-routes.js'
import { type LoggerOptions, loggerOptions, requestIdOf } from './logging.js'
import { createServerMetrics, type ServerMetrics } from './metrics.js'
import { registerOpsRoutes } from './ops.js'
import { PolicyStore } from './policy-store.js'
import { sendProblem } from './problem.js'
import { StoreReferenceValues } from './reference-value-store.js'
import type { PlatformKeys } from './trusted-keys.js'
import { registerVerifyRoute } from './verify.js'

/** Options of `buildServer`. */
export interface ServerOptions {
  readonly store: Store
  /** The key broker behind the `/kbs/v0` routes. Absent: those routes are not served. */
  readonly broker?: KbsBroker
  /** Signs the EARs of `/v1/verify` and `/v1/appraise`. */
  readonly signer: EarSigningKey
  /** Ed25519 public keys that may sign admin tokens. Empty: admin routes return 401. */
  readonly adminKeys: readonly AdminKey[]
  /** Largest request body, in bytes. Default: `DEFAULT_BODY_LIMIT`. */
  readonly bodyLimit?: number
  /** Requests per client address and time window on the unauthenticated routes. Default: `DEFAULT_RATE_LIMIT`. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number }
  /** Pino logging: true or absent for info level on stdout, false for none, or pino options. */
  readonly logger?: boolean | LoggerOptions
  /**
   * DER SPKIs of the simulated TEE's signing keys, trusted for `sim` evidence only, or a function
   * that returns them when sim evidence arrives (so a key created after the start is found).
   * Absent: sim evidence is never better than indeterminate.
   */
  readonly trustedSimKeys?: readonly Uint8Array[] | (() => Promise<readonly Uint8Array[]>)
  /**
   * Public keys trusted directly: TPM attestation keys for TPM evidence only, Arm CCA platform
   * keys for CCA evidence only. Absent: that evidence is at best indeterminate, unless its key
   * comes with a certificate chain.
   */
  readonly trustedKeys?: PlatformKeys
  /**
   * Obtains collateral the evidence needs and the request lacks, through the store's cache.
   * Absent: verification uses only the collateral in the request.
   */
  readonly collateral?: CollateralFetcher
  /** TLS certificate and key, PEM. Absent: plain HTTP. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer }
  /**
   * Metrics to record into, so that a caller can count the broker's verifications in the same
   * registry. Absent: a new set.
   */
  readonly metrics?: ServerMetrics
  /** The clock of verifications, appraisals and admin tokens. Default: the system clock. */
  readonly now?: () => Date
}

/** Registers the plugins every route uses: cookies, rate limits, OpenAPI. */
async function registerPlugins(app: FastifyInstance, options: ServerOptions): Promise<void> {
  await app.register(fastifyCookie)
  const rate = options.rateLimit ?? DEFAULT_RATE_LIMIT
  await app.register(fastifyRateLimit, {
    global: false,
    max: rate.max,
    timeWindow: rate.timeWindowMs,
  })
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'confide',
        description:
          'Remote attestation service: verifier API, appraisal, admin API and the Trustee KBS protocol.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
}

/** Records each response's latency and echoes the request ID. */
function addHooks(app: FastifyInstance, context: RouteContext): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    context.metrics.requestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    )
  })
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error))
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, {
      statusCode: 404,
      code: 'FST_ERR_NOT_FOUND',
      message: `route ${request.method} ${request.url.split('?')[0]} not found`,
    }),
  )
}

/** Returns a function that gives the trusted sim keys, from a list or a function. */
function simKeySource(keys: ServerOptions['trustedSimKeys']): () => Promise<readonly Uint8Array[]> {
  if (typeof keys === 'function') return keys
  const fixed = keys ?? []

  return async () => fixed
}

/**
 * Builds the service. Nothing listens until the caller calls `listen`. The store stays the
 * caller's: closing the server does not close it.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(options.logger),
    genReqId: requestIdOf,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    // Unknown fields are rejected rather than dropped, so a misspelt option is never ignored.
    ajv: { customOptions: { removeAdditional: false } },
    ...(options.tls === undefined
      ? {}
      : { https: { cert: options.tls.cert, key: options.tls.key } }),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance
  const context: RouteContext = {
    store: options.store,
    policies: new PolicyStore(options.store),
    referenceValues: new StoreReferenceValues(options.store),
    signer: options.signer,
    adminKeys: options.adminKeys,
    trustedSimKeys: simKeySource(options.trustedSimKeys),
    trustedKeys: options.trustedKeys ?? {},
    metrics: options.metrics ?? createServerMetrics(),
    now: options.now ?? (() => new Date()),
    ...(options.collateral === undefined ? {} : { collateral: options.collateral }),
    ...(options.broker === undefined ? {} : { broker: options.broker }),
  }
  await registerPlugins(app, options)
  addHooks(app, context)
  registerOpsRoutes(app, context)
  registerVerifyRoute(app, context)
  registerAppraiseRoute(app, context)
  registerAdminRoutes(app, context)
  if (context.broker !== undefined) registerKbsRoutes(app, context, context.broker)
  await app.ready()

  return app
}
