/**
 * The error a KBS step throws when it rejects a request. It carries a confide code, the HTTP
 * status Trustee responds with, and Trustee's problem type for the `ErrorInformation` body.
 *
 * @module
 */
import { ConfideError, type ErrorCode } from '../core/errors.js'

/** Codes a `KbsError` carries. */
export type KbsErrorCode = Extract<ErrorCode, `ERR_KBS_${string}`>

/** HTTP statuses of rejected KBS requests: 401, 403 or 404 as in Trustee, and 400 for bad input. */
export type KbsStatus = 400 | 401 | 403 | 404

/** Prefix of Trustee's problem type URIs. The URI names the type and is not resolvable. */
export const KBS_PROBLEM_TYPE_PREFIX = 'https://github.com/confidential-containers/kbs/errors/'

/** The error body of a KBS response (Trustee's `ErrorInformation`, RFC 7807 fields). */
export interface KbsErrorInformation {
  readonly type: string
  readonly detail: string
}

/** Trustee's problem type and status for each code. */
const PROBLEMS: Record<KbsErrorCode, { problemType: string; status: KbsStatus }> = {
  ERR_KBS_PROTOCOL_VERSION: { problemType: 'AttestationError', status: 401 },
  ERR_KBS_UNAUTHORIZED: { problemType: 'TokenNotFound', status: 401 },
  ERR_KBS_ATTESTATION: { problemType: 'AttestationError', status: 401 },
  ERR_KBS_DENIED: { problemType: 'PolicyDeny', status: 403 },
  ERR_KBS_NOT_FOUND: { problemType: 'InvalidRequestPath', status: 404 },
  ERR_KBS_ENVELOPE: { problemType: 'PluginInternalError', status: 401 },
}

/** A rejected KBS request. The message is safe to return to the client. */
export class KbsError extends ConfideError {
  declare readonly code: KbsErrorCode
  readonly status: KbsStatus
  /** Trustee's problem type, such as `PolicyDeny`: the last segment of the `type` URI. */
  readonly problemType: string

  constructor(
    code: KbsErrorCode,
    message: string,
    options?: { cause?: unknown; problemType?: string },
  ) {
    super(code, message, options)
    const problem = PROBLEMS[code]
    this.status = problem.status
    this.problemType = options?.problemType ?? problem.problemType
  }

  /** Returns the response body Trustee sends for this error. */
  toErrorInformation(): KbsErrorInformation {
    return { type: `${KBS_PROBLEM_TYPE_PREFIX}${this.problemType}`, detail: this.message }
  }
}
