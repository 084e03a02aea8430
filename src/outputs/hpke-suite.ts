/**
 * The one HPKE cipher suite confide seals inputs with (RFC 9180): DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256 and AES-256-GCM, in base mode.
 *
 * @module
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'

/** Size of an X25519 public key, and of the encapsulated key `enc`. */
export const X25519_PUBLIC_KEY_SIZE = 32

let suite: CipherSuite | undefined

/** Returns the cipher suite, created on first use. */
export function hpkeSuite(): CipherSuite {
  suite ??= new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  })
  return suite
}
