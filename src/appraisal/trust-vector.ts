/**
 * The AR4SI trustworthiness vector and the four trust tiers of an attestation result.
 *
 * Each of the eight trustworthiness claims is a signed 8-bit integer, and its range gives its
 * tier. None is -1 to 1, affirming 2 to 31 (and -2 to -32), warning 32 to 95 (and -33 to -96),
 * and contraindicated 96 to 127 (and -97 to -128). Positive values are the standard ones, and
 * negative values are for private use.
 *
 * When several checks set one claim, the most severe tier wins, as the draft's "Assigning a
 * Trustworthiness Claim value" requires.
 *
 * @see IETF draft-ietf-rats-ar4si (Attestation Results for Secure Interactions), section
 *   "Trustworthiness Claims": "Enumeration Encoding" (tiers) and "Specific Claims" (values)
 * @module
 */

/** The eight trustworthiness claims, by their JSON names. */
export const TRUST_CLAIMS = [
  'instance-identity',
  'configuration',
  'executables',
  'file-system',
  'hardware',
  'runtime-opaque',
  'storage-opaque',
  'sourced-data',
] as const

/** The name of one trustworthiness claim, such as `hardware`. */
export type TrustClaimName = (typeof TRUST_CLAIMS)[number]

/** A trustworthiness vector: one value from -128 to 127 per claim, 0 meaning no claim made. */
export type TrustVector = { readonly [name in TrustClaimName]: number }

/** The overall status of an appraisal (EAR `ear.status`). */
export type TrustTier = 'none' | 'affirming' | 'warning' | 'contraindicated'

/** Tiers from least to most severe. A result takes the most severe tier of its claims. */
const SEVERITY: readonly TrustTier[] = ['none', 'affirming', 'warning', 'contraindicated']

/**
 * Standard claim values confide produces, by AR4SI name. Values that share a number in different
 * claims (2 is "approved configuration" and "genuine hardware") are listed once per meaning.
 */
export const TRUST_VALUE = {
  /** Evidence is insufficient to make a claim. */
  NO_CLAIM: 0,
  /** instance-identity: the instance is recognized and not known to be compromised. */
  RECOGNIZED_INSTANCE: 2,
  /** instance-identity: the instance is not the one the verifier expected to see. */
  UNRECOGNIZED_INSTANCE: 97,
  /** configuration: a known and approved configuration. */
  APPROVED_CONFIG: 2,
  /** configuration: the configuration exposes known vulnerabilities. */
  UNSAFE_CONFIG: 32,
  /** configuration: the configuration exposes unacceptable vulnerabilities. */
  UNSUPPORTABLE_CONFIG: 96,
  /** executables: only approved executables were loaded. */
  APPROVED_RUNTIME: 2,
  /** executables: the runtime contains executables that are not recognized. */
  UNRECOGNIZED_RUNTIME: 33,
  /** executables: the runtime contains contraindicated executables. */
  CONTRAINDICATED_RUNTIME: 96,
  /** hardware: genuine and supported hardware and firmware. */
  GENUINE_HARDWARE: 2,
  /** hardware: genuine, but with known security vulnerabilities. */
  UNSAFE_HARDWARE: 32,
  /** hardware: recognized, but its trustworthiness is contraindicated. */
  CONTRAINDICATED_HARDWARE: 96,
  /** runtime-opaque: memory is visible to the host. */
  VISIBLE_MEMORY: 96,
  /** Any claim: cryptographic validation of the evidence failed. */
  CRYPTO_VALIDATION_FAILED: 99,
} as const

/** Returns the tier of one claim value. */
export function tierOf(value: number): TrustTier {
  if (value >= -1 && value <= 1) return 'none'
  // Negative values mirror the positive ranges shifted by one: -2 to -32 is affirming.
  const magnitude = value > 0 ? value : -value - 1
  if (magnitude <= 31) return 'affirming'
  if (magnitude <= 95) return 'warning'
  return 'contraindicated'
}

/** Tells whether tier `a` is more severe than tier `b`. */
export function isMoreSevere(a: TrustTier, b: TrustTier): boolean {
  return SEVERITY.indexOf(a) > SEVERITY.indexOf(b)
}

/** Returns the most severe tier among the vector's claims ('none' when every claim is 0). */
export function vectorTier(vector: TrustVector): TrustTier {
  let tier: TrustTier = 'none'
  for (const name of TRUST_CLAIMS) {
    const claimTier = tierOf(vector[name])
    if (isMoreSevere(claimTier, tier)) tier = claimTier
  }

  return tier
}

/** Returns a vector with every claim set to 0 (no claim). */
export function emptyTrustVector(): TrustVector {
  return Object.fromEntries(TRUST_CLAIMS.map((name) => [name, 0])) as TrustVector
}
