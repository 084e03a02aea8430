/**
 * Trustee's binding of runtime data into evidence: the evidence's report data starts with a
 * digest of the RFC 8785 (JCS) canonical JSON of the challenge nonce and the TEE key.
 *
 * @see Trustee `kbs/src/attestation/backend.rs` (which members the runtime data has) and
 *   `attestation-service/src/lib.rs` (JCS, then the hash)
 * @module
 */
import { createHash } from 'node:crypto'
import canonicalizeModule from 'canonicalize'
import type { JWK } from 'jose'
import { ConfigError } from '../core/errors.js'
import type { KbsTeePubkey } from './protocol.js'

// The package is CommonJS whose module.exports is the function, while its types declare a
// default export; under NodeNext the default import is that function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined

/** Hash algorithms Trustee binds runtime data with. */
export type RuntimeDataHash = 'sha384' | 'sha512'

/** The runtime data of one attestation. */
export interface RuntimeDataInput {
  /** The challenge nonce, verbatim. */
  readonly nonce: string
  /** The TEE public key JWK, exactly as the client sent it. */
  readonly teePubkey: KbsTeePubkey | JWK
  /**
   * The `additional_evidence` text of the attestation, the empty string when there is none.
   * Absent: the member is left out, which is how Trustee binds the evidence of additional
   * devices. The primary evidence always binds it, so pass `''` rather than nothing for it.
   */
  readonly additionalEvidence?: string
}

/** Returns the hash Trustee binds runtime data with: SHA-512 for IBM SE, SHA-384 for others. */
export function runtimeDataHash(tee: string): RuntimeDataHash {
  return tee === 'se' ? 'sha512' : 'sha384'
}

/**
 * Returns the digest of the JCS canonical JSON of a value.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a value JSON cannot represent.
 */
export function canonicalJsonDigest(value: unknown, hash: RuntimeDataHash): Uint8Array {
  const text = canonicalize(value)
  if (text === undefined)
    throw new ConfigError('ERR_CONFIG_INVALID', 'runtime data cannot be written as JSON')

  return new Uint8Array(createHash(hash).update(text, 'utf8').digest())
}

/**
 * Returns the digest a TEE's report data must start with for this runtime data: the hash of the
 * JCS form of `{"additional-evidence", "nonce", "tee-pubkey"}`, 48 bytes for SHA-384 and 64 for
 * SHA-512. Evidence whose report data field is longer carries zeros after it.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a key JSON cannot represent.
 */
export function runtimeDataDigest(input: RuntimeDataInput, tee: string): Uint8Array {
  const runtimeData = {
    'tee-pubkey': input.teePubkey,
    nonce: input.nonce,
    ...(input.additionalEvidence === undefined
      ? {}
      : { 'additional-evidence': input.additionalEvidence }),
  }

  return canonicalJsonDigest(runtimeData, runtimeDataHash(tee))
}
