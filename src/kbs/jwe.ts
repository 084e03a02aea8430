/**
 * Encryption of a released resource to the TEE key, as Trustee's KBS does it. The result is a
 * JWE in flattened JSON serialization with no `aad` member. Content is encrypted with A256GCM.
 * The content key is wrapped with RSA-OAEP-256 for an RSA key, or with ECDH-ES+A256KW for an EC
 * key on P-256, P-384 or P-521.
 *
 * @see Trustee `kbs/src/jwe/mod.rs`; RFC 7516 §7.2.2 (flattened JSON); RFC 7518 §4.3 and §4.6
 * @module
 */
import { FlattenedEncrypt, importJWK, type JWK } from 'jose'
import { KbsError } from './errors.js'
import type { KbsResponse, KbsTeePubkey } from './protocol.js'

/** Content encryption of every KBS response. */
export const KBS_CONTENT_ENCRYPTION = 'A256GCM'

/** Smallest RSA modulus accepted, in bits. */
const MIN_RSA_BITS = 2048

const EC_CURVES: readonly string[] = ['P-256', 'P-384', 'P-521']

function unusable(message: string, cause?: unknown): KbsError {
  return new KbsError('ERR_KBS_ATTESTATION', `the TEE public key cannot be used: ${message}`, {
    problemType: 'JweError',
    ...(cause === undefined ? {} : { cause }),
  })
}

function modulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url')
  let leading = 0
  while (leading < bytes.length && bytes[leading] === 0) leading += 1
  const first = bytes[leading] ?? 0

  return first === 0 ? 0 : (bytes.length - leading - 1) * 8 + (32 - Math.clz32(first))
}

/**
 * Returns the key management algorithm for a TEE key and the public members to import. The
 * key's own `alg` must be that algorithm or absent. RSA1_5, which Trustee still accepts, is
 * rejected because of padding-oracle attacks on PKCS #1 v1.5 encryption.
 */
function keyManagement(teePubkey: KbsTeePubkey | JWK): { alg: string; jwk: JWK } {
  const key = teePubkey as JWK
  if (key.kty === 'RSA') {
    if (key.alg !== undefined && key.alg !== 'RSA-OAEP-256')
      throw unusable(`RSA key algorithm ${key.alg} is not RSA-OAEP-256`)
    if (typeof key.n !== 'string' || typeof key.e !== 'string') throw unusable('n or e is missing')
    const bits = modulusBits(key.n)
    if (bits < MIN_RSA_BITS) throw unusable(`RSA modulus has ${bits} bits, below ${MIN_RSA_BITS}`)
    return { alg: 'RSA-OAEP-256', jwk: { kty: 'RSA', n: key.n, e: key.e } }
  }
  if (key.kty === 'EC') {
    if (key.alg !== undefined && key.alg !== 'ECDH-ES+A256KW')
      throw unusable(`EC key algorithm ${key.alg} is not ECDH-ES+A256KW`)
    if (key.crv === undefined || !EC_CURVES.includes(key.crv))
      throw unusable(`curve ${String(key.crv)} is not one of ${EC_CURVES.join(', ')}`)
    if (typeof key.x !== 'string' || typeof key.y !== 'string') throw unusable('x or y is missing')
    return { alg: 'ECDH-ES+A256KW', jwk: { kty: 'EC', crv: key.crv, x: key.x, y: key.y } }
  }

  throw unusable(`key type ${String(key.kty)} is not RSA or EC`)
}

/**
 * Checks that resources can be sealed to a TEE key, so that an unusable key is rejected when it
 * is bound at attestation rather than at the first release.
 *
 * @throws KbsError `ERR_KBS_ATTESTATION` (problem type `JweError`) as `sealToTeeKey` does.
 */
export async function checkTeeKey(teePubkey: KbsTeePubkey | JWK): Promise<void> {
  const { alg, jwk } = keyManagement(teePubkey)
  try {
    await importJWK(jwk, alg)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw unusable(reason, error)
  }
}

/**
 * Encrypts a resource to the TEE's public key. The protected header has `alg`, `enc` and, for
 * EC keys, the ephemeral key `epk`. The AEAD additional data is the ASCII of the encoded
 * protected header, as RFC 7516 requires when no `aad` member is sent.
 *
 * @throws KbsError `ERR_KBS_ATTESTATION` (problem type `JweError`) when the key is not an RSA key
 *   of at least 2048 bits or an EC key on P-256, P-384 or P-521, or does not import.
 */
export async function sealToTeeKey(
  plaintext: Uint8Array,
  teePubkey: KbsTeePubkey | JWK,
): Promise<KbsResponse> {
  const { alg, jwk } = keyManagement(teePubkey)
  let jwe: Awaited<ReturnType<FlattenedEncrypt['encrypt']>>
  try {
    const key = await importJWK(jwk, alg)
    jwe = await new FlattenedEncrypt(plaintext)
      .setProtectedHeader({ alg, enc: KBS_CONTENT_ENCRYPTION })
      .encrypt(key)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw unusable(reason, error)
  }
  if (jwe.protected === undefined || jwe.encrypted_key === undefined || jwe.tag === undefined)
    throw unusable('the JWE lacks a protected header, encrypted key or tag')

  return {
    protected: jwe.protected,
    encrypted_key: jwe.encrypted_key,
    iv: jwe.iv ?? '',
    ciphertext: jwe.ciphertext,
    tag: jwe.tag,
  }
}

/**
 * Returns what kbs-types' `generate_aad` returns for a protected header: the ASCII bytes of its
 * base64url encoding (no padding) of the compact JSON, `alg` and `enc` first.
 */
export function protectedHeaderAad(header: { alg: string; enc: string; [name: string]: unknown }) {
  const { alg, enc, ...others } = header
  const json = JSON.stringify({ alg, enc, ...others })

  return new TextEncoder().encode(Buffer.from(json, 'utf8').toString('base64url'))
}
