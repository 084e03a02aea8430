/**
 * The node:crypto adapter of the crypto port: OpenSSL speed, synchronous work behind the async
 * interface.
 *
 * @module
 */
import {
  createHash,
  createPublicKey,
  KeyObject,
  randomBytes as nodeRandomBytes,
  verify as nodeVerify,
  webcrypto,
} from 'node:crypto'
import type {
  CryptoPort,
  DigestAlgorithm,
  NamedCurve,
  PublicKey,
  SignatureAlgorithm,
} from './port.js'

interface NodePublicKey extends PublicKey {
  readonly port: 'node'
  readonly key: KeyObject
}

const NODE_HASH: Record<DigestAlgorithm, string> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
}

const CURVE_BY_NODE_NAME: Record<string, NamedCurve> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
}

const CURVE_SIZE: Record<NamedCurve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }

function wrap(key: KeyObject): NodePublicKey {
  const type = key.asymmetricKeyType
  if (type === 'ec') {
    const nodeCurve = key.asymmetricKeyDetails?.namedCurve ?? ''
    const curve = CURVE_BY_NODE_NAME[nodeCurve]
    if (curve === undefined) throw new Error(`unsupported EC curve ${nodeCurve}`)
    return { port: 'node', algorithm: 'EC', curve, key }
  }
  if (type === 'rsa' || type === 'rsa-pss') return { port: 'node', algorithm: 'RSA', key }
  if (type === 'ed25519') return { port: 'node', algorithm: 'Ed25519', key }
  throw new Error(`unsupported public key type ${type ?? 'unknown'}`)
}

function unwrap(key: PublicKey): KeyObject {
  if (key.port !== 'node') throw new Error(`key was imported by the ${key.port} port`)
  return (key as NodePublicKey).key
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Verifies synchronously; the async port methods wrap this. */
export function verifySync(
  algorithm: SignatureAlgorithm,
  key: PublicKey,
  signature: Uint8Array,
  data: Uint8Array,
): boolean {
  const keyObject = unwrap(key)
  switch (algorithm.name) {
    case 'ECDSA':
      return nodeVerify(
        NODE_HASH[algorithm.hash],
        data,
        { key: keyObject, dsaEncoding: algorithm.der === true ? 'der' : 'ieee-p1363' },
        signature,
      )
    case 'RSASSA-PKCS1-v1_5':
      return nodeVerify(NODE_HASH[algorithm.hash], data, keyObject, signature)
    case 'RSA-PSS':
      return nodeVerify(
        NODE_HASH[algorithm.hash],
        data,
        { key: keyObject, padding: 6, saltLength: algorithm.saltLength },
        signature,
      )
    case 'Ed25519':
      return nodeVerify(null, data, keyObject, signature)
  }
}

/** Imports a raw x‖y EC point synchronously. */
export function importRawEcPointSync(point: Uint8Array, curve: NamedCurve): PublicKey {
  const size = CURVE_SIZE[curve]
  if (point.length !== size * 2) {
    throw new Error(`a ${curve} point is ${size * 2} bytes, not ${point.length}`)
  }
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: curve,
      x: toBase64Url(point.subarray(0, size)),
      y: toBase64Url(point.subarray(size)),
    },
    format: 'jwk',
  })
  return wrap(key)
}

const UNCOMPRESSED_POINT = new Uint8Array([0x04])

/**
 * Imports a raw x‖y EC point through WebCrypto's `raw` format, then takes its KeyObject. For a
 * P-256 point on Node 20.20 this is 1.3 to 1.4 times as fast as the JWK import of
 * `importRawEcPointSync`, and about twice as fast as a DER SubjectPublicKeyInfo
 * (`bench/dcap.bench.ts` on a 2-CPU Xeon virtual machine). Like the JWK import, it rejects a
 * point that is not on the curve.
 */
async function importRawEcPoint(point: Uint8Array, curve: NamedCurve): Promise<PublicKey> {
  const size = CURVE_SIZE[curve]
  if (point.length !== size * 2) {
    throw new Error(`a ${curve} point is ${size * 2} bytes, not ${point.length}`)
  }
  const raw = Buffer.concat([UNCOMPRESSED_POINT, point])
  const algorithm = { name: 'ECDSA', namedCurve: curve }
  const key = await webcrypto.subtle.importKey('raw', raw, algorithm, true, ['verify'])
  const nodeKey: NodePublicKey = { port: 'node', algorithm: 'EC', curve, key: KeyObject.from(key) }
  return nodeKey
}

/** Imports a DER SubjectPublicKeyInfo synchronously. */
export function importSpkiSync(spki: Uint8Array): PublicKey {
  return wrap(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }))
}

/** Computes a digest synchronously. */
export function digestSync(algorithm: DigestAlgorithm, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(NODE_HASH[algorithm]).update(data).digest())
}

/**
 * Most public keys one adapter keeps imported, by their SPKI bytes. Decoding an SPKI costs about
 * as much as verifying an ECDSA signature on Node 20, and the same keys (a platform's signing key,
 * a peer's certificate key) come back again and again.
 */
const IMPORTED_KEYS_KEPT = 256

/**
 * Maximum size of an SPKI the adapter keeps, in bytes. An RSA-8192 key's is about 1,100. A larger
 * one (a huge RSA modulus from untrusted evidence) is imported for its call only, so the cache
 * stays within a few hundred KiB.
 */
const MAX_CACHED_SPKI_SIZE = 2048

/** Returns a function that imports SPKIs and keeps the latest ones, oldest dropped first. */
function cachedSpkiImport(): (spki: Uint8Array) => PublicKey {
  const imported = new Map<string, PublicKey>()

  return (spki) => {
    if (spki.length > MAX_CACHED_SPKI_SIZE) return importSpkiSync(spki)
    const id = Buffer.from(spki).toString('base64')
    const kept = imported.get(id)
    if (kept !== undefined) return kept
    const key = importSpkiSync(spki)
    if (imported.size >= IMPORTED_KEYS_KEPT) imported.delete(imported.keys().next().value as string)
    imported.set(id, key)
    return key
  }
}

/** Creates the node:crypto adapter. It keeps up to `IMPORTED_KEYS_KEPT` imported public keys. */
export function createNodeCrypto(): CryptoPort {
  const importSpki = cachedSpkiImport()
  return {
    name: 'node',
    digest: async (algorithm, data) => digestSync(algorithm, data),
    randomBytes: (length) => new Uint8Array(nodeRandomBytes(length)),
    importSpki: async (spki) => importSpki(spki),
    importRawEcPoint,
    verify: async (algorithm, key, signature, data) => verifySync(algorithm, key, signature, data),
  }
}
