/**
 * Error classes and the stable codes they carry.
 *
 * An exception means "could not judge": unreadable input, missing collateral, a bad policy. A
 * verdict of "invalid" is a result, never an exception. Codes are never renamed or reused; each
 * one has an entry in docs/errors.md.
 *
 * @module
 */

/** Every code a confide error can carry, by stage. */
export const ERROR_CODES = {
  ERR_PARSE_TRUNCATED: 'input ends before a field it must contain',
  ERR_PARSE_OVERSIZED: 'input or one of its length fields exceeds the allowed size',
  ERR_PARSE_MALFORMED: 'a field has a value its format does not allow',
  ERR_PARSE_RESERVED_NONZERO: 'a reserved field that must be zero is not',
  ERR_PARSE_UNSUPPORTED_VERSION: 'the structure version is not one confide supports',
  ERR_PARSE_UNSUPPORTED_TEE_TYPE: 'the TEE type is not one confide supports',
  ERR_PARSE_UNSUPPORTED_KEY_TYPE: 'the attestation key type is not one confide supports',
  ERR_PARSE_UNSUPPORTED_BODY_TYPE: 'the body type is not one confide supports',
  ERR_PARSE_UNSUPPORTED_CERT_DATA_TYPE: 'the certification data type is not one confide supports',
  ERR_PARSE_UNKNOWN_FORMAT: 'no platform recognizes the input',
  ERR_PARSE_CERTIFICATE: 'a certificate could not be decoded',
  ERR_PARSE_CRL: 'a certificate revocation list could not be decoded',
  ERR_PARSE_COLLATERAL: 'collateral could not be decoded',
  ERR_VERIFY_SIGNATURE: 'a signature does not verify',
  ERR_VERIFY_CHAIN: 'a certificate chain does not lead to a trusted root',
  ERR_VERIFY_EXPIRED: 'a certificate is not valid at the verification time',
  ERR_VERIFY_REVOKED: 'a certificate is revoked',
  ERR_VERIFY_CRL:
    'a revocation list is not signed by its issuer or not valid at the verification time',
  ERR_VERIFY_BINDING: 'a value that must bind two structures together does not match',
  ERR_VERIFY_IDENTITY: 'an enclave or module identity does not match the signed identity',
  ERR_VERIFY_TCB: 'the TCB level is revoked, unknown, or matches no level in the TCB info',
  ERR_VERIFY_DEBUG: 'the TEE runs in debug mode and debug was not allowed',
  ERR_VERIFY_REPORT_DATA: 'the report data does not equal the expected value',
  ERR_VERIFY_TIMESTAMP: 'the evidence was created after the verification time',
  ERR_VERIFY_UNTRUSTED_KEY: 'the key that signed the evidence is not one the caller trusts',
  ERR_VERIFY_LIFECYCLE: 'the platform is not in a lifecycle state that may be trusted',
  ERR_VERIFY_TOKEN_EXPIRED: 'a token is expired or not yet valid at the verification time',
  ERR_VERIFY_OCSP: 'an OCSP response is unauthorized, unrelated to the request, stale, or unknown',
  ERR_VERIFY_MEASUREMENT: 'a measurement does not equal any of its reference values',
  ERR_VERIFY_INPUT_NOT_LISTED: 'an input the caller names is not among those an output lists',
  ERR_VERIFY_POLICY: 'the evidence fails a check of the appraisal policy the caller named',
  ERR_VERIFY_NO_EVIDENCE: 'a certificate carries no attestation evidence extension confide reads',
  ERR_VERIFY_STALE: 'the evidence is older than the maximum age the caller accepts',
  ERR_COLLATERAL_UNAVAILABLE: 'collateral needed to judge the evidence is missing',
  ERR_COLLATERAL_EXPIRED: 'collateral is not valid at the verification time',
  ERR_COLLATERAL_MISMATCH: 'collateral was issued for another platform',
  ERR_POLICY_INVALID: 'a policy document is malformed',
  ERR_CONFIG_INVALID: 'an option or argument is invalid',
  ERR_CONFIG_UNKNOWN_PLATFORM: 'no platform has the given name',
  ERR_CONFIG_KEY_NOT_FOUND: 'a key file does not exist and was not to be created',
  ERR_ATTEST_UNAVAILABLE: 'no TEE attestation interface is available on this machine',
  ERR_ATTEST_UNSUPPORTED: 'the TEE attestation interface produces evidence confide cannot use',
  ERR_ATTEST_FAILED: 'the TEE attestation interface failed to produce evidence',
  ERR_ATTEST_RACE: 'another process kept changing the attestation request',
  ERR_HTTP_REQUEST_FAILED: 'a request to a service failed or returned an unexpected status',
  ERR_HTTP_RESPONSE_INVALID: 'a service returned a response that cannot be read or decrypted',
  ERR_KBS_PROTOCOL_VERSION: 'the client speaks a KBS protocol version the broker does not support',
  ERR_KBS_UNAUTHORIZED: 'a KBS request carries no valid session or attestation token',
  ERR_KBS_ATTESTATION: 'a KBS attestation does not match its session, or its evidence fails',
  ERR_KBS_DENIED: 'the resource policy does not allow releasing the resource',
  ERR_KBS_NOT_FOUND: 'the requested KBS resource does not exist',
  ERR_KBS_ENVELOPE: 'a sealed resource does not open under the master key and its context',
  ERR_OUTPUT_RECIPIENT: 'a sealed input was sealed to the key of another workload',
  ERR_OUTPUT_DECRYPTION: 'a sealed input fails to decrypt: altered, or sealed under another label',
} as const

