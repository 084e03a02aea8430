/**
 * The attestation token the broker issues: an EAR in Trustee's profile whose annotated evidence
 * carries the runtime data (nonce and TEE key) where Trustee's KBS looks for the TEE key.
 *
 * @module
 */
import { createHash, createPublicKey, KeyObject, type webcrypto } from 'node:crypto'
import type { JWK } from 'jose'
import {
  type AppraisalResult,
  type EarSigningKey,
  signEar,
  TRUSTEE_EAR_PROFILE,
  type VerifierIdentity,
  verifyEar,
} from '../appraisal/index.js'
import type { Claims } from '../core/types.js'
import type { KbsTeePubkey } from './protocol.js'

/** Submodule name of the primary TEE, as in Trustee's tokens. */
export const KBS_TOKEN_SUBMODULE = 'cpu0'

/** Inputs of a token: the appraisal and what the token binds with it. */
export interface KbsTokenInput {
  readonly appraisal: AppraisalResult
  readonly nonce: string
  readonly teePubkey: KbsTeePubkey
  readonly issuedAt: Date
  readonly expiresAt: Date
  readonly verifier: VerifierIdentity
}

/**
 * Signs the token. The TEE key is at
 * `submods.cpu0["ear.veraison.annotated-evidence"].runtime_data_claims["tee-pubkey"]`, the path
 * Trustee's KBS reads. `eat_nonce` is set to the challenge nonce only when it has 10 to 74
 * characters, the length `verifyEar` accepts.
 */
export async function signKbsToken(input: KbsTokenInput, signer: EarSigningKey): Promise<string> {
  const runtimeData = { nonce: input.nonce, 'tee-pubkey': input.teePubkey }
  const claims = { ...input.appraisal.claims, runtime_data_claims: runtimeData }
  const appraisal = { ...input.appraisal, claims: claims as unknown as Claims }
  const withNonce = input.nonce.length >= 10 && input.nonce.length <= 74

  return signEar({ [KBS_TOKEN_SUBMODULE]: appraisal }, signer, {
    verifier: input.verifier,
    issuedAt: input.issuedAt,
    expiresAt: input.expiresAt,
    profile: TRUSTEE_EAR_PROFILE,
    ...(withNonce ? { nonce: input.nonce } : {}),
  })
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** Returns the public key that verifies tokens signed with `signer`. */
export function tokenVerificationKey(signer: EarSigningKey): KeyObject | JWK {
  if (signer.key instanceof KeyObject)
    return signer.key.type === 'private' ? createPublicKey(signer.key) : signer.key
  if (signer.jwk !== undefined) return signer.jwk
  if ('kty' in signer.key) {
    const entries = Object.entries(signer.key).filter(
      ([name]) => !PRIVATE_JWK_MEMBERS.includes(name),
    )
    return Object.fromEntries(entries) as JWK
  }

  return createPublicKey(KeyObject.from(signer.key as webcrypto.CryptoKey))
}

/** Returns the TEE key a token carries, after checking its signature, time and profile. */
export async function verifyKbsToken(
  token: string,
  key: KeyObject | JWK,
  at: Date,
): Promise<unknown> {
  const ear = await verifyEar(token, { key, at, profiles: [TRUSTEE_EAR_PROFILE] })
  const submods = ear.claims.submods as Record<string, Record<string, unknown>> | undefined
  const evidence = submods?.[KBS_TOKEN_SUBMODULE]?.['ear.veraison.annotated-evidence']
  const runtime = (evidence as Record<string, unknown> | undefined)?.runtime_data_claims

  return (runtime as Record<string, unknown> | undefined)?.['tee-pubkey']
}

/** Returns the hex SHA-256 of a token, the key the store finds its session by. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}
