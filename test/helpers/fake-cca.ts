/**
 * Generated Arm CCA attestation tokens: a CPAK-signed platform token and a RAK-signed realm
 * token, bound by the RAK's hash, in either collection form, with every claim open to override
 * for negative cases. Test-only: the private keys protect nothing.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { Encoder, Tag } from 'cbor-x'
import { concatBytes } from '../../src/core/bytes.js'

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false })

/** Encodes a value as CBOR. */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value))
}

/** An EC key pair with its SubjectPublicKeyInfo and raw point. */
export interface FakeEcKey {
  readonly curve: 'P-256' | 'P-384'
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly spki: Uint8Array
  /** 0x04‖x‖y. */
  readonly uncompressed: Uint8Array
}

export function createEcKey(curve: 'P-256' | 'P-384' = 'P-384'): FakeEcKey {
  const pair = generateKeyPairSync('ec', {
    namedCurve: curve === 'P-256' ? 'prime256v1' : 'secp384r1',
  })
  const jwk = pair.publicKey.export({ format: 'jwk' })
  const coordinate = (text: string | undefined) =>
    new Uint8Array(Buffer.from(text ?? '', 'base64url'))
  return {
    curve,
    ...pair,
    spki: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
    uncompressed: concatBytes(Uint8Array.of(4), coordinate(jwk.x), coordinate(jwk.y)),
  }
}

/** Encodes a key as a COSE_Key (EC2) in CBOR, as the realm token carries the RAK. */
export function coseKeyOf(key: FakeEcKey): Uint8Array {
  const size = key.curve === 'P-256' ? 32 : 48
  const point = key.uncompressed.subarray(1)
  return encodeCbor(
    new Map<number, unknown>([
      [1, 2],
      [-1, key.curve === 'P-256' ? 1 : 2],
      [-2, point.slice(0, size)],
      [-3, point.slice(size)],
    ]),
  )
}

const ALGORITHMS = {
  'P-256': { alg: -7, hash: 'sha256' },
  'P-384': { alg: -35, hash: 'sha384' },
} as const

/** Signs a payload as a tagged COSE_Sign1 with the key's ECDSA algorithm (or `alg`). */
export function coseSign1(payload: Uint8Array, key: FakeEcKey, alg?: number): Uint8Array {
  const algorithm = ALGORITHMS[key.curve]
  const protectedHeader = encodeCbor(new Map([[1, alg ?? algorithm.alg]]))
  const toBeSigned = encodeCbor(['Signature1', protectedHeader, new Uint8Array(0), payload])
  const signature = new Uint8Array(
    sign(algorithm.hash, toBeSigned, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }),
  )
  return encodeCbor(new Tag([protectedHeader, new Map(), payload, signature], 18))
}

export const REALM_PROFILE = 'tag:arm.com,2023:realm#1.0.0'
export const PLATFORM_PROFILE = 'tag:arm.com,2023:cca_platform#1.0.0'
export const SECURED_LIFECYCLE = 0x3003
export const REALM_CHALLENGE = new Uint8Array(64).fill(0xab)

/** Options of a generated token. */
export interface CcaTokenSpec {
  readonly cpak?: FakeEcKey
  readonly rak?: FakeEcKey
  /** Signs the realm token in place of the RAK. */
  readonly realmSigner?: FakeEcKey
  /** Signs the platform token in place of the CPAK. */
  readonly platformSigner?: FakeEcKey
  /** Carry the RAK as a COSE_Key with a realm profile (default) or as a raw point without one. */
  readonly rakForm?: 'cose-key' | 'raw-point'
  readonly challenge?: Uint8Array
  readonly lifecycle?: number
  readonly rakHashAlgorithm?: string
  /** Replaces the platform challenge computed from the RAK. */
  readonly platformChallenge?: Uint8Array
  readonly form?: 'eat-collection' | 'cmw-collection'
  /** Changes the claim maps before they are signed. */
  readonly editRealm?: (claims: Map<number, unknown>) => void
  readonly editPlatform?: (claims: Map<number, unknown>) => void
}

/** A generated token with its keys. */
export interface FakeCcaToken {
  readonly bytes: Uint8Array
  readonly cpak: FakeEcKey
  readonly rak: FakeEcKey
}

const HASHES: Readonly<Record<string, string>> = {
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
}

function realmClaims(spec: CcaTokenSpec, rakClaim: Uint8Array): Map<number, unknown> {
  const claims = new Map<number, unknown>([
    [10, spec.challenge ?? REALM_CHALLENGE],
    [44235, new Uint8Array(64).fill(0x50)],
    [44238, new Uint8Array(32).fill(0x11)],
    [44239, [0x21, 0x22, 0x23, 0x24].map((byte) => new Uint8Array(32).fill(byte))],
    [44236, 'sha-256'],
    [44237, rakClaim],
    [44240, spec.rakHashAlgorithm ?? 'sha-256'],
  ])
  if ((spec.rakForm ?? 'cose-key') === 'cose-key') claims.set(265, REALM_PROFILE)
  spec.editRealm?.(claims)
  return claims
}

function platformClaims(spec: CcaTokenSpec, challenge: Uint8Array): Map<number, unknown> {
  const component = (type: string, byte: number) =>
    new Map<number, unknown>([
      [1, type],
      [2, new Uint8Array(32).fill(byte)],
      [4, '1.0.0'],
      [5, new Uint8Array(32).fill(0x5e)],
      [6, 'sha-256'],
    ])
  const claims = new Map<number, unknown>([
    [265, PLATFORM_PROFILE],
    [10, challenge],
    [2396, new Uint8Array(32).fill(0x1d)],
    [256, Uint8Array.of(0x01, ...new Uint8Array(32).fill(0x1e))],
    [2401, Uint8Array.of(0xcf, 0xcf, 0xcf, 0xcf)],
    [2395, spec.lifecycle ?? SECURED_LIFECYCLE],
    [2402, 'sha-256'],
    [2400, 'https://veraison.example/.well-known/veraison/verification'],
    [2399, [component('BL', 0x31), component('RMM', 0x32)]],
  ])
  spec.editPlatform?.(claims)
  return claims
}

/** Creates a signed CCA token. */
export function createCcaToken(spec: CcaTokenSpec = {}): FakeCcaToken {
  const cpak = spec.cpak ?? createEcKey('P-384')
  const rak = spec.rak ?? createEcKey('P-384')
  const rakClaim = (spec.rakForm ?? 'cose-key') === 'cose-key' ? coseKeyOf(rak) : rak.uncompressed
  const hash = HASHES[spec.rakHashAlgorithm ?? 'sha-256'] ?? 'sha256'
  const challenge =
    spec.platformChallenge ?? new Uint8Array(createHash(hash).update(rakClaim).digest())
  const realm = coseSign1(encodeCbor(realmClaims(spec, rakClaim)), spec.realmSigner ?? rak)
  const platform = coseSign1(
    encodeCbor(platformClaims(spec, challenge)),
    spec.platformSigner ?? cpak,
  )
  const collection =
    spec.form === 'cmw-collection'
      ? new Tag(
          new Map<number, unknown>([
            [44234, [263, platform]],
            [44241, [263, realm]],
          ]),
          907,
        )
      : new Tag(
          new Map<number, unknown>([
            [44234, platform],
            [44241, realm],
          ]),
          399,
        )

  return { bytes: encodeCbor(collection), cpak, rak }
}
