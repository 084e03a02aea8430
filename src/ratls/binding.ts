/**
 * Binding of an RA-TLS certificate's public key into the evidence's report data.
 *
 * - TCG DICE: the claims carry `pubkey-hash` = hash of the DER SubjectPublicKeyInfo, and the
 *   report data is SHA-256 of the exact claims bytes, zero-padded. The interoperable-ra-tls
 *   documents define this for SGX and TDX quotes (SHA-256 followed by 32 zero bytes). confide
 *   applies the same rule to every TEE it attests with, because each of them (SGX, TDX, SEV-SNP,
 *   the simulated TEE) has 64 bytes of report data.
 * - Gramine's raw quote: the report data is SHA-256 of the DER SubjectPublicKeyInfo, zero-padded.
 *
 * @module
 */
import type { CryptoPort } from '../crypto/port.js'

/** Report data size of every TEE confide attests with (SGX, TDX, SEV-SNP, simulated). */
export const RATLS_REPORT_DATA_SIZE = 64

/** IANA Named Information ID of SHA-256, the hash confide writes into `pubkey-hash`. */
export const SHA256_ALGORITHM_ID = 1

function zeroPadded(digest: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size)
  out.set(digest.subarray(0, size))

  return out
}

/** Report data of TCG DICE evidence: SHA-256 of the claims bytes, zero-padded to `size`. */
export async function tcgReportData(
  crypto: CryptoPort,
  claims: Uint8Array,
  size = RATLS_REPORT_DATA_SIZE,
): Promise<Uint8Array> {
  return zeroPadded(await crypto.digest('SHA-256', claims), size)
}

/** Report data of Gramine's encoding: SHA-256 of the DER SubjectPublicKeyInfo, zero-padded. */
export async function gramineReportData(
  crypto: CryptoPort,
  spki: Uint8Array,
  size = RATLS_REPORT_DATA_SIZE,
): Promise<Uint8Array> {
  return zeroPadded(await crypto.digest('SHA-256', spki), size)
}
