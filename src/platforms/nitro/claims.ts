/**
 * Claims of a Nitro attestation document.
 *
 * Neutral names: `measurement` is PCR0, the measurement of the enclave image file, and `debug`
 * is whether the enclave runs in debug mode. `reportData` is left out because a document binds
 * three caller values (`public_key`, `user_data`, `nonce`), none of which is report data.
 *
 * @module
 */
import { isAllZero, toHex } from '../../core/bytes.js'
import type { Claims, ClaimValue } from '../../core/types.js'
import type { AttestationDocument } from './format.js'

/** PCRs that AWS zeroes for an enclave started in debug mode: image, kernel, application. */
export const DEBUG_ZERO_PCRS: readonly number[] = [0, 1, 2]

/**
 * Tells whether a document comes from a debug-mode enclave: PCR0, PCR1 and PCR2 all zero.
 * Returns undefined when one of them is missing, because debug mode can then be neither
 * confirmed nor ruled out.
 */
export function isDebugEnclave(document: AttestationDocument): boolean | undefined {
  const values = DEBUG_ZERO_PCRS.map((index) => document.pcrs.get(index))
  if (values.some((value) => value === undefined)) return undefined

  return values.every((value) => value !== undefined && isAllZero(value))
}

function optionalHex(bytes: Uint8Array | undefined): string | null {
  return bytes === undefined ? null : toHex(bytes)
}

/**
 * Maps a document to claims. `raw` contains the payload fields by their AWS names in camelCase:
 * `pcrs` by decimal index, `timestamp` as ISO-8601 and `timestampMs` as sent, and `publicKey`,
 * `userData` and `nonce` as hex, or null when the document has none.
 */
export function nitroClaims(document: AttestationDocument): Claims {
  const pcrs: Record<string, ClaimValue> = {}
  for (const [index, value] of document.pcrs) pcrs[String(index)] = toHex(value)
  const pcr0 = document.pcrs.get(0)
  const debug = isDebugEnclave(document)

  return {
    platform: 'nitro',
    ...(pcr0 === undefined ? {} : { measurement: toHex(pcr0) }),
    ...(debug === undefined ? {} : { debug }),
    raw: {
      moduleId: document.moduleId,
      digest: document.digest,
      timestamp: new Date(document.timestamp).toISOString(),
      timestampMs: document.timestamp,
      pcrs,
      publicKey: optionalHex(document.publicKey),
      userData: optionalHex(document.userData),
      nonce: optionalHex(document.nonce),
    },
  }
}
