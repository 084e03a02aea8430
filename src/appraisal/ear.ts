/**
 * EAR (EAT Attestation Result) tokens: appraisal results as a JWT signed by the verifier, in the
 * claim names Veraison and Trustee use, so that their relying parties can read confide's.
 *
 * @see Veraison `ear` library (github.com/veraison/ear): ear.go, ear_appraisal.go and
 *   verifier.go give the claim names and which of them are mandatory
 * @module
 */
import { type CryptoKey, type JWK, type KeyObject, SignJWT } from 'jose'
import { toBase64 } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import type { ClaimValue } from '../core/types.js'
import type { AppraisalCheck, AppraisalResult } from './types.js'

/** The EAR profile of Veraison's `ear` library; relying parties built on it require this value. */
export const VERAISON_EAR_PROFILE = 'tag:github.com,2023:veraison/ear'
/** The EAR profile of Trustee's attestation service. */
export const TRUSTEE_EAR_PROFILE = 'tag:github.com,2024:confidential-containers/Trustee'
/** Lifetime of a token when the caller gives no expiry: five minutes, as Trustee issues. */
export const DEFAULT_EAR_LIFETIME_SECONDS = 300

/** The verifier software that issued a result (AR4SI verifier identity). */
export interface VerifierIdentity {
  /** The software build, such as `confide 0.1.0`. */
  readonly build: string
  /** The organization responsible for the build. */
  readonly developer: string
}

/** The claims of an EAR besides its appraisals. */
export interface EarOptions {
  readonly verifier: VerifierIdentity
  /** Issue time (`iat`). */
  readonly issuedAt: Date
  /** Expiry (`exp`). Absent: `issuedAt` plus `DEFAULT_EAR_LIFETIME_SECONDS`. */
  readonly expiresAt?: Date
  /** The relying party's nonce (`eat_nonce`), 10 to 74 characters. Absent: none. */
  readonly nonce?: string
  /** The evidence appraised (`ear.raw-evidence`, base64url). Absent: left out. */
  readonly rawEvidence?: Uint8Array
  /** `eat_profile`. Absent: `VERAISON_EAR_PROFILE`. */
  readonly profile?: string
}

/** A key that signs an EAR, and how. */
export interface EarSigningKey {
  /** Private key: a WebCrypto key, a Node KeyObject, or a private JWK. */
  readonly key: CryptoKey | KeyObject | JWK
  readonly alg: 'ES256' | 'EdDSA'
  /** Key ID (`kid` header). Absent: none. */
  readonly kid?: string
  /** Public JWK to embed in the header (`jwk`), as Trustee does. Absent: none. */
  readonly jwk?: JWK
}

/** An EAR claim set as JSON, before signing. */
export type EarClaimSet = { readonly [claim: string]: ClaimValue }

function base64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function checkLine(check: AppraisalCheck): ClaimValue {
  return {
    name: check.name,
    status: check.status,
    detail: check.detail,
    ...(check.claim === undefined ? {} : { claim: check.claim }),
    ...(check.expected === undefined ? {} : { expected: check.expected }),
    ...(check.actual === undefined ? {} : { actual: check.actual }),
  }
}

/**
 * Returns the EAR appraisal of one result: status, all eight trustworthiness claims, policy ID,
 * the appraised claims as `ear.veraison.annotated-evidence` and the checks under
 * `ear.veraison.policy-claims`.
 */
export function earAppraisal(result: AppraisalResult): ClaimValue {
  const evidence: Record<string, ClaimValue> = {
    ...(result.claims as unknown as Record<string, ClaimValue>),
    ...(result.tcbStatus === undefined ? {} : { tcbStatus: result.tcbStatus }),
    advisories: [...result.advisories],
  }
  return {
    'ear.status': result.status,
    'ear.trustworthiness-vector': { ...result.trustVector },
    'ear.appraisal-policy-id': result.policyId,
    'ear.veraison.annotated-evidence': evidence,
    'ear.veraison.policy-claims': { checks: result.checks.map(checkLine) },
  }
}

/**
 * Builds the claim set of an EAR with one submodule per device, such as `{ cpu0: result }` or
 * `{ cpu0: cpuResult, gpu0: gpuResult }` for composite evidence.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for no submodule, an empty submodule name, a nonce
 *   outside 10 to 74 characters, or an expiry not after the issue time.
 */
export function earClaims(
  submods: Readonly<Record<string, AppraisalResult>>,
  options: EarOptions,
): EarClaimSet {
  const names = Object.keys(submods)
  if (names.length === 0 || names.some((name) => name.length === 0))
    throw new ConfigError('ERR_CONFIG_INVALID', 'an EAR needs at least one named submodule')
  const nonce = options.nonce
  if (nonce !== undefined && (nonce.length < 10 || nonce.length > 74))
    throw new ConfigError('ERR_CONFIG_INVALID', 'an EAR nonce must have 10 to 74 characters')
  const iat = Math.floor(options.issuedAt.getTime() / 1000)
  const exp =
    options.expiresAt === undefined
      ? iat + DEFAULT_EAR_LIFETIME_SECONDS
      : Math.floor(options.expiresAt.getTime() / 1000)
  if (exp <= iat)
    throw new ConfigError('ERR_CONFIG_INVALID', 'an EAR must expire after its issue time')
  const appraisals = Object.fromEntries(names.map((name) => [name, earAppraisal(submods[name]!)]))

  return {
    eat_profile: options.profile ?? VERAISON_EAR_PROFILE,
    iat,
    exp,
    'ear.verifier-id': { build: options.verifier.build, developer: options.verifier.developer },
    ...(nonce === undefined ? {} : { eat_nonce: nonce }),
    ...(options.rawEvidence === undefined
      ? {}
      : { 'ear.raw-evidence': base64Url(options.rawEvidence) }),
    submods: appraisals,
  }
}

/**
 * Signs appraisal results as an EAR: a compact JWS with `typ` JWT over `earClaims`.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` as `earClaims` does, or when the key does not suit
 *   the algorithm.
 */
export async function signEar(
  submods: Readonly<Record<string, AppraisalResult>>,
  signer: EarSigningKey,
  options: EarOptions,
): Promise<string> {
  const claims = earClaims(submods, options)
  const header = {
    alg: signer.alg,
    typ: 'JWT',
    ...(signer.kid === undefined ? {} : { kid: signer.kid }),
    ...(signer.jwk === undefined ? {} : { jwk: signer.jwk }),
  }
  try {
    return await new SignJWT(claims as Record<string, unknown>)
      .setProtectedHeader(header)
      .sign(signer.key)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `the EAR signing key does not suit ${signer.alg}: ${reason}`,
      { cause: error },
    )
  }
}
