/**
 * From a KBS attestation's `primary_evidence` (JSON) to the evidence bytes confide verifies, and
 * from Trustee's TEE names to confide's platforms.
 *
 * @module
 */
import type { VerifyOptions } from '../core/platform.js'
import type { VerificationResult } from '../core/types.js'
import { verifyEvidence } from '../verify.js'
import { KbsError } from './errors.js'

/**
 * Trustee TEE names the broker verifies, and the confide platform of each. The Azure vTPM forms,
 * `csv`, `se`, `hygondcu`, `tpm` and `sampledevice` have none yet, so their requests are rejected.
 */
export const KBS_TEE_PLATFORMS: Readonly<Record<string, string>> = {
  tdx: 'tdx',
  sgx: 'sgx',
  snp: 'snp',
  cca: 'cca',
  nvidia: 'nvidia',
  sample: 'sample',
  sim: 'sim',
}

/** Returns the confide platform that verifies a Trustee TEE's evidence, or undefined. */
export function kbsTeePlatform(tee: string): string | undefined {
  return Object.hasOwn(KBS_TEE_PLATFORMS, tee) ? KBS_TEE_PLATFORMS[tee] : undefined
}

/** Evidence that is JSON text itself: the verifier reads the object as UTF-8 JSON. */
const JSON_EVIDENCE: readonly string[] = ['sample', 'sim']

function unsupported(tee: string, problem: string): KbsError {
  return new KbsError('ERR_KBS_ATTESTATION', `${tee} evidence: ${problem}`)
}

function decodeBase64(text: string, tee: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.length === 0)
    throw unsupported(tee, 'the evidence string is not base64')

  return new Uint8Array(
    Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64'),
  )
}

function bytesOf(value: unknown, tee: string, field: string): Uint8Array {
  if (typeof value === 'string') return decodeBase64(value, tee)
  const isByteArray =
    Array.isArray(value) &&
    value.every((item) => Number.isInteger(item) && item >= 0 && item <= 255)
  if (isByteArray) return new Uint8Array(value as number[])

  throw unsupported(tee, `${field} is neither base64 text nor an array of bytes`)
}

/**
 * Returns the evidence bytes of a `primary_evidence` value:
 * - `sample` and `sim`: the object as UTF-8 JSON;
 * - a string: its base64 (standard or URL-safe) decoding, the raw evidence;
 * - an object with `quote` (Trustee's TDX and SGX form) or `token` (Trustee's CCA form): that
 *   member, as base64 text or an array of bytes.
 *
 * @throws KbsError `ERR_KBS_ATTESTATION` for any other form, such as Trustee's SNP evidence
 *   object, whose report is a JSON structure rather than bytes.
 */
export function kbsEvidenceBytes(tee: string, primaryEvidence: unknown): Uint8Array {
  const isObject =
    typeof primaryEvidence === 'object' &&
    primaryEvidence !== null &&
    !Array.isArray(primaryEvidence)
  if (JSON_EVIDENCE.includes(tee)) {
    if (!isObject) throw unsupported(tee, 'the evidence must be a JSON object')
    return new TextEncoder().encode(JSON.stringify(primaryEvidence))
  }
  if (typeof primaryEvidence === 'string') return decodeBase64(primaryEvidence, tee)
  if (isObject) {
    const object = primaryEvidence as Record<string, unknown>
    if ('quote' in object) return bytesOf(object.quote, tee, 'quote')
    if ('token' in object) return bytesOf(object.token, tee, 'token')
  }

  throw unsupported(tee, 'the evidence form is not supported: send the raw evidence as base64')
}

/**
 * Verifies evidence of a Trustee TEE with `verifyEvidence` and the matching confide platform:
 * the `verify` function `KbsBroker` takes in production. Callers wrap it to add trusted keys
 * or collateral.
 *
 * @throws KbsError `ERR_KBS_ATTESTATION` for a TEE without a confide platform; whatever
 *   `verifyEvidence` throws.
 */
export async function verifyKbsEvidence(
  evidence: Uint8Array,
  tee: string,
  options: VerifyOptions,
): Promise<VerificationResult> {
  const platform = kbsTeePlatform(tee)
  if (platform === undefined) throw unsupported(tee, 'no confide platform verifies this TEE')

  return verifyEvidence(evidence, { ...options, platform })
}
