/**
 * Verification of an Arm CCA attestation token, each step a named check:
 *
 * 1. `realm-signature`: the realm token verifies with the RAK it carries.
 * 2. `rak-binding`: the platform token's challenge is the hash of the RAK claim, with the
 *    realm's public-key hash algorithm, so the platform vouches for that RAK.
 * 3. `platform-signature`: the platform token verifies with a CPAK the caller trusts (a
 *    `trustedKeys` entry, or the key of a `trustAnchors` certificate). Skipped when none is given,
 *    because Arm publishes no root for CPAKs: each platform's key is endorsed on its own.
 * 4. `lifecycle`: the platform is in the secured state, or in a debug state with debug allowed.
 * 5. `nonce`, `report-data`: the realm challenge equals the caller's expected value, when given.
 *
 * Not checked: the software components against reference values, and the platform's
 * verification service claim; both belong to appraisal.
 *
 * @see Arm, Realm Management Monitor specification (DEN0137), A7.2.2 (token binding)
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import { ConfigError, ParseError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { VerificationResult } from '../../core/types.js'
import type { DigestAlgorithm, PublicKey } from '../../crypto/port.js'
import { parseCertificate } from '../../pki/certificate.js'
import { ccaClaims, isDebugLifecycle, lifecycleState } from './claims.js'
import { type CcaToken, REALM_CHALLENGE_SIZE } from './format.js'

/** Names of the checks, in the order they run. */
export const CCA_CHECKS = {
  realmSignature: 'realm-signature',
  rakBinding: 'rak-binding',
  platformSignature: 'platform-signature',
  lifecycle: 'lifecycle',
  nonce: 'nonce',
  reportData: 'report-data',
} as const

/** Hash algorithm names of the CCA claims (IANA Named Information registry) that the port computes. */
const HASH_ALGORITHMS: Readonly<Record<string, DigestAlgorithm>> = {
  'sha-256': 'SHA-256',
  'sha-384': 'SHA-384',
  'sha-512': 'SHA-512',
}

// Tag for memoPair: a trusted key imported from the DER bytes a caller passed.
const IMPORTED_KEY = {}

async function checkRealmSignature(
  token: CcaToken,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const name = CCA_CHECKS.realmSignature
  const { cose, claims } = token.realm
  const algorithm = cose.algorithm
  if (claims.rak.curve !== algorithm.curve) {
    const detail = `the realm token is signed with ${algorithm.name}, but the RAK is a ${claims.rak.curve} key`
    checks.fail(name, 'ERR_VERIFY_SIGNATURE', detail)
    return
  }
  let verified: boolean
  try {
    const rak = await context.crypto.importRawEcPoint(claims.rak.point, claims.rak.curve)
    const ecdsa = { name: 'ECDSA', hash: algorithm.hash } as const
    verified = await context.crypto.verify(ecdsa, rak, cose.signature, cose.toBeSigned)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    checks.fail(name, 'ERR_VERIFY_SIGNATURE', `the RAK could not be used: ${reason}`)
    return
  }
  if (verified)
    checks.pass(name, `${algorithm.name} signature verifies with the RAK the realm token carries`)
  else
    checks.fail(
      name,
      'ERR_VERIFY_SIGNATURE',
      `${algorithm.name} signature does not verify with the RAK`,
    )
}

async function checkRakBinding(
  token: CcaToken,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const name = CCA_CHECKS.rakBinding
  const realm = token.realm.claims
  const hash = HASH_ALGORITHMS[realm.publicKeyHashAlgorithm]
  if (hash === undefined) {
    const supported = Object.keys(HASH_ALGORITHMS).join(', ')
    const detail = `the RAK hash algorithm "${realm.publicKeyHashAlgorithm}" is not one of ${supported}`
    checks.fail(name, 'ERR_VERIFY_BINDING', detail)
    return
  }
  const digest = await context.crypto.digest(hash, realm.publicKey)
  const challenge = token.platform.claims.challenge
  if (bytesEqual(digest, challenge)) {
    checks.pass(name, `the platform challenge is the ${realm.publicKeyHashAlgorithm} of the RAK`)
  } else {
    const detail = `the platform challenge ${toHex(challenge).slice(0, 16)}... is not the ${realm.publicKeyHashAlgorithm} of the RAK (${toHex(digest).slice(0, 16)}...)`
    checks.fail(name, 'ERR_VERIFY_BINDING', detail)
  }
}

/** Collects the DER SubjectPublicKeyInfo of every key the caller trusts as a CPAK. */
function trustedSpkis(context: VerifyContext): Uint8Array[] {
  const keys = [...(context.trustedKeys ?? [])]
  for (const der of context.trustAnchors ?? []) {
    try {
      keys.push(parseCertificate(der).spki)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      const message = `a trust anchor could not be decoded as a certificate: ${error.message}`
      throw new ConfigError('ERR_CONFIG_INVALID', message, { cause: error })
    }
  }
  return keys
}