/** A stable error code, `ERR_<STAGE>_<WHAT>`. */
export type ErrorCode = keyof typeof ERROR_CODES

export type ParseErrorCode = Extract<ErrorCode, `ERR_PARSE_${string}`>
export type VerificationErrorCode = Extract<ErrorCode, `ERR_VERIFY_${string}`>
export type CollateralErrorCode = Extract<ErrorCode, `ERR_COLLATERAL_${string}`>
export type PolicyErrorCode = Extract<ErrorCode, `ERR_POLICY_${string}`>
export type ConfigErrorCode = Extract<ErrorCode, `ERR_CONFIG_${string}`>

/** Base class of every error confide throws on purpose. */
export class ConfideError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** The location of a parse error within a structure. */
export interface ParseLocation {
  /** Name of the structure being read, such as `Quote` or `SgxReportBody`. */
  readonly structure: string
  /** Specification name of the field, such as `REPORT_DATA`. */
  readonly field?: string
  /** Byte offset of the field from the start of the input. */
  readonly offset?: number
}

/** The input could not be decoded. */
export class ParseError extends ConfideError {
  declare readonly code: ParseErrorCode
  readonly structure: string
  readonly field: string | undefined
  readonly offset: number | undefined

  constructor(
    code: ParseErrorCode,
    message: string,
    location: ParseLocation,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
    this.structure = location.structure
    this.field = location.field
    this.offset = location.offset
  }
}

/** A verification step could not be carried out (not a failed step: that is a result). */
export class VerificationError extends ConfideError {
  declare readonly code: VerificationErrorCode
}

/** Collateral is missing, stale or for another platform. */
export class CollateralError extends ConfideError {
  declare readonly code: CollateralErrorCode
}

/** A policy document is malformed. */
export class PolicyError extends ConfideError {
  declare readonly code: PolicyErrorCode
}

/** An option or argument is invalid. */
export class ConfigError extends ConfideError {
  declare readonly code: ConfigErrorCode
}

/** Tells whether a value is a confide error, optionally with the given code. */
export function isConfideError(value: unknown, code?: ErrorCode): value is ConfideError {
  return value instanceof ConfideError && (code === undefined || value.code === code)
}
