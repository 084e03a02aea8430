/**
 * Reading of EAR claim sets: the checks a relying party must make after the signature, because
 * an empty payload `{}` can carry a valid signature too.
 *
 * Mandatory, as Veraison's `ear` library requires: `eat_profile`, `iat`, `ear.verifier-id` (with
 * `build` and `developer`) and `submods` with at least one appraisal, each with `ear.status`.
 * Other top-level and appraisal claims are kept but not judged.
 *
 * @module
 */
import { fromBase64 } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import { TRUSTEE_EAR_PROFILE, VERAISON_EAR_PROFILE, type VerifierIdentity } from './ear.js'
import { TRUST_CLAIMS, type TrustClaimName, type TrustTier } from './trust-vector.js'

/** One appraisal of an EAR (a submodule). */
export interface EarAppraisal {
  readonly status: TrustTier
  /** The claims the verifier made; absent ones are no claim (0). */
  readonly trustVector: { readonly [name in TrustClaimName]?: number }
  readonly policyId?: string
  /** `ear.veraison.annotated-evidence`: the claims the verifier read from the evidence. */
  readonly annotatedEvidence?: { readonly [key: string]: unknown }
  /** `ear.veraison.policy-claims`: claims the verifier's policy added. */
  readonly policyClaims?: { readonly [key: string]: unknown }
  /** `ear.veraison.key-attestation`: a key the evidence attests (`akpub`). */
  readonly keyAttestation?: { readonly [key: string]: unknown }
}

/** A verified or parsed EAR. */
export interface Ear {
  readonly profile: string
  readonly issuedAt: Date
  readonly expiresAt?: Date
  readonly verifier: VerifierIdentity
  readonly nonce?: string
  readonly rawEvidence?: Uint8Array
  readonly submods: { readonly [name: string]: EarAppraisal }
  /** The whole claim set as received, including claims not listed above. */
  readonly claims: { readonly [claim: string]: unknown }
}

/** Profiles `parseEarClaims` accepts by default: Veraison's and Trustee's. */
export const KNOWN_EAR_PROFILES: readonly string[] = [VERAISON_EAR_PROFILE, TRUSTEE_EAR_PROFILE]

const STATUSES: { readonly [value: string]: TrustTier } = {
  none: 'none',
  affirming: 'affirming',
  warning: 'warning',
  contraindicated: 'contraindicated',
  '0': 'none',
  '2': 'affirming',
  '32': 'warning',
  '96': 'contraindicated',
}

/** base64url without padding, which EAR requires for byte strings. */
const BASE64URL = /^[A-Za-z0-9_-]*$/

type Json = { readonly [key: string]: unknown }

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Collects problems so the error names every one, as Veraison's does. */
class Problems {
  readonly missing: string[] = []
  readonly invalid: string[] = []

