/**
 * `POST /v1/verify`: verifies evidence, appraises it against a stored policy (or the strict
 * default) and returns the verification result with a signed EAR.
 *
 * @module
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { DEFAULT_POLICY, type Policy } from '../appraisal/policy.js'
import type { RouteContext } from './context.js'
import { HttpError } from './problem.js'
import { EvidenceFields, errorResponses, id } from './schemas.js'
import { judgeEvidence } from './verification.js'

const VerifyBody = Type.Object(
  {
    ...EvidenceFields,
    policyId: Type.Optional(
      id('ID of a stored policy; absent: the strict default policy (confide:default)'),
    ),
  },
  { additionalProperties: false },
)

const VerifyResponse = Type.Object({
  result: Type.Unknown({ description: 'the verification result: verdict, claims and every check' }),
  ear: Type.String({ description: 'EAR (EAT Attestation Result) token, a signed JWT' }),
})

/** Returns the stored policy named `id`, or the default policy when `id` is absent. */
export async function policyById(context: RouteContext, id: string | undefined): Promise<Policy> {
  if (id === undefined) return DEFAULT_POLICY
  const stored = await context.policies.get(id)
  if (stored === undefined)
    throw new HttpError(404, 'POLICY_NOT_FOUND', `policy ${JSON.stringify(id)} not found`)

  return stored.policy
}

/** Adds `POST /v1/verify`. */
export function registerVerifyRoute(app: FastifyInstance, context: RouteContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/verify',
    {
      schema: {
        tags: ['verifier'],
        summary: 'Verify evidence and return the result with a signed EAR',
        body: VerifyBody,
        response: { 200: VerifyResponse, ...errorResponses([400, 404, 413, 422, 429]) },
      },
      config: { rateLimit: {} },
    },
    async (request) => {
      const policy = await policyById(context, request.body.policyId)
      const { result, ear } = await judgeEvidence(context, request.body, policy)
      return { result, ear }
    },
  )
}
