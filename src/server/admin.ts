/**
 * The admin API under `/v1/admin`: appraisal policies, reference values and the KBS audit log.
 * Every route needs an admin token (see `admin-auth.ts`); every write returns after its
 * transaction is committed.
 *
 * @module
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { parseReferenceValuesJson } from '../appraisal/reference-values.js'
import { AUDIT_ACTIONS, type AuditAction } from '../kbs/audit.js'
import { ADMIN_SECURITY, adminGuard, decorateAdminActor } from './admin-guard.js'
import { PolicyDocument, ReferenceValueDocument } from './appraise.js'
import type { RouteContext } from './context.js'
import { HttpError } from './problem.js'
import { errorResponses, id } from './schemas.js'

const IdParams = Type.Object({ id: id() })

const StoredPolicyResponse = Type.Object({
  policy: Type.Unknown(),
  updatedAt: Type.String(),
  updatedBy: Type.String(),
})

const ReferenceValuesBody = Type.Object(
  { referenceValues: Type.Array(ReferenceValueDocument, { minItems: 1, maxItems: 10_000 }) },
  { additionalProperties: false },
)

const StoredReferenceValues = Type.Object({
  referenceValues: Type.Array(
    Type.Object({
      id: Type.String(),
      value: Type.Unknown(),
      createdAt: Type.String(),
      createdBy: Type.String(),
    }),
  ),
})

const AuditQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    resource: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    decision: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')])),
    action: Type.Optional(Type.Union(AUDIT_ACTIONS.map((action) => Type.Literal(action)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
)

function notFound(what: string, id: string): HttpError {
  return new HttpError(404, 'NOT_FOUND', `${what} ${JSON.stringify(id)} not found`)
}

/** Adds the policy routes. */
function registerPolicyRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()
  const base = { tags: ['admin'], security: ADMIN_SECURITY }
  const errors = errorResponses([400, 401, 404, 413])
  const preHandler = adminGuard(context)

  typed.get(
    '/v1/admin/policies',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'List stored policies',
        response: { 200: Type.Object({ policies: Type.Array(StoredPolicyResponse) }), ...errors },
      },
    },
    async () => ({ policies: await context.policies.list() }),
  )
  typed.post(
    '/v1/admin/policies',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Store a policy under its id, replacing any policy with that id',
        body: PolicyDocument,
        response: { 200: StoredPolicyResponse, ...errors },
      },
    },
    async (request) => context.policies.put(request.body, request.adminActor, context.now()),
  )
  typed.get(
    '/v1/admin/policies/:id',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Read a stored policy',
        params: IdParams,
        response: { 200: StoredPolicyResponse, ...errors },
      },
    },
    async (request) => {
      const stored = await context.policies.get(request.params.id)
      if (stored === undefined) throw notFound('policy', request.params.id)
      return stored
    },
  )
  typed.put(
    '/v1/admin/policies/:id',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Store a policy under this id; the body id must be the same',
        params: IdParams,
        body: PolicyDocument,
        response: { 200: StoredPolicyResponse, ...errors },
      },
    },
    async (request) => {
      if (request.body.id !== request.params.id)
        throw new HttpError(
          400,
          'FST_ERR_VALIDATION',
          `body id ${JSON.stringify(request.body.id)} differs from the path id ${JSON.stringify(request.params.id)}`,
        )
      return context.policies.put(request.body, request.adminActor, context.now())
    },
  )
  typed.delete(
    '/v1/admin/policies/:id',
    {
      preHandler,
      schema: { ...base, summary: 'Delete a stored policy', params: IdParams, response: errors },
    },
    async (request, reply) => {
      if (!(await context.policies.delete(request.params.id, request.adminActor, context.now())))
        throw notFound('policy', request.params.id)
      return reply.code(204).send()
    },
  )
}

/** Adds the reference value routes. */
function registerReferenceValueRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()
  const base = { tags: ['admin'], security: ADMIN_SECURITY }
  const errors = errorResponses([400, 401, 404, 413])
  const preHandler = adminGuard(context)

  typed.get(
    '/v1/admin/reference-values',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'List stored reference values, of one platform or all',
        querystring: Type.Object(
          { platform: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 200: StoredReferenceValues, ...errors },
      },
    },
    async (request) => ({
      referenceValues: await context.referenceValues.entries(request.query.platform),
    }),
  )
  typed.post(
    '/v1/admin/reference-values',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Add reference values ({"referenceValues": [...]}, as in a reference values file)',
        body: ReferenceValuesBody,
        response: { 200: StoredReferenceValues, ...errors },
      },
    },
    async (request) => {
      const values = parseReferenceValuesJson(JSON.stringify(request.body), request.adminActor)
      const stored = await context.referenceValues.insert(values, request.adminActor, context.now())
      return { referenceValues: stored }
    },
  )
  typed.delete(
    '/v1/admin/reference-values/:id',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Delete a stored reference value',
        params: IdParams,
        response: errors,
      },
    },
    async (request, reply) => {
      const { id } = request.params
      if (!(await context.referenceValues.delete(id, request.adminActor, context.now())))
        throw notFound('reference value', id)
      return reply.code(204).send()
    },
  )
}

/** Adds the audit route, served when the server has a key broker. */
function registerAuditRoute(app: FastifyInstance, context: RouteContext): void {
  const broker = context.broker
  if (broker === undefined) return
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/admin/audit',
    {
      preHandler: adminGuard(context),
      schema: {
        tags: ['admin'],
        security: ADMIN_SECURITY,
        summary:
          'Query the KBS audit log: releases, refusals, attestations and admin writes, newest first',
        querystring: AuditQuery,
        response: {
          200: Type.Object({ records: Type.Array(Type.Unknown()) }),
          ...errorResponses([400, 401]),
        },
      },
    },
    async (request) => {
      const query = request.query
      const records = await broker.audit({
        ...(query.since === undefined ? {} : { since: new Date(query.since) }),
        ...(query.until === undefined ? {} : { until: new Date(query.until) }),
        ...(query.resource === undefined ? {} : { resource: query.resource }),
        ...(query.decision === undefined ? {} : { decision: query.decision }),
        ...(query.action === undefined ? {} : { action: query.action as AuditAction }),
        limit: query.limit ?? 100,
      })
      return { records }
    },
  )
}

/** Adds every route under `/v1/admin`. */
export function registerAdminRoutes(app: FastifyInstance, context: RouteContext): void {
  decorateAdminActor(app)
  registerPolicyRoutes(app, context)
  registerReferenceValueRoutes(app, context)
  registerAuditRoute(app, context)
}
