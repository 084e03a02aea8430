/**
 * Simulated TEEs for development and tests: confide's `sim`, signed by a local Ed25519 key, and
 * Trustee's unsigned `sample`. Their evidence proves nothing about hardware, and the appraisal
 * rejects both unless the policy sets `allowSimulated`.
 *
 * The platforms and parsers run anywhere. The key file (`loadSimKey`) and the attester
 * (`simEvidence`) are Node only: they use node:crypto and node:fs.
 *
 * @module
 */

export { defaultSimMrTd, type SimEvidenceInput, simEvidence } from './attester.js'
export { simClaims } from './claims.js'
export { type LoadSimKeyOptions, loadSimKey, type SimKey, simKeyLocation } from './dev-key.js'
export {
  encodeSimBody,
  encodeSimEvidence,
  MAX_SIM_EVIDENCE_SIZE,
  parseSimBody,
  parseSimEvidence,
  SIM_FORMAT,
  type SimBody,
  type SimEvidence,
  sniffSimEvidence,
} from './format.js'
export { samplePlatform, simPlatform } from './platform.js'
export {
  parseSampleEvidence,
  SAMPLE_LAUNCH_DIGEST,
  SAMPLE_PLATFORM_VERSION,
  type SampleEvidence,
  sampleClaims,
  sniffSampleEvidence,
  verifySampleEvidence,
} from './sample.js'
export { SIMULATED_DETAIL, verifySimEvidence } from './verify.js'
