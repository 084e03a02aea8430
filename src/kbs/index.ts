/**
 * The key broker, server side: Trustee's KBS protocol messages, the runtime-data binding, JWE
 * responses to the TEE key, resources sealed at rest, and `KbsBroker`, which runs the exchange
 * over the store. Node only.
 *
 * @module
 */
export {
  AUDIT_ACTIONS,
  AUDIT_DEFAULT_LIMIT,
  AUDIT_MAX_LIMIT,
  type AuditAction,
  type AuditDecision,
  type AuditQuery,
  type AuditRecord,
} from './audit.js'
export {
  KBS_NONCE_TTL_SECONDS,
  KBS_PROTOCOL_VERSIONS,
  KBS_SESSION_TTL_SECONDS,
  KBS_TOKEN_TTL_SECONDS,
  type KbsAuthResult,
  KbsBroker,
  type KbsBrokerOptions,
  type KbsClient,
  type KbsCredential,
  type KbsVerifyFunction,
  type ResourcePolicyPath,
} from './broker.js'
export {
  KBS_CLIENT_PROTOCOL_VERSION,
  KbsClientError,
  type KbsClientStep,
  type KbsGetResourceOptions,
  type KbsResource,
  kbsGetResource,
  primaryEvidence,
} from './client.js'
export { generateMasterKey, MASTER_KEY_ENV, ResourceSealer } from './envelope.js'
export {
  KBS_PROBLEM_TYPE_PREFIX,
  KbsError,
  type KbsErrorCode,
  type KbsErrorInformation,
  type KbsStatus,
} from './errors.js'
export {
  KBS_TEE_PLATFORMS,
  kbsEvidenceBytes,
  kbsTeePlatform,
  verifyKbsEvidence,
} from './evidence.js'
export { KBS_CONTENT_ENCRYPTION, protectedHeaderAad, sealToTeeKey } from './jwe.js'
export {
  KBS_TEES,
  type KbsAttestation,
  type KbsAttestationToken,
  type KbsChallenge,
  type KbsCompositeEvidence,
  type KbsInitData,
  type KbsRequest,
  type KbsResponse,
  type KbsRuntimeData,
  type KbsTee,
  type KbsTeePubkey,
  parseKbsAttestation,
  parseKbsChallenge,
  parseKbsRequest,
  parseKbsResponse,
  parseKbsTeePubkey,
} from './protocol.js'
export {
  formatResourcePath,
  parseResourcePath,
  type ResourcePath,
  validateResourcePath,
} from './resource-path.js'
export {
  canonicalJsonDigest,
  type RuntimeDataHash,
  type RuntimeDataInput,
  runtimeDataDigest,
  runtimeDataHash,
} from './runtime-data.js'
export { KBS_TOKEN_SUBMODULE, verifyKbsToken } from './token.js'
