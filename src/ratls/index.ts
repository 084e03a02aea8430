/**
 * RA-TLS: TLS certificates that carry attestation evidence for their own key, and node:tls and
 * node:https helpers that verify the peer's evidence during the connection. Node only.
 *
 * @module
 */
export { gramineReportData, RATLS_REPORT_DATA_SIZE, tcgReportData } from './binding.js'
export {
  DEFAULT_RATLS_CACHE_ENTRIES,
  DEFAULT_RATLS_CACHE_TTL_SECONDS,
  RatlsCache,
  type RatlsCacheOptions,
} from './cache.js'
export {
  type CreateRatlsCertificateInput,
  createRatlsCertificate,
  type RatlsCertificate,
  type RatlsIssuer,
  type RatlsKeyPair,
} from './certificate.js'
export {
  decodeTcgClaims,
  decodeTcgEvidence,
  encodeTcgClaims,
  encodeTcgEvidence,
  findRatlsEvidence,
  GRAMINE_QUOTE_OID,
  GRAMINE_QUOTE_OID_INTENDED,
  INTEL_SGX_SDK_QUOTE_OID,
  type PublicKeyHash,
  RATLS_EVIDENCE_OIDS,
  type RatlsEncoding,
  type RatlsEvidence,
  readRatlsCertificate,
  TCG_DICE_TAGGED_EVIDENCE_OID,
  TCG_EVIDENCE_CBOR_TAG,
  type TcgClaims,
} from './extensions.js'
export {
  type ConnectRatlsOptions,
  connectRatls,
  createRatlsServer,
  RatlsAgent,
  type RatlsAgentOptions,
  type RatlsCredentials,
  RatlsPeerRejectedError,
  type RatlsServerOptions,
  ratlsClientOptions,
  ratlsRequestListener,
  ratlsServerOptions,
  verifyRatlsPeer,
} from './tls.js'
export {
  DEFAULT_MAX_EVIDENCE_AGE_SECONDS,
  evidenceCreatedAt,
  type RatlsVerdict,
  type VerifyRatlsOptions,
  verifyRatlsCertificate,
} from './verify.js'
