/**
 * The one interface through which confide computes digests and verifies signatures. Platform code
 * depends on this port, never on node:crypto, so the verifier can run where WebCrypto is all there
 * is.
 *
 * @module
 */

export type DigestAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512'

export type NamedCurve = 'P-256' | 'P-384' | 'P-521'

/** A signature scheme and its parameters. ECDSA signatures are raw r‖s (IEEE P1363) unless `der` is set. */
export type SignatureAlgorithm =
  | { readonly name: 'ECDSA'; readonly hash: DigestAlgorithm; readonly der?: boolean }
  | { readonly name: 'RSASSA-PKCS1-v1_5'; readonly hash: DigestAlgorithm }
  | { readonly name: 'RSA-PSS'; readonly hash: DigestAlgorithm; readonly saltLength: number }
  | { readonly name: 'Ed25519' }

/** A public key imported by a port. Its contents belong to the port that made it. */
export interface PublicKey {
  readonly port: string
  readonly algorithm: 'EC' | 'RSA' | 'Ed25519'
  readonly curve?: NamedCurve
}

/** Digests, randomness and signature checks. */
export interface CryptoPort {
  readonly name: string
  digest(algorithm: DigestAlgorithm, data: Uint8Array): Promise<Uint8Array>
  randomBytes(length: number): Uint8Array
  /** Imports a SubjectPublicKeyInfo in DER. Throws on a malformed or unsupported key. */
  importSpki(spki: Uint8Array): Promise<PublicKey>
  /** Imports an uncompressed EC point given as x‖y (no 0x04 prefix). */
  importRawEcPoint(point: Uint8Array, curve: NamedCurve): Promise<PublicKey>
  /** Returns false for a signature that does not verify; throws only on an unusable key. */
  verify(
    algorithm: SignatureAlgorithm,
    key: PublicKey,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>
}
