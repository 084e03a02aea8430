/**
 * Verification of simulated evidence, step by step. Each step is a named check in the result:
 *
 * 1. `simulated`: always passes, and states that the evidence proves nothing about hardware.
 * 2. `signing-key`: `keyId` is the SHA-256 of an Ed25519 key in `trustedKeys`.
 * 3. `signature`: that key signed the body. Skipped when no key is trusted.
 * 4. `debug`, and `report-data` when the caller expects report data.
 *
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import { ConfigError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { VerificationResult } from '../../core/types.js'
import type { PublicKey } from '../../crypto/port.js'
import { simClaims } from './claims.js'
import { SIM_REPORT_DATA_SIZE, type SimEvidence } from './format.js'

/** Detail of the `simulated` check every result of a simulated TEE carries. */
export const SIMULATED_DETAIL = 'simulated TEE: proves nothing about hardware'

/** Pads expected report data to `size` bytes. A longer value is a caller error. */
export function paddedReportData(value: Uint8Array, size: number): Uint8Array {
  if (value.length > size) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `expected report data is ${value.length} bytes; at most ${size} are allowed`,
    )
  }
  const padded = new Uint8Array(size)
  padded.set(value)

  return padded
}

/** Imports the trusted key whose SHA-256 is `keyId`, recording step 2. */
async function trustedSigner(
  keyId: string,
  context: VerifyContext,
  checks: CheckList,
): Promise<PublicKey | undefined> {
  const name = 'signing-key'
  const trusted = context.trustedKeys ?? []
  if (trusted.length === 0) {
    checks.skip(
      name,
      'no trusted key was given; trust the sim public key (--trust FILE) to check the signer',
    )
    return undefined
  }
  let match: Uint8Array | undefined
  for (const spki of trusted) {
    if (toHex(await context.crypto.digest('SHA-256', spki)) === keyId) match = spki
  }
  if (match === undefined) {
    checks.fail(
      name,
      'ERR_VERIFY_UNTRUSTED_KEY',
      `key ${keyId} is not among the trusted keys; trust its public key (--trust FILE) to accept it`,
    )
    return undefined
  }
  let key: PublicKey | undefined
  try {
    key = await context.crypto.importSpki(match)
  } catch {
    // A trusted key the port cannot import is a key the evidence cannot be checked against.
    key = undefined
  }
  if (key?.algorithm !== 'Ed25519') {
    checks.fail(name, 'ERR_VERIFY_UNTRUSTED_KEY', `trusted key ${keyId} is not an Ed25519 key`)
    return undefined
  }
  checks.pass(name, `key ${keyId} is trusted`)

  return key
}

/** Checks step 4: debug mode and the expected report data. */
function checkDebugAndReportData(
  evidence: SimEvidence,
  context: VerifyContext,
  checks: CheckList,
): void {
  if (!evidence.body.debug) checks.pass('debug', 'the simulated TD is not in debug mode')
  else if (context.allowDebug === true)
    checks.pass('debug', 'the simulated TD is in debug mode, accepted because debug was allowed')
  else
    checks.fail(
      'debug',
      'ERR_VERIFY_DEBUG',
      'the simulated TD is in debug mode; allow debug (--allow-debug) to accept it',
    )

  if (context.expectedReportData === undefined) return
  const expected = paddedReportData(context.expectedReportData, SIM_REPORT_DATA_SIZE)
  const actual = evidence.body.reportData
  if (bytesEqual(actual, expected))
    checks.pass('report-data', 'report data equals the expected value')
  else
    checks.fail(
      'report-data',
      'ERR_VERIFY_REPORT_DATA',
      `report data ${toHex(actual)} is not the expected ${toHex(expected)}`,
    )
}

/**
 * Verifies decoded simulated evidence. With no trusted key the signature is not checked and the
 * verdict is at best `indeterminate`. A `valid` verdict means only that a trusted key signed the
 * body: the simulated TEE isolates nothing.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for expected report data over 64 bytes.
 */
export async function verifySimEvidence(
  evidence: SimEvidence,
  context: VerifyContext,
): Promise<VerificationResult> {
  if (context.expectedReportData !== undefined) {
    paddedReportData(context.expectedReportData, SIM_REPORT_DATA_SIZE)
  }
  const checks = new CheckList()
  checks.pass('simulated', SIMULATED_DETAIL)

  const key = await trustedSigner(evidence.body.keyId, context, checks)
  if (key === undefined) {
    checks.skip('signature', 'the signature was not checked because the signing key is not trusted')
  } else if (
    await context.crypto.verify({ name: 'Ed25519' }, key, evidence.signature, evidence.bodyBytes)
  ) {
    checks.pass('signature', 'the body is signed by the trusted key')
  } else {
    checks.fail('signature', 'ERR_VERIFY_SIGNATURE', 'the body signature does not verify')
  }
  checkDebugAndReportData(evidence, context, checks)

  return {
    platform: 'sim',
    verdict: checks.verdict(),
    advisories: [],
    claims: simClaims(evidence.body),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
  }
}
