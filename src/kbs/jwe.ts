/**
 * Encryption of a released resource to the TEE key, as Trustee's KBS does it. The result is a
 * JWE in flattened JSON serialization with no `aad` member. Content is encrypted with A256GCM.
 * The content key is wrapped with RSA-OAEP-256 for an RSA key, or with ECDH-ES+A256KW for an EC
 * key on P-256, P-384 or P-521.
 *
 * Trustee's clients check the protected header by serializing it again (kbs-types'
 * `generate_aad`): `alg`, `enc`, then the other members with object keys sorted, as serde_json
 * writes a map. jose writes the ephemeral key's members in another order, so for EC keys the JWE
 * is assembled here from node:crypto's ECDH, SHA-256, AES key wrap and AES-GCM, with the header
 * in that order. jose still encrypts to RSA keys, whose header has `alg` and `enc` only.
 *
 * @see Trustee `kbs/src/jwe/mod.rs`; RFC 7516 §7.2.2 (flattened JSON); RFC 7518 §4.3 and §4.6
 * @module
 */
import {
  createCipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto'
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
    const exponent = BigInt(`0x${Buffer.from(key.e, 'base64url').toString('hex') || '0'}`)
    // NIST SP 800-56B §6.2 takes odd public exponents from 65537 to below 2^256. A tiny one, such
    // as e = 1, would leave the wrapped content key readable without the private key.
    if (exponent < 65537n || exponent >= 2n ** 256n || exponent % 2n === 0n)
      throw unusable(`RSA public exponent ${exponent} is not an odd number from 65537 to 2^256`)
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
  if (alg === ECDH_ES_A256KW) {
    try {
      return sealWithEcdhEs(plaintext, jwk)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw unusable(reason, error)
    }
  }
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

/** Key management algorithm for EC TEE keys. */
const ECDH_ES_A256KW = 'ECDH-ES+A256KW'

/** Initial value of AES key wrap (RFC 3394 §2.2.3.1). */
const AES_KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex')

/** Returns a 32-bit big-endian length followed by the bytes (RFC 7518 §4.6.2). */
function lengthPrefixed(bytes: Uint8Array): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)

  return Buffer.concat([length, bytes])
}

/**
 * Derives the 256-bit key-encryption key from the shared secret with the Concat KDF of RFC 7518
 * §4.6.2 (NIST SP 800-56A §5.8.1): one SHA-256 round, as 256 bits fit in one digest. PartyUInfo
 * and PartyVInfo are empty, as Trustee sends them.
 */
function concatKdf(sharedSecret: Uint8Array): Buffer {
  const keyBits = Buffer.alloc(4)
  keyBits.writeUInt32BE(256)
  const otherInfo = Buffer.concat([
    lengthPrefixed(new TextEncoder().encode(ECDH_ES_A256KW)),
    lengthPrefixed(new Uint8Array(0)),
    lengthPrefixed(new Uint8Array(0)),
    keyBits,
  ])
  const counter = Buffer.from([0, 0, 0, 1])

  return createHash('sha256').update(counter).update(sharedSecret).update(otherInfo).digest()
}

/** Encrypts to an EC key with ECDH-ES+A256KW and A256GCM, the header members in serde's order. */
function sealWithEcdhEs(plaintext: Uint8Array, jwk: JWK): KbsResponse {
  const recipient = createPublicKey({ key: jwk, format: 'jwk' })
  const curve = recipient.asymmetricKeyDetails?.namedCurve
  if (curve === undefined) throw new Error('the EC key names no curve')
  const ephemeral = generateKeyPairSync('ec', { namedCurve: curve })
  const sharedSecret = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient })
  const keyEncryptionKey = concatKdf(sharedSecret)
  const contentKey = randomBytes(32)
  const wrap = createCipheriv('id-aes256-wrap', keyEncryptionKey, AES_KW_IV)
  const encryptedKey = Buffer.concat([wrap.update(contentKey), wrap.final()])

  const epk = ephemeral.publicKey.export({ format: 'jwk' })
  const header = {
    alg: ECDH_ES_A256KW,
    enc: KBS_CONTENT_ENCRYPTION,
    epk: { crv: jwk.crv, kty: 'EC', x: epk.x, y: epk.y },
  }
  const encodedHeader = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url')
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', contentKey, iv)
  cipher.setAAD(Buffer.from(encodedHeader, 'ascii'))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  contentKey.fill(0)

  return {
    protected: encodedHeader,
    encrypted_key: encryptedKey.toString('base64url'),
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  }
}

function compareKeys(a: string, b: string): number {
  if (a === b) return 0
  return a < b ? -1 : 1
}

/** Returns a JSON value with the keys of every object sorted, as serde_json writes a map. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys)
  if (typeof value !== 'object' || value === null) return value
  // Code unit order equals serde's byte order for the ASCII member names of a JWE header.
  const entries = Object.entries(value).sort(([a], [b]) => compareKeys(a, b))

  return Object.fromEntries(entries.map(([key, inner]) => [key, sortedKeys(inner)]))
}

/**
 * Returns what kbs-types' `generate_aad` returns for a protected header: the ASCII bytes of its
 * base64url encoding (no padding) of the compact JSON: `alg` and `enc` first, then the other
 * members with the keys of every object sorted.
 */
export function protectedHeaderAad(header: { alg: string; enc: string; [name: string]: unknown }) {
  const { alg, enc, ...others } = header
  const json = JSON.stringify({ alg, enc, ...(sortedKeys(others) as object) })

  return new TextEncoder().encode(Buffer.from(json, 'utf8').toString('base64url'))
}
