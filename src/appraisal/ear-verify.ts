/**
 * Verification of EAR tokens by a relying party: signature with a key the caller trusts, time
 * window, then the claim set.
 *
 * @module
 */
import {
  type CryptoKey,
  type JWK,
  type JWTVerifyGetKey,
  type JWTVerifyResult,
  jwtVerify,
  type KeyObject,
} from 'jose'
import { ConfigError, ParseError, VerificationError } from '../core/errors.js'
import { type Ear, KNOWN_EAR_PROFILES, parseEarClaims } from './ear-claims.js'

/**
 * The key that must have signed a token: a public key, or a function that picks one from the
 * header. Passing jose's `EmbeddedJWK` trusts whatever key the token carries in its `jwk` header,
 * which proves integrity only, not who issued the token: pin the key, or check its `x5c` chain.
 */
export type EarVerificationKey = CryptoKey | KeyObject | JWK | JWTVerifyGetKey

/** Options of `verifyEar`. */
export interface VerifyEarOptions {
  readonly key: EarVerificationKey
  /** The instant `exp` and `nbf` are judged at. Absent: now. */
  readonly at?: Date
  /** Signature algorithms accepted. Absent: ES256, ES384 and EdDSA. */
  readonly algorithms?: readonly string[]
  /** `eat_profile` values accepted. Absent: Veraison's and Trustee's. */
  readonly profiles?: readonly string[]
  /** Seconds of clock skew allowed on `exp` and `nbf`. Absent: 0. */
  readonly clockTolerance?: number
}

/** Algorithms accepted by default: the asymmetric ones Veraison and Trustee sign with. */
export const DEFAULT_EAR_ALGORITHMS: readonly string[] = ['ES256', 'ES384', 'EdDSA']

/** jose error codes, mapped onto confide's. */
const SIGNATURE_CODES = new Set([
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWK_INVALID',
])
const MALFORMED_CODES = new Set(['ERR_JWS_INVALID', 'ERR_JWT_INVALID'])

function joseCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined
  return typeof error.code === 'string' ? error.code : undefined
}

/** Converts a jose error into the confide error with the same meaning. */
function translate(error: unknown): Error {
  const code = joseCode(error)
  const reason = error instanceof Error ? error.message : String(error)
  const options = { cause: error }
  if (code === 'ERR_JWT_EXPIRED')
    return new VerificationError('ERR_VERIFY_TOKEN_EXPIRED', `EAR is expired: ${reason}`, options)
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const claim = (error as { claim?: unknown }).claim
    if (claim === 'nbf')
      return new VerificationError(
        'ERR_VERIFY_TOKEN_EXPIRED',
        `EAR is not yet valid: ${reason}`,
        options,
      )
    return new ParseError(
      'ERR_PARSE_MALFORMED',
      `EAR claim ${String(claim)}: ${reason}`,
      { structure: 'EAR', field: String(claim) },
      options,
    )
  }
  if (code !== undefined && SIGNATURE_CODES.has(code))
    return new VerificationError(
      'ERR_VERIFY_SIGNATURE',
      `EAR signature does not verify: ${reason}`,
      options,
    )
  if (code !== undefined && MALFORMED_CODES.has(code))
    return new ParseError(
      'ERR_PARSE_MALFORMED',
      `EAR token is malformed: ${reason}`,
      { structure: 'EAR' },
      options,
    )
  if (error instanceof TypeError)
    return new ConfigError(
      'ERR_CONFIG_INVALID',
      `EAR verification key is unusable: ${reason}`,
      options,
    )

  return error instanceof Error ? error : new Error(reason)
}

/**
 * Verifies an EAR: the JWS signature with `options.key` and an accepted algorithm, `exp` and
 * `nbf` at `options.at`, then the claim set with `parseEarClaims`. Returns the EAR read.
 *
 * Does not check `eat_nonce` against a challenge, nor decide anything from the statuses: the
 * caller compares `ear.nonce` and reads `ear.submods[name].status`.
 *
 * @throws VerificationError `ERR_VERIFY_SIGNATURE` for a bad signature, an algorithm not accepted
 *   or `none`, and `ERR_VERIFY_TOKEN_EXPIRED` outside the token's time window.
 * @throws ParseError `ERR_PARSE_MALFORMED` for a token that is not a compact JWT, or whose claims
 *   break EAR.
 * @throws ConfigError `ERR_CONFIG_INVALID` for an unusable key.
 */
export async function verifyEar(token: string, options: VerifyEarOptions): Promise<Ear> {
  const verifyOptions = {
    algorithms: [...(options.algorithms ?? DEFAULT_EAR_ALGORITHMS)],
    currentDate: options.at ?? new Date(),
    clockTolerance: options.clockTolerance ?? 0,
  }
  let verified: JWTVerifyResult
  try {
    const key = options.key
    // Two calls, because jose's overloads take a key or a key function but not the union.
    verified =
      typeof key === 'function'
        ? await jwtVerify(token, key, verifyOptions)
        : await jwtVerify(token, key, verifyOptions)
  } catch (error) {
    throw translate(error)
  }

  return parseEarClaims(verified.payload, options.profiles ?? KNOWN_EAR_PROFILES)
}