  error(): ParseError | undefined {
    const parts: string[] = []
    if (this.missing.length > 0) parts.push(`missing mandatory ${this.missing.join(', ')}`)
    if (this.invalid.length > 0) parts.push(`invalid value(s) for ${this.invalid.join(', ')}`)
    if (parts.length === 0) return undefined
    const field = (this.missing[0] ?? this.invalid[0] ?? '').split(' ')[0]?.replace(/'/g, '')
    return new ParseError('ERR_PARSE_MALFORMED', `EAR claims: ${parts.join('; ')}`, {
      structure: 'EAR',
      ...(field === undefined || field === '' ? {} : { field }),
    })
  }
}

function readVerifier(value: unknown, problems: Problems): VerifierIdentity | undefined {
  if (value === undefined) {
    problems.missing.push("'ear.verifier-id'")
    return undefined
  }
  if (!isObject(value) || typeof value.build !== 'string' || typeof value.developer !== 'string') {
    problems.invalid.push("'ear.verifier-id' (needs text build and developer)")
    return undefined
  }

  return { build: value.build, developer: value.developer }
}

function readVector(
  value: unknown,
  where: string,
  problems: Problems,
): EarAppraisal['trustVector'] {
  if (value === undefined) return {}
  if (!isObject(value)) {
    problems.invalid.push(`'${where}.ear.trustworthiness-vector' (not an object)`)
    return {}
  }
  const vector: Partial<Record<TrustClaimName, number>> = {}
  for (const [name, claim] of Object.entries(value)) {
    const known = (TRUST_CLAIMS as readonly string[]).includes(name)
    const inRange =
      typeof claim === 'number' && Number.isInteger(claim) && claim >= -128 && claim <= 127
    if (!known || !inRange) {
      problems.invalid.push(`'${where}.ear.trustworthiness-vector.${name}'`)
      continue
    }
    vector[name as TrustClaimName] = claim as number
  }

  return vector
}

function optionalObject(value: unknown, name: string, problems: Problems): Json | undefined {
  if (value === undefined) return undefined
  if (isObject(value)) return value
  problems.invalid.push(`'${name}' (not an object)`)
  return undefined
}

function readAppraisal(name: string, value: unknown, problems: Problems): EarAppraisal | undefined {
  if (!isObject(value)) {
    problems.invalid.push(`'submods.${name}' (not an object)`)
    return undefined
  }
  const where = `submods.${name}`
  const status = STATUSES[String(value['ear.status'])]
  if (value['ear.status'] === undefined) problems.missing.push(`'${where}.ear.status'`)
  else if (status === undefined) problems.invalid.push(`'${where}.ear.status'`)
  const policyId = value['ear.appraisal-policy-id']
  if (policyId !== undefined && typeof policyId !== 'string')
    problems.invalid.push(`'${where}.ear.appraisal-policy-id' (not text)`)
  const annotated = optionalObject(
    value['ear.veraison.annotated-evidence'],
    `${where}.ear.veraison.annotated-evidence`,
    problems,
  )
  const policyClaims = optionalObject(
    value['ear.veraison.policy-claims'],
    `${where}.ear.veraison.policy-claims`,
    problems,
  )
  const keyAttestation = optionalObject(
    value['ear.veraison.key-attestation'],
    `${where}.ear.veraison.key-attestation`,
    problems,
  )

  return {
    status: status ?? 'none',
    trustVector: readVector(value['ear.trustworthiness-vector'], where, problems),
    ...(typeof policyId === 'string' ? { policyId } : {}),
    ...(annotated === undefined ? {} : { annotatedEvidence: annotated }),
    ...(policyClaims === undefined ? {} : { policyClaims }),
    ...(keyAttestation === undefined ? {} : { keyAttestation }),
  }
}

function readSubmods(value: unknown, problems: Problems): Record<string, EarAppraisal> {
  const submods: Record<string, EarAppraisal> = {}
  if (!isObject(value) || Object.keys(value).length === 0) {
    problems.missing.push("'submods' (at least one appraisal)")
    return submods
  }
  for (const [name, appraisal] of Object.entries(value)) {
    const read = readAppraisal(name, appraisal, problems)
    if (read !== undefined) submods[name] = read
  }

  return submods
}

function readTime(
  value: unknown,
  name: string,
  problems: Problems,
  required: boolean,
): Date | undefined {
  if (value === undefined) {
    if (required) problems.missing.push(`'${name}'`)
    return undefined
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.invalid.push(`'${name}' (not a number of seconds)`)
    return undefined
  }

  return new Date(Math.trunc(value) * 1000)
}

function readProfile(value: unknown, profiles: readonly string[], problems: Problems): string {
  if (value === undefined) problems.missing.push("'eat_profile'")
  else if (typeof value !== 'string' || !profiles.includes(value))
    problems.invalid.push(`'eat_profile' (${String(value)} is not an accepted profile)`)

  return typeof value === 'string' ? value : ''
}

function readRawEvidence(value: unknown, problems: Problems): Uint8Array | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) {
    problems.invalid.push("'ear.raw-evidence' (not base64url without padding)")
    return undefined
  }

  return fromBase64(value)
}

function readNonce(value: unknown, problems: Problems): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length < 10 || value.length > 74) {
    problems.invalid.push("'eat_nonce' (needs 10 to 74 characters)")
    return undefined
  }

  return value
}

/**
 * Checks and reads an EAR claim set. Runs after a signature check, or alone on an unsigned claim
 * set such as an example file.
 *
 * @param profiles Accepted `eat_profile` values. Default: Veraison's and Trustee's.
 * @throws ParseError `ERR_PARSE_MALFORMED` (structure `EAR`) naming every missing or invalid claim.
 */
export function parseEarClaims(
  value: unknown,
  profiles: readonly string[] = KNOWN_EAR_PROFILES,
): Ear {
  if (!isObject(value))
    throw new ParseError('ERR_PARSE_MALFORMED', 'EAR claims are not a JSON object', {
      structure: 'EAR',
    })
  const problems = new Problems()
  const profile = readProfile(value.eat_profile, profiles, problems)
  const issuedAt = readTime(value.iat, 'iat', problems, true)
  const expiresAt = readTime(value.exp, 'exp', problems, false)
  const verifier = readVerifier(value['ear.verifier-id'], problems)
  const nonce = readNonce(value.eat_nonce, problems)
  const rawEvidence = readRawEvidence(value['ear.raw-evidence'], problems)
  const submods = readSubmods(value.submods, problems)
  const error = problems.error()
  if (error !== undefined) throw error
  // Unreachable: a missing iat or verifier identity is recorded as a problem above.
  if (issuedAt === undefined || verifier === undefined)
    throw new ParseError('ERR_PARSE_MALFORMED', 'EAR claims are incomplete', { structure: 'EAR' })

  return {
    profile,
    issuedAt,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    verifier,
    ...(nonce === undefined ? {} : { nonce }),
    ...(rawEvidence === undefined ? {} : { rawEvidence }),
    submods,
    claims: value,
  }
}
