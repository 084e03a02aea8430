/**
 * `POST /v1/appraise`: verifies evidence and appraises it against a stored policy, or against a
 * policy and reference values given in the request. Nothing is stored, so an admin can try a
 * policy before storing it. A policy or reference values in the request need an admin token,
 * for two reasons. The service signs the EAR, so an anonymous caller must not choose what it
 * affirms. And a policy's CEL rules can take as much time as their author makes them take.
 *
 * @module
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { type Policy, validatePolicy } from '../appraisal/policy.js'
import { parseReferenceValuesJson } from '../appraisal/reference-values.js'
import { adminGuard } from './admin-guard.js'
import type { RouteContext } from './context.js'
import { HttpError } from './problem.js'
import { EvidenceFields, errorResponses, id } from './schemas.js'
import { judgeEvidence } from './verification.js'
import { policyById } from './verify.js'

/** A policy document, checked in full by `validatePolicy` (the policy JSON Schema). */
export const PolicyDocument = Type.Object(
  { id: id('names the policy; required') },
  {
    additionalProperties: true,
    description:
      'an appraisal policy: id, platforms, allowSimulated, allowDebug, tcb, reportData, referenceValues, rules',
  },
)

/** A reference value, checked in full by `parseReferenceValuesJson`. */
export const ReferenceValueDocument = Type.Object(
  {
    platform: Type.String({ minLength: 1, maxLength: 200 }),
    claim: Type.String({ minLength: 1, maxLength: 200 }),
    values: Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
      minItems: 1,
      maxItems: 1000,
    }),
  },
  { additionalProperties: true, description: 'accepted values of one claim of one platform' },
)

const AppraiseBody = Type.Object(
  {
    ...EvidenceFields,
    policy: Type.Optional(PolicyDocument),
    policyId: Type.Optional(id('ID of a stored policy, when no policy is given')),
    referenceValues: Type.Optional(
      Type.Array(ReferenceValueDocument, {
        maxItems: 10_000,
        description: 'reference values added to the stored ones for this request only',
      }),
    ),
  },
  { additionalProperties: false },
)

const AppraiseResponse = Type.Object({
  result: Type.Unknown({ description: 'the verification result' }),
  appraisals: Type.Unknown({
    description: 'one appraisal per part (cpu0, gpu0, ...): status, trust vector and every check',
  }),
  ear: Type.String({ description: 'EAR token carrying the appraisals, a signed JWT' }),
})

/**
 * Validates a policy given in a request and renames it `inline:<id>`, so that an EAR appraised
 * under it never carries the ID of a stored policy or of the default one.
 */
function inline(document: unknown): Policy {
  const policy = validatePolicy(document)

  return { ...policy, id: `inline:${policy.id}` }
}

/** Adds `POST /v1/appraise`. */
export function registerAppraiseRoute(app: FastifyInstance, context: RouteContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/appraise',
    {
      schema: {
        tags: ['verifier'],
        summary: 'Verify evidence and appraise it against a given or stored policy',
        body: AppraiseBody,
        response: { 200: AppraiseResponse, ...errorResponses([400, 401, 404, 413, 422, 429]) },
      },
      config: { rateLimit: {} },
    },
    async (request, reply) => {
      const body = request.body
      if (body.policy !== undefined && body.policyId !== undefined)
        throw new HttpError(400, 'FST_ERR_VALIDATION', 'give policy or policyId, not both')
      if (body.policy !== undefined || body.referenceValues !== undefined)
        await adminGuard(context)(request, reply)
      const policy =
        body.policy === undefined ? await policyById(context, body.policyId) : inline(body.policy)
      const extra =
        body.referenceValues === undefined
          ? []
          : parseReferenceValuesJson(
              JSON.stringify({ referenceValues: body.referenceValues }),
              'request',
            )
      const { result, appraisals, ear } = await judgeEvidence(context, body, policy, extra)
      return { result, appraisals, ear }
    },
  )
}
