/**
 * Tables of the confide store, typed for Kysely. Column names are the SQL names.
 *
 * @module
 */
import type { Generated } from 'kysely'

/**
 * One collateral item as fetched: the response body byte for byte, with the issuer chain that
 * came in a response header. Times are ISO-8601 UTC text, so SQLite and PostgreSQL store and
 * compare them the same way.
 */
export interface CollateralTable {
  /** Identity of the item, such as `intel/tcb-info/tdx/50806f000000`. */
  key: string
  /** The URL the body was fetched from. */
  url: string
  body: Uint8Array
  /** PEM issuer chain from the response header, or null when the response had none. */
  issuer_chain: Uint8Array | null
  fetched_at: string
  /** The item's next-update time: until then it is served without asking the network. */
  fresh_until: string
}

/** An appraisal policy stored by the service, by its ID. */
export interface PolicyTable {
  id: string
  /** The policy as JSON text, as validated when it was stored. */
  document: string
  updated_at: string
  /** Subject (`sub`) of the admin token that stored it. */
  updated_by: string
}

/** One reference value stored by the service. */
export interface ReferenceValueTable {
  /** A random UUID given when the value was added. */
  id: string
  platform: string
  /** The reference value as JSON text, normalized. */
  document: string
  created_at: string
  /** Subject (`sub`) of the admin token that added it. */
  created_by: string
}

/**
 * One KBS session, from the challenge (`auth`) through attestation. Times are ISO-8601 UTC text;
 * JSON columns contain text the broker wrote.
 */
export interface KbsSessionTable {
  /** The session ID, which the client sends back as the `kbs-session-id` cookie. */
  id: string
  tee: string
  version: string
  client_address: string
  nonce: string
  nonce_expires_at: string
  /** When an attestation attempt consumed the nonce; null while unused. */
  nonce_used_at: string | null
  created_at: string
  expires_at: string
  attested_at: string | null
  /** The TEE public key JWK bound at attestation, as JSON text. */
  tee_pubkey: string | null
  /** Hex SHA-256 of the evidence bytes that were verified. */
  evidence_sha256: string | null
  /** The verification result of the evidence as JSON text, appraised again at each release. */
  verification: string | null
  /** Hex SHA-256 of the attestation token issued for the session. */
  token_sha256: string | null
  token_expires_at: string | null
}

/** One resource, sealed under the master key. The plaintext is never stored. */
export interface KbsResourceTable {
  /** `repository/type/tag`. */
  path: string
  sealed: Uint8Array
  updated_at: string
  updated_by: string
}

/** A resource policy (appraisal policy JSON) for one path, or `*` for paths without one. */
export interface KbsResourcePolicyTable {
  path: string
  policy_id: string
  policy: string
  updated_at: string
  updated_by: string
}

/** The attestation policy, under the name `default`. */
export interface KbsAttestationPolicyTable {
  name: string
  policy_id: string
  policy: string
  updated_at: string
  updated_by: string
}

/** One audit record of a KBS decision or administrative write. */
export interface KbsAuditTable {
  /** Generated, increasing. PostgreSQL returns it as text because it is a bigint. */
  id: Generated<number | string>
  at: string
  /** `attest`, `resource`, or an administrative action such as `set-resource`. */
  action: string
  /** `allow` or `deny`. */
  decision: string
  reason: string
  client_address: string | null
  session_id: string | null
  tee: string | null
  resource: string | null
  evidence_sha256: string | null
  policy_id: string | null
  actor: string | null
}

/** Every table of the store. */
export interface StoreDatabase {
  collateral: CollateralTable
  kbs_session: KbsSessionTable
  kbs_resource: KbsResourceTable
  kbs_resource_policy: KbsResourcePolicyTable
  kbs_attestation_policy: KbsAttestationPolicyTable
  kbs_audit: KbsAuditTable
  policy: PolicyTable
  reference_value: ReferenceValueTable
}
