/**
 * Operations routes: `/healthz` (the process is up), `/readyz` (the store responds, so the
 * replica can take traffic) and `/metrics` (Prometheus text format).
 *
 * @module
 */
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { RouteContext } from './context.js'

/** Longest wait for the store to respond to a readiness probe, in milliseconds. */
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

/** Adds the health, readiness and metrics routes. */
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
