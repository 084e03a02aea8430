/**
 * A workload identity: the signing key for outputs and the HPKE key pair for sealed inputs, both
 * made inside the workload and bound into its evidence. Node only.
 *
 * @module
 */
import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  type webcrypto,
} from 'node:crypto'
import {
  type OutputSignatureAlgorithm,
  type WorkloadPublicKeys,
  workloadReportData,
} from './binding.js'
import { hpkeSuite } from './hpke-suite.js'

/** A workload's private keys and the public keys its evidence binds. */
export interface WorkloadIdentity {
  readonly publicKeys: WorkloadPublicKeys
  /** Signs output documents. Never leaves the workload. */
  readonly signingKey: KeyObject
  /** Opens sealed inputs. Never leaves the workload. */
  readonly hpkeKeyPair: webcrypto.CryptoKeyPair
}

/** Options of `createWorkloadIdentity`. */
export interface WorkloadIdentityOptions {
  /** Algorithm of the signing key. Default: `Ed25519`. */
  readonly signatureAlgorithm?: OutputSignatureAlgorithm
}

function generateSigningKey(algorithm: OutputSignatureAlgorithm): KeyObject {
  if (algorithm === 'Ed25519') return generateKeyPairSync('ed25519').privateKey

  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
}

/** Creates a fresh workload identity: a signing key and an X25519 HPKE key pair. */
export async function createWorkloadIdentity(
  options: WorkloadIdentityOptions = {},
): Promise<WorkloadIdentity> {
  const signatureAlgorithm = options.signatureAlgorithm ?? 'Ed25519'
  const signingKey = generateSigningKey(signatureAlgorithm)
  const spki = createPublicKey(signingKey).export({ type: 'spki', format: 'der' })
  const kem = hpkeSuite().kem
  const hpkeKeyPair = (await kem.generateKeyPair()) as webcrypto.CryptoKeyPair
  const hpkePublicKey = new Uint8Array(await kem.serializePublicKey(hpkeKeyPair.publicKey))
  const publicKeys = { signatureAlgorithm, signingKey: new Uint8Array(spki), hpkePublicKey }

  return { publicKeys, signingKey, hpkeKeyPair }
}

/** Returns the 64 bytes of report data the workload's evidence must carry. */
export function identityReportData(identity: WorkloadIdentity): Uint8Array {
  return workloadReportData(identity.publicKeys)
}

/** Signs bytes with the workload's signing key: Ed25519, or ECDSA P-256 SHA-256 as raw r‖s. */
export function signWithIdentity(identity: WorkloadIdentity, data: Uint8Array): Uint8Array {
  if (identity.publicKeys.signatureAlgorithm === 'Ed25519')
    return new Uint8Array(sign(null, data, identity.signingKey))

  return new Uint8Array(
    sign('sha256', data, { key: identity.signingKey, dsaEncoding: 'ieee-p1363' }),
  )
}
