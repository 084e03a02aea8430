/**
 * Trustee's KBS protocol over HTTP, under `/kbs/v0`: the attestation exchange (`auth`, `attest`),
 * resource release, and the admin routes that set resources and policies. The broker does the
 * work; these routes decode requests, authenticate admins and respond in Trustee's message
 * and error shapes.
 *
 * @see Trustee `kbs/docs/kbs.yaml` and `kbs/docs/kbs_attestation_protocol.md`
 * @module
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parsePolicy } from '../appraisal/policy.js'
import type { KbsBroker } from '../kbs/broker.js'
import { KbsError } from '../kbs/errors.js'
import { parseKbsAttestation, parseKbsRequest } from '../kbs/protocol.js'
import { parseResourcePath, type ResourcePath, validateResourcePath } from '../kbs/resource-path.js'
import { bearerToken } from './admin-auth.js'
import { ADMIN_SECURITY, adminGuard } from './admin-guard.js'
import type { RouteContext } from './context.js'
import { HttpError } from './problem.js'
import { base64, errorResponses, KbsErrorResponse } from './schemas.js'

/** The cookie that carries the KBS session, as Trustee names it. */
export const SESSION_COOKIE = 'kbs-session-id'

const kbsErrors = (statuses: readonly number[]) => errorResponses(statuses, KbsErrorResponse)

const RequestBody = Type.Object(
  {
    version: Type.String({ maxLength: 100 }),
    tee: Type.String({ maxLength: 100 }),
    'extra-params': Type.Optional(Type.Unknown()),
  },
  { description: 'KBS Request (kbs-types)' },
)

const AttestationBody = Type.Object(
  {
    'init-data': Type.Optional(Type.Unknown()),
    'runtime-data': Type.Object({
      nonce: Type.String({ maxLength: 1024 }),
      'tee-pubkey': Type.Object({}, { additionalProperties: true }),
    }),
    'tee-evidence': Type.Unknown(),
  },
  { description: 'KBS Attestation (kbs-types)' },
)

const ChallengeResponse = Type.Object({
  nonce: Type.String(),
  'extra-params': Type.Unknown(),
})

const JweResponse = Type.Object(
  {
    protected: Type.String(),
    encrypted_key: Type.String(),
    iv: Type.String(),
    ciphertext: Type.String(),
    tag: Type.String(),
    aad: Type.Optional(Type.String()),
  },
  { description: 'the resource as a flattened JWE to the TEE key' },
)

const PathParams = Type.Object({
  repository: Type.String({ maxLength: 200 }),
  type: Type.String({ maxLength: 200 }),
  tag: Type.String({ maxLength: 200 }),
})

const ResourcePolicyBody = Type.Object(
  {
    policy: base64('base64 of a confide appraisal policy, JSON or YAML'),
    resource: Type.Optional(
      Type.String({
        maxLength: 400,
        description:
          'repository/type/tag the policy applies to, or * for every resource without one (default)',
      }),
    ),
  },
  { additionalProperties: false },
)

const AttestationPolicyBody = Type.Object(
  {
    policy: base64('base64 of a confide appraisal policy, JSON or YAML'),
    policy_id: Type.Optional(
      Type.String({
        maxLength: 1000,
        description: 'must equal the id inside the policy when given',
      }),
    ),
    type: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
)

function clientOf(request: FastifyRequest): { address: string } {
  return { address: request.ip }
}

function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  id: string,
  expires?: Date,
): void {
  reply.setCookie(SESSION_COOKIE, id, {
    path: '/kbs/v0',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    ...(expires === undefined ? {} : { expires }),
  })
}

function pathOf(params: { repository: string; type: string; tag: string }): ResourcePath {
  return validateResourcePath({ repository: params.repository, type: params.type, tag: params.tag })
}

function decodePolicy(text: string) {
  return parsePolicy(Buffer.from(text, 'base64').toString('utf8'))
}

