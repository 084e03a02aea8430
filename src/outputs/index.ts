/**
 * Attested outputs: a workload identity bound into evidence, inputs sealed to it with HPKE, and
 * signed output documents that anyone can check offline. Node only.
 *
 * @module
 */
export {
  type OutputSignatureAlgorithm,
  WORKLOAD_BINDING_LABEL,
  WORKLOAD_REPORT_DATA_SIZE,
  type WorkloadPublicKeys,
  workloadReportData,
} from './binding.js'
export {
  encodeOutputBundle,
  OUTPUT_BUNDLE_FORMAT,
  type OutputBundle,
  parseOutputBundle,
} from './bundle.js'
export { type CreateOutputInput, codeClaimsOf, createOutput } from './create.js'
export {
  type CodeClaims,
  encodeOutputDocument,
  type JsonValue,
  OUTPUT_DOCUMENT_VERSION,
  type OutputDocument,
  type OutputResult,
  parseOutputDocument,
} from './document.js'
export { SealedInputError, type SealedInputErrorCode } from './errors.js'
export {
  createWorkloadIdentity,
  identityReportData,
  signWithIdentity,
  type WorkloadIdentity,
  type WorkloadIdentityOptions,
} from './identity.js'
export {
  MAX_LABEL_SIZE,
  type OpenedInput,
  openInput,
  parseSealedInput,
  SEALED_INPUT_FORMAT,
  SEALED_INPUT_INFO,
  type SealedInput,
  sealInput,
} from './seal.js'
export {
  type OutputVerification,
  type VerifyOutputOptions,
  type VerifyWorkloadOptions,
  verifyOutput,
  verifyWorkload,
  type WorkloadVerification,
} from './verify.js'
