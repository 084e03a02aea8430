/**
 * The preHandler that admits a request to an admin route only with a valid admin token, and
 * records who acted.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authenticateAdmin } from './admin-auth.js'
import type { RouteContext } from './context.js'
import { HttpError } from './problem.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Subject (`sub`) of the admin token that authorized the request. Empty on other routes. */
    adminActor: string
  }
}

/** Adds the `adminActor` request field. Call once per server. */
export function decorateAdminActor(app: FastifyInstance): void {
  app.decorateRequest('adminActor', '')
}

/** Returns a preHandler that rejects requests without a valid admin token with 401. */
export function adminGuard(context: RouteContext) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const outcome = await authenticateAdmin(
      request.headers.authorization,
      context.adminKeys,
      context.now(),
    )
    if (!outcome.ok) {
      request.log.warn({ reason: outcome.reason }, 'admin request rejected')
      throw new HttpError(401, 'ADMIN_AUTH', outcome.reason, 'AdminAuth')
    }
    request.adminActor = outcome.actor
  }
}

/** The OpenAPI security requirement of admin routes. */
export const ADMIN_SECURITY = [{ adminToken: [] }]