/** Adds `/kbs/v0/auth` and `/kbs/v0/attest`, rate limited: anyone may start an exchange. */
function registerExchange(app: FastifyInstance, broker: KbsBroker): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()
  typed.post(
    '/kbs/v0/auth',
    {
      schema: {
        tags: ['kbs'],
        summary: 'Start an attestation: returns a challenge and sets the kbs-session-id cookie',
        body: RequestBody,
        response: { 200: ChallengeResponse, ...kbsErrors([400, 401, 413, 429]) },
      },
      config: { rateLimit: {} },
    },
    async (request, reply) => {
      const kbsRequest = parseKbsRequest(request.body)
      const { challenge, sessionId, expiresAt } = await broker.auth(kbsRequest, clientOf(request))
      setSessionCookie(request, reply, sessionId, expiresAt)
      return challenge
    },
  )
  typed.post(
    '/kbs/v0/attest',
    {
      schema: {
        tags: ['kbs'],
        summary: 'Send evidence bound to the challenge; returns an attestation token (EAR)',
        body: AttestationBody,
        response: {
          200: Type.Object({ token: Type.String() }),
          ...kbsErrors([400, 401, 413, 429]),
        },
      },
      config: { rateLimit: {} },
    },
    async (request, reply) => {
      const sessionId = request.cookies[SESSION_COOKIE]
      if (sessionId === undefined || sessionId === '')
        throw new KbsError(
          'ERR_KBS_UNAUTHORIZED',
          `missing ${SESSION_COOKIE} cookie: POST /kbs/v0/auth first`,
        )
      const attestation = parseKbsAttestation(request.body)
      const result = await broker.attest(sessionId, attestation, clientOf(request))
      setSessionCookie(request, reply, sessionId)
      return { token: result.token }
    },
  )
}

/** Adds `GET /kbs/v0/resource/...`: release to a session cookie or an attestation token. */
function registerRelease(app: FastifyInstance, context: RouteContext, broker: KbsBroker): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/kbs/v0/resource/:repository/:type/:tag',
    {
      schema: {
        tags: ['kbs'],
        summary: 'Fetch a resource, encrypted to the TEE key bound at attestation',
        params: PathParams,
        response: { 200: JweResponse, ...kbsErrors([401, 403, 404]) },
      },
    },
    async (request) => {
      const sessionId = request.cookies[SESSION_COOKIE]
      const token = bearerToken(request.headers.authorization)
      const credential = {
        ...(sessionId === undefined || sessionId === '' ? {} : { sessionId }),
        ...(token === undefined ? {} : { token }),
      }
      try {
        const response = await broker.resource(
          credential,
          pathOf(request.params),
          clientOf(request),
        )
        context.metrics.kbsDecisions.inc({ decision: 'release', status: '200' })
        return response
      } catch (error) {
        const status = error instanceof KbsError ? String(error.status) : '500'
        context.metrics.kbsDecisions.inc({ decision: 'refuse', status })
        throw error
      }
    },
  )
}

/** Adds the admin routes that write and delete resources; their bodies are raw bytes of any type. */
function registerResourceAdmin(
  app: FastifyInstance,
  context: RouteContext,
  broker: KbsBroker,
): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    )
    const typed = scope.withTypeProvider<TypeBoxTypeProvider>()
    const preHandler = adminGuard(context)
    typed.post(
      '/kbs/v0/resource/:repository/:type/:tag',
      {
        preHandler,
        schema: {
          tags: ['kbs', 'admin'],
          security: ADMIN_SECURITY,
          summary: 'Store a resource (the raw body), encrypted at rest under the master key',
          params: PathParams,
          response: kbsErrors([400, 401, 404, 413]),
        },
      },
      async (request, reply) => {
        const body = request.body
        if (!Buffer.isBuffer(body) || body.length === 0)
          throw new HttpError(400, 'EMPTY_RESOURCE', 'the resource body is empty', 'SerdeError')
        await broker.setResource(pathOf(request.params), new Uint8Array(body), request.adminActor)
        return reply.code(200).send()
      },
    )
    typed.delete(
      '/kbs/v0/resource/:repository/:type/:tag',
      {
        preHandler,
        schema: {
          tags: ['kbs', 'admin'],
          security: ADMIN_SECURITY,
          summary: 'Delete a resource',
          params: PathParams,
          response: kbsErrors([401, 404]),
        },
      },
      async (request, reply) => {
        if (!(await broker.deleteResource(pathOf(request.params), request.adminActor)))
          throw new KbsError('ERR_KBS_NOT_FOUND', 'no resource at this path')
        return reply.code(200).send()
      },
    )
  })
}

