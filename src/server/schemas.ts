/**
 * TypeBox schemas shared by the route groups. Fastify validates every body, query and path
 * parameter against them before a handler runs, and @fastify/swagger publishes them at `/docs`.
 *
 * @module
 */
import { type TSchema, Type } from '@sinclair/typebox'

/** Standard or URL-safe base64, with or without padding. */
export function base64(description = 'base64 (standard or URL-safe alphabet)') {
  return Type.String({ minLength: 1, pattern: '^[A-Za-z0-9+/_-]+={0,2}$', description })
}

/** Hex text of 1 to `maxBytes` whole bytes, either case. */
export function hex(maxBytes: number, description = `hex, 1 to ${maxBytes} bytes`) {
  return Type.String({
    minLength: 2,
    maxLength: maxBytes * 2,
    pattern: '^([0-9a-fA-F]{2})+$',
    description,
  })
}

/** Collateral files by name, as in a collateral directory (`tcb_info.json`, `certs/vcek.der`). */
export const CollateralFiles = Type.Record(
  Type.String({
    pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$',
    maxLength: 200,
  }),
  base64(),
  {
    additionalProperties: false,
    maxProperties: 64,
    description:
      'collateral files by their path in a collateral directory, such as tcb_info.json or certs/vcek.der, each base64',
  },
)

/** The fields of a request that carries evidence to verify. */
export const EvidenceFields = {
  evidence: base64('evidence bytes, base64, in any form `confide verify` reads'),
  platform: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[a-z0-9-]+$',
      description: 'platform name, such as tdx; absent: detected from the bytes',
    }),
  ),
  collateral: Type.Optional(CollateralFiles),
  nonce: Type.Optional(
    hex(1024, 'expected nonce, hex; only for evidence with a nonce field (Nitro, NVIDIA, TPM)'),
  ),
  reportData: Type.Optional(hex(64, 'expected report data, hex; a shorter value is zero-padded')),
}

/** Returns the schema of a policy or other ID in a path or body. */
export function id(description = 'an ID') {
  return Type.String({ minLength: 1, maxLength: 1000, description })
}

/** The error document of the verifier and admin API. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    error: Type.String(),
    message: Type.String(),
  },
  { description: 'error' },
)

/** Trustee's error document (RFC 7807) of the KBS routes. */
export const KbsErrorResponse = Type.Object(
  { type: Type.String(), detail: Type.String() },
  { description: 'error, as Trustee KBS sends it (RFC 7807)' },
)

/** Response schemas of the error statuses listed, for the OpenAPI document. */
export function errorResponses(
  statuses: readonly number[],
  schema: TSchema = ErrorResponse,
): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, schema]))
}
