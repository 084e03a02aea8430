/**
 * Appraisal: policies, reference values (JSON and CoRIM), the AR4SI trustworthiness vector, and
 * EAR tokens. Pure: no node: imports, so it runs in browsers too.
 *
 * @module
 */
export { type AppraiseOptions, appraise } from './appraise.js'
export {
  type AttestKeyTriple,
  type Comid,
  type Corim,
  type CorimEnvironment,
  type CorimMeasurement,
  decodeCorim,
  type MeasurementValues,
  type ReferenceTriple,
} from './corim.js'
export {
  type CorimImport,
  importCorim,
  type SkippedMeasurement,
  SNP_CORIM_PROFILE,
  type VerificationKey,
} from './corim-import.js'
export type { TypedValue } from './corim-items.js'
export {
  DEFAULT_EAR_LIFETIME_SECONDS,
  type EarClaimSet,
  type EarOptions,
  type EarSigningKey,
  earAppraisal,
  earClaims,
  signEar,
  TRUSTEE_EAR_PROFILE,
  VERAISON_EAR_PROFILE,
  type VerifierIdentity,
} from './ear.js'
export { type Ear, type EarAppraisal, KNOWN_EAR_PROFILES, parseEarClaims } from './ear-claims.js'
export {
  DEFAULT_EAR_ALGORITHMS,
  type EarVerificationKey,
  type VerifyEarOptions,
  verifyEar,
} from './ear-verify.js'
export { type JsonSchema, type SchemaViolation, validateJsonSchema } from './json-schema.js'
export { earSignerJwk } from './jwks.js'
export {
  DEFAULT_POLICY,
  type Policy,
  type PolicyRule,
  parsePolicy,
  type ReferenceValuePolicy,
  SIMULATED_PLATFORMS,
  type TcbPolicy,
  validatePolicy,
} from './policy.js'
export { readReferenceValues } from './read-reference-values.js'
export {
  exportReferenceValues,
  isValidAt,
  MemoryReferenceValueStore,
  type Provenance,
  parseReferenceValuesJson,
  type ReferenceValue,
  type ReferenceValueStore,
} from './reference-values.js'
export { POLICY_SCHEMA, REFERENCE_VALUES_SCHEMA, TCB_STATUSES } from './schemas.js'
export { appraiseSubmodules, type MaybeComposite, SINGLE_SUBMODULE } from './submodules.js'
export {
  TRUST_CLAIMS,
  TRUST_VALUE,
  type TrustClaimName,
  type TrustTier,
  type TrustVector,
  tierOf,
} from './trust-vector.js'
export type {
  AppraisalCheck,
  AppraisalCheckStatus,
  AppraisalInput,
  AppraisalResult,
  TrustEffect,
} from './types.js'