/** Reads `repository/type/tag` or `*`. */
function policyTarget(text: string | undefined): ResourcePath | '*' {
  return text === undefined || text === '*' ? '*' : parseResourcePath(text)
}

/** Adds the resource policy and attestation policy routes. */
function registerPolicyAdmin(app: FastifyInstance, context: RouteContext, broker: KbsBroker): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()
  const preHandler = adminGuard(context)
  const base = { tags: ['kbs', 'admin'], security: ADMIN_SECURITY }
  typed.post(
    '/kbs/v0/resource-policy',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Set the policy of one resource, or of every resource without one (*)',
        body: ResourcePolicyBody,
        response: kbsErrors([400, 401, 404, 413]),
      },
    },
    async (request, reply) => {
      const policy = decodePolicy(request.body.policy)
      await broker.setResourcePolicy(
        policyTarget(request.body.resource),
        policy,
        request.adminActor,
      )
      return reply.code(200).send()
    },
  )
  typed.get(
    '/kbs/v0/resource-policy',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Read the policy of one resource, or the default (*)',
        querystring: Type.Object(
          { resource: Type.Optional(Type.String({ maxLength: 400 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ resource: Type.String(), policy: Type.String() }),
          ...kbsErrors([401, 404]),
        },
      },
    },
    async (request) => {
      const target = request.query.resource ?? '*'
      const policy = await broker.getResourcePolicy(policyTarget(target))
      if (policy === undefined)
        throw new KbsError('ERR_KBS_NOT_FOUND', `no resource policy for ${JSON.stringify(target)}`)
      return { resource: target, policy: Buffer.from(JSON.stringify(policy)).toString('base64') }
    },
  )
  typed.delete(
    '/kbs/v0/resource-policy',
    {
      preHandler,
      schema: {
        ...base,
        summary: 'Delete the policy of one resource, or the default (*)',
        querystring: Type.Object(
          { resource: Type.Optional(Type.String({ maxLength: 400 })) },
          { additionalProperties: false },
        ),
        response: kbsErrors([401, 404]),
      },
    },
    async (request, reply) => {
      const target = request.query.resource ?? '*'
      if (!(await broker.deleteResourcePolicy(policyTarget(target), request.adminActor)))
        throw new KbsError('ERR_KBS_NOT_FOUND', `no resource policy for ${JSON.stringify(target)}`)
      return reply.code(200).send()
    },
  )
  typed.post(
    '/kbs/v0/attestation-policy',
    {
      preHandler,
      schema: {
        ...base,
        summary:
          'Set the policy attestation results are appraised against before a token is issued',
        body: AttestationPolicyBody,
        response: kbsErrors([400, 401, 413]),
      },
    },
    async (request, reply) => {
      const policy = decodePolicy(request.body.policy)
      const named = request.body.policy_id
      if (named !== undefined && named !== policy.id)
        throw new HttpError(
          400,
          'FST_ERR_VALIDATION',
          `policy_id ${JSON.stringify(named)} differs from the policy's id ${JSON.stringify(policy.id)}`,
          'SerdeError',
        )
      await broker.setAttestationPolicy(policy, request.adminActor)
      return reply.code(200).send()
    },
  )
}

/** Adds every `/kbs/v0` route. */
export function registerKbsRoutes(
  app: FastifyInstance,
  context: RouteContext,
  broker: KbsBroker,
): void {
  registerExchange(app, broker)
  registerRelease(app, context, broker)
  registerResourceAdmin(app, context, broker)
  registerPolicyAdmin(app, context, broker)
}