async function importTrustedKey(spki: Uint8Array, context: VerifyContext): Promise<PublicKey> {
  try {
    return await context.cache.memoPair(spki, IMPORTED_KEY, () => context.crypto.importSpki(spki))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    const message = `a trusted key is not a DER SubjectPublicKeyInfo the crypto port accepts: ${reason}`
    throw new ConfigError('ERR_CONFIG_INVALID', message, { cause: error })
  }
}

async function checkPlatformSignature(
  token: CcaToken,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const name = CCA_CHECKS.platformSignature
  const spkis = trustedSpkis(context)
  if (spkis.length === 0) {
    const detail =
      'no CPAK was given: pass the platform attestation public key (trustedKeys, --trust cpak.pem)'
    checks.skip(name, detail)
    return
  }
  const { cose } = token.platform
  const ecdsa = { name: 'ECDSA', hash: cose.algorithm.hash } as const
  for (const [index, spki] of spkis.entries()) {
    const key = await importTrustedKey(spki, context)
    if (key.algorithm !== 'EC' || key.curve !== cose.algorithm.curve) continue
    if (await context.crypto.verify(ecdsa, key, cose.signature, cose.toBeSigned)) {
      const keyName =
        spkis.length === 1 ? 'the trusted CPAK' : `trusted key ${index + 1} of ${spkis.length}`
      checks.pass(name, `${cose.algorithm.name} signature verifies with ${keyName}`)
      return
    }
  }
  const detail = `${cose.algorithm.name} signature does not verify with any of the ${spkis.length} trusted keys`
  checks.fail(name, 'ERR_VERIFY_SIGNATURE', detail)
}

function checkLifecycle(token: CcaToken, allowDebug: boolean, checks: CheckList): void {
  const name = CCA_CHECKS.lifecycle
  const lifecycle = token.platform.claims.lifecycle
  const state = `lifecycle 0x${lifecycle.toString(16).padStart(4, '0')} (${lifecycleState(lifecycle)})`
  if (lifecycle >> 8 === 0x30) {
    checks.pass(name, `the platform is in the secured state: ${state}`)
  } else if (isDebugLifecycle(lifecycle)) {
    if (allowDebug)
      checks.pass(name, `the platform is in a debug state, ${state}; debug was allowed`)
    else
      checks.fail(
        name,
        'ERR_VERIFY_DEBUG',
        `the platform is in a debug state, ${state}; allow debug (--allow-debug) to accept it`,
      )
  } else {
    checks.fail(name, 'ERR_VERIFY_LIFECYCLE', `the platform is not in the secured state: ${state}`)
  }
}

function checkExpectedValues(token: CcaToken, context: VerifyContext, checks: CheckList): void {
  const challenge = token.realm.claims.challenge
  const nonce = context.expectedNonce
  if (nonce !== undefined) {
    if (bytesEqual(challenge, nonce))
      checks.pass(CCA_CHECKS.nonce, `the realm challenge equals the expected ${nonce.length} bytes`)
    else
      checks.fail(
        CCA_CHECKS.nonce,
        'ERR_VERIFY_BINDING',
        `the realm challenge differs from the expected nonce (${nonce.length} bytes)`,
      )
  }
  const reportData = context.expectedReportData
  if (reportData !== undefined) {
    const padded = new Uint8Array(REALM_CHALLENGE_SIZE)
    padded.set(reportData)
    if (bytesEqual(challenge, padded))
      checks.pass(CCA_CHECKS.reportData, 'the realm challenge equals the expected report data')
    else
      checks.fail(
        CCA_CHECKS.reportData,
        'ERR_VERIFY_REPORT_DATA',
        `the realm challenge ${toHex(challenge).slice(0, 16)}... is not the expected report data`,
      )
  }
}

/**
 * Verifies a CCA token (see the module comment for the steps). Returns a result for any verdict.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the expected report data is longer than 64 bytes,
 *   or a trusted key or trust anchor cannot be decoded.
 */
export async function verifyCcaToken(
  token: CcaToken,
  context: VerifyContext,
): Promise<VerificationResult> {
  if ((context.expectedReportData?.length ?? 0) > REALM_CHALLENGE_SIZE) {
    const message = `expected report data is longer than the ${REALM_CHALLENGE_SIZE}-byte realm challenge`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  const checks = new CheckList()
  await checkRealmSignature(token, context, checks)
  await checkRakBinding(token, context, checks)
  await checkPlatformSignature(token, context, checks)
  checkLifecycle(token, context.allowDebug === true, checks)
  checkExpectedValues(token, context, checks)

  return {
    platform: 'cca',
    verdict: checks.verdict(),
    advisories: [],
    claims: ccaClaims(token),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
  }
}
