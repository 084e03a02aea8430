/**
 * Publication of the verifier's EAR signing key as a JWK, so relying parties can pin it: the
 * public members, the algorithm, and the certificate chain as `x5c`, as Trustee's attestation
 * service publishes its key.
 *
 * @module
 */
import { type CryptoKey, exportJWK, type JWK, type KeyObject } from 'jose'
import { toBase64 } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'

/** JWK members that describe a public key, by key type (RFC 7518 §6, RFC 8037 §2). */
const PUBLIC_MEMBERS: { readonly [kty: string]: readonly string[] } = {
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
  RSA: ['n', 'e'],
}

/**
 * Returns the public JWK of an EAR signing key: `kty`, the public members, `alg`, and `x5c`
 * (standard base64 DER, leaf first) when certificates are given. Private members never appear,
 * even when `key` is the private key.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the key cannot be exported.
 */
export async function earSignerJwk(
  key: CryptoKey | KeyObject,
  alg: string,
  certificates: readonly Uint8Array[] = [],
): Promise<JWK> {
  let full: JWK
  try {
    full = await exportJWK(key)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError('ERR_CONFIG_INVALID', `EAR signing key cannot be exported: ${reason}`, {
      cause: error,
    })
  }
  const kty = full.kty ?? ''
  const members = PUBLIC_MEMBERS[kty]
  if (members === undefined)
    throw new ConfigError('ERR_CONFIG_INVALID', `EAR signing key type ${kty} is not supported`)
  const record = full as Record<string, unknown>
  const jwk: Record<string, unknown> = { kty }
  for (const name of members) jwk[name] = record[name]
  jwk.alg = alg
  if (certificates.length > 0) jwk.x5c = certificates.map((der) => toBase64(der))

  return jwk as JWK
}
