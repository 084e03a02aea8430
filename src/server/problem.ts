/**
 * Error responses. The verifier and admin API return `{statusCode, code, error, message}`, as
 * Fastify does. The KBS routes return Trustee's RFC 7807 problem document `{type, detail}`, whose
 * `type` is `https://github.com/confidential-containers/kbs/errors/<ProblemType>`, so that
 * Trustee's clients read confide's errors.
 *
 * @module
 */
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ConfideError } from '../core/errors.js'

/** Prefix of the `type` of Trustee's problem documents. */
export const TRUSTEE_PROBLEM_PREFIX = 'https://github.com/confidential-containers/kbs/errors/'

/** An error the server returns with a chosen status, code and message. */
export class HttpError extends Error {
  readonly statusCode: number
  readonly code: string
  /** Trustee's problem type for the KBS routes, such as `AdminAuth`. */
  readonly problemType: string

  constructor(statusCode: number, code: string, message: string, problemType = code) {
    super(message)
    this.name = 'HttpError'
    this.statusCode = statusCode
    this.code = code
    this.problemType = problemType
  }
}

/** An error that carries a KBS status and problem type, as the broker's KbsError does. */
interface KbsProblem {
  readonly status: number
  readonly problemType: string
  readonly message: string
}

function isKbsProblem(error: unknown): error is KbsProblem {
  const candidate = error as Partial<KbsProblem> | null
  return (
    error instanceof Error &&
    typeof candidate?.status === 'number' &&
    typeof candidate.problemType === 'string'
  )
}

/** Status of a confide error that reached a route: the client sent something that cannot be judged. */
function confideStatus(error: ConfideError): number {
  if (error.code.startsWith('ERR_COLLATERAL_') || error.code.startsWith('ERR_VERIFY_')) return 422
  return 400
}

/** Trustee's problem type for a status the KBS routes give without a KbsError. */
function problemTypeFor(status: number, code: string): string {
  if (code === 'FST_ERR_VALIDATION' || status === 400) return 'SerdeError'
  if (status === 404) return 'InvalidRequestPath'
  if (status === 401) return 'AdminAuth'
  if (status === 413) return 'PayloadTooLarge'
  if (status === 429) return 'TooManyRequests'
  return 'InternalError'
}

/** A classified error: what to send, and whether it is the server's fault. */
interface Classified {
  readonly status: number
  readonly code: string
  readonly message: string
  readonly problemType: string
}

function classify(error: unknown): Classified {
  if (isKbsProblem(error)) {
    const code = error instanceof ConfideError ? error.code : 'KBS_ERROR'
    return { status: error.status, code, message: error.message, problemType: error.problemType }
  }
  if (error instanceof HttpError) {
    const { statusCode: status, code, message, problemType } = error
    return { status, code, message, problemType }
  }
  if (error instanceof ConfideError) {
    const status = confideStatus(error)
    return { status, code: error.code, message: error.message, problemType: 'SerdeError' }
  }
  const fastifyError = error as Partial<FastifyError>
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = fastifyError.code ?? 'FST_ERR_BAD_REQUEST'
    const message = fastifyError.message ?? STATUS_CODES[status] ?? 'bad request'
    return { status, code, message, problemType: problemTypeFor(status, code) }
  }

  return {
    status: 500,
    code: 'INTERNAL_ERROR',
    message: 'internal server error; the server log has the details under this request ID',
    problemType: 'InternalError',
  }
}

/** Tells whether a request is for the KBS routes, which respond in Trustee's error shape. */
export function isKbsRequest(request: FastifyRequest): boolean {
  return request.url.startsWith('/kbs/')
}

/** Sends an error in the shape of the route's API. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
): FastifyReply {
  const problem = classify(error)
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
  else request.log.info({ code: problem.code, statusCode: problem.status }, 'request rejected')
  reply.code(problem.status)
  if (isKbsRequest(request)) {
    return reply.type('application/json').send({
      type: `${TRUSTEE_PROBLEM_PREFIX}${problem.problemType}`,
      detail: problem.message,
    })
  }

  return reply.type('application/json').send({
    statusCode: problem.status,
    code: problem.code,
    error: STATUS_CODES[problem.status] ?? 'Error',
    message: problem.message,
  })
}
