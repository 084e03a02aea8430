/**
 * The binding of a workload's keys into its evidence's report data.
 *
 * A workload identity is two public keys: a signing key for its outputs and an HPKE key that
 * parties seal their inputs to. Both are bound into the 64 bytes of report data as:
 *
 * ```
 * reportData = SHA-256(preimage) || 32 zero bytes
 * preimage   = "confide-workload-identity/v1" || 0x00
 *              || u16be(len(signingKey)) || signingKey       (DER SubjectPublicKeyInfo)
 *              || u16be(len(hpkePublicKey)) || hpkePublicKey (X25519, 32 bytes, RFC 9180 SerializePublicKey)
 * ```
 *
 * The label at the start of the preimage keeps this digest apart from other uses of report data:
 * the KBS runtime-data digest hashes JSON text, which starts with `{`, and RA-TLS hashes a bare
 * public key. The length prefixes make the split between the two keys unambiguous. A new binding
 * gets a new label (`/v2`), never a change to this one.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { concatBytes } from '../core/bytes.js'

/** The label that starts the preimage of the report data. */
export const WORKLOAD_BINDING_LABEL = 'confide-workload-identity/v1'
/** Size of the report data the binding fills: the SHA-256 digest, then zeros. */
export const WORKLOAD_REPORT_DATA_SIZE = 64

/** Signature algorithm of outputs. `ES256` is ECDSA P-256 with SHA-256, signature raw r‖s. */
export type OutputSignatureAlgorithm = 'Ed25519' | 'ES256'

/** The public half of a workload identity: what its evidence binds and what others use. */
export interface WorkloadPublicKeys {
  readonly signatureAlgorithm: OutputSignatureAlgorithm
  /** The key that verifies output signatures, as DER SubjectPublicKeyInfo. */
  readonly signingKey: Uint8Array
  /** The X25519 key that inputs are sealed to, as its 32 raw bytes. */
  readonly hpkePublicKey: Uint8Array
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const prefix = new Uint8Array([bytes.length >> 8, bytes.length & 0xff])

  return concatBytes(prefix, bytes)
}

/**
 * Computes the 64 bytes of report data that bind a workload's signing key and HPKE public key,
 * as the module comment describes.
 *
 * @throws RangeError when a key is 64 KiB or longer, which no SPKI or X25519 key is.
 */
export function workloadReportData(keys: WorkloadPublicKeys): Uint8Array {
  if (keys.signingKey.length > 0xffff || keys.hpkePublicKey.length > 0xffff)
    throw new RangeError('a workload key is too long to bind into report data')
  const preimage = concatBytes(
    new TextEncoder().encode(WORKLOAD_BINDING_LABEL),
    new Uint8Array([0]),
    lengthPrefixed(keys.signingKey),
    lengthPrefixed(keys.hpkePublicKey),
  )
  const reportData = new Uint8Array(WORKLOAD_REPORT_DATA_SIZE)
  reportData.set(createHash('sha256').update(preimage).digest())

  return reportData
}
