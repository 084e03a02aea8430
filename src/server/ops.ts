/**
 * Operations routes: `/healthz` (the process is up), `/readyz` (the store responds, so the
 * replica can take traffic), `/metrics` (Prometheus text format), and `/v1/ear/jwks`, the public
 * key that signs this service's EARs.
 *
 * @module
 */

import { KeyObject } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { importJWK, type JWK } from 'jose'
import { sql } from 'kysely'
import type { EarSigningKey } from '../appraisal/ear.js'
import { earSignerJwk } from '../appraisal/jwks.js'
import type { RouteContext } from './context.js'

/** Maximum wait for the store to respond to a readiness probe, in milliseconds. */
const READY_TIMEOUT_MS = 2000

const Status = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) })

/** Resolves when the store responds to a trivial query, rejects when it fails or takes too long. */
async function pingStore(context: RouteContext): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error('the store did not respond in time')),
      READY_TIMEOUT_MS,
    )
  })
  try {
    await Promise.race([sql`select 1`.execute(context.store.db), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Returns the public JWK of the EAR signing key, with its `kid` when it has one. */
async function publicSignerJwk(signer: EarSigningKey): Promise<JWK> {
  let jwk = signer.jwk
  if (jwk === undefined) {
    const { key } = signer
    const isJwk = !(key instanceof KeyObject) && !('algorithm' in key)
    const imported = isJwk ? await importJWK(key as JWK, signer.alg) : key
    if (imported instanceof Uint8Array) throw new Error('a symmetric key cannot sign EARs')
    jwk = await earSignerJwk(imported as Exclude<typeof imported, JWK>, signer.alg)
  }

  return signer.kid === undefined ? jwk : { ...jwk, kid: signer.kid }
}

/** Adds the health, readiness, metrics and EAR key routes. */
export function registerOpsRoutes(app: FastifyInstance, context: RouteContext): void {
  const tags = ['operations']
  app.get(
    '/healthz',
    { schema: { tags, summary: 'Liveness: the process is up', response: { 200: Status } } },
    async () => ({ status: 'ok' }),
  )
  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary: 'Readiness: the store responds',
        response: { 200: Status, 503: Status },
      },
    },
    async (request, reply) => {
      try {
        await pingStore(context)
        return { status: 'ready' }
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed: store does not respond')
        return reply.code(503).send({ status: 'unavailable', reason: 'the store does not respond' })
      }
    },
  )
  app.get(
    '/v1/ear/jwks',
    {
      schema: {
        tags: ['verifier'],
        summary: "The public key that signs this service's EARs, as a JWK Set",
        response: { 200: Type.Object({ keys: Type.Array(Type.Unknown()) }) },
      },
    },
    async () => ({ keys: [await publicSignerJwk(context.signer)] }),
  )
  app.get(
    '/metrics',
    {
      schema: {
        tags,
        summary: 'Prometheus metrics',
        response: { 200: Type.String({ description: 'Prometheus text exposition format' }) },
      },
    },
    async (_request, reply) => {
      const text = await context.metrics.registry.metrics()
      return reply.type(context.metrics.registry.contentType).send(text)
    },
  )
}
