/**
 * Verification of a Nitro attestation document, each step a named check:
 *
 * 1. `cose-signature`: the ES384 signature over the Sig_structure, with the key of `certificate`.
 * 2. `certificate-chain`: `certificate` chains through `cabundle` to the pinned AWS Nitro
 *    Enclaves Root G1 (or the caller's anchors), every link valid at `context.at`. The first
 *    entry of `cabundle` is not trusted as a root: only the pinned root anchors the chain.
 * 3. `timestamp`: the document was not created after `context.at`, give or take the skew.
 * 4. `debug`: PCR0, PCR1 and PCR2 are not all zero, unless the caller allows debug.
 * 5. `nonce`, `user-data`: equal the caller's expected values, when given.
 * 6. `certificate-binding`: for a document carried in a certificate, the document binds that
 *    certificate's key.
 *
 * Not checked: key usage and path length constraints of the certificates (verifyChain checks
 * signatures, CA flags and validity), and the certificate that carried a document.
 *
 * @see AWS, aws-nitro-enclaves-nsm-api, docs/attestation_process.md, §3 (validation)
 * @module
 */
import { bytesEqual, concatBytes, decodePem, fromHex, toHex } from '../../core/bytes.js'
import { ConfigError, ParseError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { VerificationResult } from '../../core/types.js'
import type { PublicKey, SignatureAlgorithm } from '../../crypto/port.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { verifyChain } from '../../pki/chain.js'
import { AWS_NITRO_ROOT_G1_PEM } from './anchors.js'
import { isDebugEnclave, nitroClaims } from './claims.js'
import type { NitroEvidence } from './evidence.js'
import type { AttestationDocument } from './format.js'

/** How far a document's timestamp may lie after the verification time, for clock skew. */
export const TIMESTAMP_SKEW_MS = 60_000

const ES384: SignatureAlgorithm = { name: 'ECDSA', hash: 'SHA-384' }

let pinnedRoot: Certificate | undefined

function pinnedAnchors(): readonly Certificate[] {
  pinnedRoot ??= parseCertificate(decodePem(AWS_NITRO_ROOT_G1_PEM)[0]!.der)
  return [pinnedRoot]
}

/**
 * Names certificates by their content, so that later documents with the same bytes get the same
 * decoded objects and the signature results verifyChain remembers for them.
 */
async function contentKey(
  kind: string,
  ders: readonly Uint8Array[],
  context: VerifyContext,
): Promise<string> {
  const digest = await context.crypto.digest('SHA-256', concatBytes(...ders))
  return `nitro:${kind}:${ders.map((der) => der.length).join(',')}:${toHex(digest)}`
}

async function trustAnchors(context: VerifyContext): Promise<readonly Certificate[]> {
  const ders = context.trustAnchors
  if (ders === undefined) return pinnedAnchors()
  const key = await contentKey('anchors', ders, context)
  try {
    return await context.cache.memo(key, () => ders.map((der) => parseCertificate(der)))
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    const message = `a trust anchor could not be decoded: ${error.message}`
    throw new ConfigError('ERR_CONFIG_INVALID', message, { cause: error })
  }
}

/** Decodes the CA bundle once per distinct content, while the time checks run on every call. */
async function bundleCertificates(
  cabundle: readonly Uint8Array[],
  context: VerifyContext,
): Promise<readonly Certificate[]> {
  const key = await contentKey('cabundle', cabundle, context)
  return context.cache.memo(key, () => cabundle.map((der) => parseCertificate(der)))
}

/** DER of a SubjectPublicKeyInfo of an uncompressed point on P-384 (secp384r1), up to the point. */
const P384_SPKI_PREFIX = fromHex('3076301006072a8648ce3d020106052b8104002203620004')
const P384_POINT_SIZE = 96

/**
 * Imports the key of the signing certificate, once per key: an enclave signs its documents with
 * the same short-lived certificate (hours), so a stream of documents from it imports the key
 * once. A P-384 key goes in as its raw point, because the node:crypto port imports that faster
 * than the DER SubjectPublicKeyInfo.
 */
function signingKey(certificate: Certificate, context: VerifyContext): Promise<PublicKey> {
  return context.cache.memo(`nitro:key:${toHex(certificate.spki)}`, () =>
    importSigningKey(certificate, context),
  )
}

async function importSigningKey(
  certificate: Certificate,
  context: VerifyContext,
): Promise<PublicKey> {
  const { spki } = certificate
  const prefix = spki.subarray(0, P384_SPKI_PREFIX.length)
  const isP384Point =
    spki.length === P384_SPKI_PREFIX.length + P384_POINT_SIZE &&
    bytesEqual(prefix, P384_SPKI_PREFIX)
  const key = isP384Point
    ? await context.crypto.importRawEcPoint(spki.subarray(P384_SPKI_PREFIX.length), 'P-384')
    : await context.crypto.importSpki(spki)
  if (key.algorithm !== 'EC' || key.curve !== 'P-384') {
    throw new Error(`the key is ${key.algorithm} ${key.curve ?? ''}, not the P-384 key ES384 needs`)
  }
  return key
}

async function checkCoseSignature(
  evidence: NitroEvidence,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const name = 'cose-signature'
  const subject = `"${evidence.signingCertificate.subject}"`
  let verified: boolean
  try {
    const key = await signingKey(evidence.signingCertificate, context)
    const { signature, toBeSigned } = evidence.cose
    verified = await context.crypto.verify(ES384, key, signature, toBeSigned)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    checks.fail(name, 'ERR_VERIFY_SIGNATURE', `signing certificate ${subject}: ${reason}`)
    return
  }
  if (verified) checks.pass(name, `ES384 signature verifies with the key of ${subject}`)
  else
    checks.fail(
      name,
      'ERR_VERIFY_SIGNATURE',
      `ES384 signature does not verify with the key of ${subject}`,
    )
}

async function checkCertificateChain(
  evidence: NitroEvidence,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const name = 'certificate-chain'
  const anchors = await trustAnchors(context)
  let intermediates: readonly Certificate[]
  try {
    intermediates = await bundleCertificates(evidence.document.cabundle, context)
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    checks.fail(name, error.code, `a cabundle certificate could not be decoded: ${error.message}`)
    return
  }
  const result = await verifyChain(evidence.signingCertificate, intermediates, {
    at: context.at,
    anchors,
    crypto: context.crypto,
    cache: context.cache,
  })
  if (result.ok) checks.pass(name, result.detail)
  else checks.fail(name, result.code ?? 'ERR_VERIFY_CHAIN', result.detail)
}

function checkTimestamp(document: AttestationDocument, at: Date, checks: CheckList): void {
  const created = new Date(document.timestamp).toISOString()
  if (document.timestamp > at.getTime() + TIMESTAMP_SKEW_MS) {
    const skew = `${TIMESTAMP_SKEW_MS / 1000} s`
    const detail = `document created ${created}, more than ${skew} after ${at.toISOString()}`
    checks.fail('timestamp', 'ERR_VERIFY_TIMESTAMP', detail)
    return
  }
  const relation = document.timestamp <= at.getTime() ? 'at or before' : 'within the skew after'
  checks.pass('timestamp', `document created ${created}, ${relation} ${at.toISOString()}`)
}

function checkDebug(document: AttestationDocument, allowDebug: boolean, checks: CheckList): void {
  const debug = isDebugEnclave(document)
  if (debug === false) {
    checks.pass(
      'debug',
      'PCR0, PCR1 and PCR2 are not all zero, so the enclave is not in debug mode',
    )
    return
  }
  const finding =
    debug === true
      ? 'the enclave runs in debug mode (PCR0, PCR1 and PCR2 are zero)'
      : 'PCR0, PCR1 or PCR2 is missing, so debug mode cannot be ruled out'
  if (allowDebug) checks.pass('debug', `${finding}; debug was allowed`)
  else
    checks.fail('debug', 'ERR_VERIFY_DEBUG', `${finding}; allow debug (--allow-debug) to accept it`)
}

function checkExpected(
  name: string,
  field: string,
  actual: Uint8Array | undefined,
  expected: Uint8Array | undefined,
  checks: CheckList,
): void {
  if (expected === undefined) return
  if (actual === undefined) {
    checks.fail(name, 'ERR_VERIFY_BINDING', `the document has no ${field}, but one was expected`)
  } else if (!bytesEqual(actual, expected)) {
    const sizes = `${actual.length} bytes, expected ${expected.length}`
    checks.fail(name, 'ERR_VERIFY_BINDING', `${field} differs from the expected value (${sizes})`)
  } else {
    checks.pass(name, `${field} equals the expected ${expected.length} bytes`)
  }
}

function checkCarrierBinding(evidence: NitroEvidence, checks: CheckList): void {
  const carrier = evidence.carrier
  if (carrier === undefined) return
  const name = 'certificate-binding'
  const carrierKey = `the SubjectPublicKeyInfo of the carrying certificate "${carrier.subject}"`
  const { userData, publicKey } = evidence.document
  if (userData !== undefined && bytesEqual(userData, carrier.spki)) {
    checks.pass(name, `user_data is ${carrierKey}`)
  } else if (publicKey !== undefined && bytesEqual(publicKey, carrier.spki)) {
    checks.pass(name, `public_key is ${carrierKey}`)
  } else {
    checks.fail(name, 'ERR_VERIFY_BINDING', `neither user_data nor public_key is ${carrierKey}`)
  }
}

/**
 * Verifies a Nitro attestation document at `context.at` (see the module comment for the steps).
 * Returns a result for any verdict.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when `context.at` is not a valid date, a trust anchor
 *   cannot be decoded, or `expectedReportData` is given: a document has no report data, so use
 *   `expectedUserData` or `expectedNonce`.
 */
export async function verifyNitro(
  evidence: NitroEvidence,
  context: VerifyContext,
): Promise<VerificationResult> {
  if (Number.isNaN(context.at.getTime())) {
    throw new ConfigError('ERR_CONFIG_INVALID', 'the verification time is not a valid date')
  }
  if (context.expectedReportData !== undefined) {
    const instead = 'expect user_data or nonce instead (expectedUserData, expectedNonce)'
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `Nitro documents have no report data, so ${instead}`,
    )
  }
  const checks = new CheckList()
  const { document } = evidence
  await checkCoseSignature(evidence, context, checks)
  await checkCertificateChain(evidence, context, checks)
  checkTimestamp(document, context.at, checks)
  checkDebug(document, context.allowDebug === true, checks)
  checkExpected('nonce', 'nonce', document.nonce, context.expectedNonce, checks)
  checkExpected('user-data', 'user_data', document.userData, context.expectedUserData, checks)
  checkCarrierBinding(evidence, checks)

  return {
    platform: 'nitro',
    verdict: checks.verdict(),
    advisories: [],
    claims: nitroClaims(document),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
  }
}
