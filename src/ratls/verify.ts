/**
 * Verifies an RA-TLS certificate: its validity, its evidence, the binding of its public key into
 * the evidence, the evidence's age, and optionally an appraisal under a policy. Each step is a
 * named check, and a failure gives the reason a TLS handshake reports.
 *
 * @module
 */
import { appraise } from '../appraisal/appraise.js'
import type { Policy } from '../appraisal/policy.js'
import type { ReferenceValue } from '../appraisal/reference-values.js'
import type { AppraisalResult } from '../appraisal/types.js'
import { bytesEqual, fromHex, toHex } from '../core/bytes.js'
import { CollateralError, ConfideError, type ErrorCode, ParseError } from '../core/errors.js'
import { CheckList } from '../core/result.js'
import type { Check, Claims, Verdict, VerificationResult } from '../core/types.js'
import { createNodeCrypto } from '../crypto/node.js'
import type { CryptoPort } from '../crypto/port.js'
import { type Certificate, parseCertificate } from '../pki/certificate.js'
import { type VerifyEvidenceOptions, verifyEvidence } from '../verify.js'
import { gramineReportData, tcgReportData } from './binding.js'
import type { RatlsCache } from './cache.js'
import {
  findRatlsEvidence,
  RATLS_EVIDENCE_OIDS,
  type RatlsEvidence,
  type TcgClaims,
} from './extensions.js'

/** Default maximum evidence age: one day. */
export const DEFAULT_MAX_EVIDENCE_AGE_SECONDS = 86_400

/** How far in the future of `at` an evidence time may lie before it counts as not yet created. */
const CLOCK_SKEW_MS = 5 * 60_000

/** Options of `verifyRatlsCertificate`. */
export interface VerifyRatlsOptions {
  /** Options of the evidence verification: trusted keys, collateral, allowDebug. Default: none. */
  readonly verify?: VerifyEvidenceOptions
  /** Appraise the evidence under this policy; every appraisal check must pass. Absent: no appraisal. */
  readonly policy?: Policy
  /** Reference values for the appraisal. Absent: only the policy's. */
  readonly referenceValues?: readonly ReferenceValue[]
  /** The verification time. Default: `verify.at`, else now. */
  readonly at?: Date
  /**
   * Maximum age of evidence that carries its creation time (simulated: `issuedAt`, Nitro:
   * `timestamp`). Absent: one day, and evidence without a creation time (SGX and TDX quotes, SNP
   * reports) is not checked. Given: evidence without a creation time makes the check skipped,
   * so the verdict is at best indeterminate.
   */
  readonly maxEvidenceAgeSeconds?: number
  /** Cache of evidence verifications by evidence digest. Absent: nothing is cached. */
  readonly cache?: RatlsCache
  /** Crypto adapter. Default: node:crypto. */
  readonly crypto?: CryptoPort
}

/** The outcome of verifying an RA-TLS certificate. */
export interface RatlsVerdict {
  /** `valid` only when every check ran and passed. */
  readonly verdict: Verdict
  /** Whether a TLS peer presenting this certificate is accepted: the verdict is `valid`. */
  readonly accepted: boolean
  /** The first failed check (or the skipped ones) as one sentence; a summary when accepted. */
  readonly reason: string
  /** The code of the first failed check. */
  readonly code?: ErrorCode
  /**
   * Every step, in order: certificate-validity, certificate-signature, extension, then for the
   * preferred evidence extension evidence, pubkey-hash, key-binding, evidence-age, appraisal.
   * Each further evidence extension repeats these steps under names that end in its label, such
   * as `evidence:gramine` and `key-binding:intel-sgx-sdk` (the label is the OID when an earlier
   * extension has the same encoding).
   */
  readonly checks: readonly Check[]
  /** The preferred evidence extension. The others show only in `checks`. */
  readonly extension?: Omit<RatlsEvidence, 'evidence'>
  /** The verification of the preferred extension's evidence, when it ran. */
  readonly evidence?: VerificationResult
  /** The appraisal of the preferred extension's evidence, when a policy was given and it was verified. */
  readonly appraisal?: AppraisalResult
  /** Whether the verification of the preferred extension's evidence came from the cache. */
  readonly cached: boolean
  /** The certificate's subject and its key's SHA-256 (hex), when it could be decoded. */
  readonly subject?: string
  readonly spkiSha256?: string
  readonly verifiedAt: string
}

let defaultCrypto: CryptoPort | undefined

/** The outcome of verifying the evidence of one extension. */
interface EvidenceOutcome {
  readonly result?: VerificationResult
  readonly error?: ConfideError
  readonly cached: boolean
}

/** Inputs shared by the checks of every evidence extension. */
interface ExtensionContext {
  readonly checks: CheckList
  readonly certificate: Certificate
  readonly options: VerifyRatlsOptions
  readonly at: Date
  readonly crypto: CryptoPort
  /** The certificate's TCG DICE claims, which the Intel SGX SDK's raw quote binds. */
  readonly tcgClaims?: TcgClaims
  /** Evidence verified in this call, by SHA-256 (hex), so a quote under two OIDs runs once. */
  readonly verified: Map<string, EvidenceOutcome>
}

/** Names a check of the extension with `label`; the preferred extension's checks have no label. */
function checkName(base: string, label: string | undefined): string {
  return label === undefined ? base : `${base}:${label}`
}

/**
 * Returns the label of `found[index]`'s checks: none for the first, else the encoding, or the OID
 * when an earlier extension has the same encoding (Gramine's written and intended OIDs).
 */
function labelOf(found: readonly RatlsEvidence[], index: number): string | undefined {
  const extension = found[index]
  if (index === 0 || extension === undefined) return undefined
  const repeated = found.slice(0, index).some((e) => e.encoding === extension.encoding)

  return repeated ? extension.oid : extension.encoding
}

function certificateValidity(checks: CheckList, certificate: Certificate, at: Date): void {
  const window = `${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`
  if (at < certificate.notBefore || at > certificate.notAfter) {
    const detail = `the certificate is valid from ${window}, not at ${at.toISOString()}`
    checks.fail('certificate-validity', 'ERR_VERIFY_EXPIRED', detail)
  } else checks.pass('certificate-validity', `the certificate is valid from ${window}`)
}

/**
 * Verifies a self-issued certificate's signature with its own key. A certificate from a CA is not
 * checked here: the handshake proves possession of the key that the evidence binds, which is what
 * RA-TLS relies on, so the CA adds nothing the verifier could trust.
 */
async function selfSignature(
  checks: CheckList,
  certificate: Certificate,
  crypto: CryptoPort,
): Promise<void> {
  if (!bytesEqual(certificate.issuerDer, certificate.subjectDer)) return
  const name = 'certificate-signature'
  const algorithm = certificate.signatureAlgorithm
  if (algorithm === undefined) {
    const detail = `the certificate is signed with ${certificate.signatureAlgorithmOid}, which confide does not accept`
    checks.fail(name, 'ERR_VERIFY_SIGNATURE', detail)
    return
  }
  const key = await crypto.importSpki(certificate.spki)
  if (await crypto.verify(algorithm, key, certificate.signature, certificate.tbs))
    checks.pass(name, 'the self-signed certificate is signed by its own key')
  else checks.fail(name, 'ERR_VERIFY_SIGNATURE', 'the self-signature does not verify')
}

/** Returns every evidence extension, the preferred first; empty after a failed check. */
function findEvidence(checks: CheckList, certificate: Certificate): RatlsEvidence[] {
  const name = 'extension'
  let found: RatlsEvidence[]
  try {
    found = findRatlsEvidence(certificate)
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    checks.fail(name, error.code, `the evidence extension is malformed: ${error.message}`)
    return []
  }
  const [first, ...others] = found
  if (first === undefined) {
    const present = certificate.extensions.map((e) => e.extnID).join(', ') || 'none'
    const detail = `no evidence extension under ${RATLS_EVIDENCE_OIDS.join(', ')}; the certificate's extensions are ${present}`
    checks.fail(name, 'ERR_VERIFY_NO_EVIDENCE', detail)
    return []
  }
  const critical = first.critical ? 'critical' : 'non-critical'
  const also = others.length === 0 ? '' : `; also present: ${others.map((e) => e.oid).join(', ')}`
  checks.pass(name, `${first.encoding} evidence under ${first.oid} (${critical})${also}`)

  return found
}

async function runEvidence(
  evidence: Uint8Array,
  context: ExtensionContext,
): Promise<EvidenceOutcome> {
  const { options, at, crypto, verified } = context
  const digest = toHex(await crypto.digest('SHA-256', evidence))
  const earlier = verified.get(digest)
  if (earlier !== undefined) return earlier
  let outcome: EvidenceOutcome
  const hit = options.cache?.get(digest, at)
  if (hit !== undefined) outcome = { result: hit, cached: true }
  else {
    try {
      const result = await verifyEvidence(evidence, { ...options.verify, at })
      options.cache?.set(digest, at, result)
      outcome = { result, cached: false }
    } catch (error) {
      if (!(error instanceof ConfideError)) throw error
      outcome = { error, cached: false }
    }
  }
  verified.set(digest, outcome)

  return outcome
}

function evidenceCheck(checks: CheckList, outcome: EvidenceOutcome, label?: string): void {
  const { result, error } = outcome
  const name = checkName('evidence', label)
  if (error !== undefined) {
    if (error instanceof CollateralError)
      checks.skip(name, `the evidence could not be judged: ${error.message}`)
    else checks.fail(name, error.code, `the evidence could not be verified: ${error.message}`)
    return
  }
  if (result === undefined) return
  const platform = result.platform
  if (result.verdict === 'valid') {
    const simulated =
      result.claims.raw.simulated === true ? ' (simulated: proves nothing about hardware)' : ''
    checks.pass(name, `${platform} evidence verifies${simulated}`)
    return
  }
  const failed = result.checks.find((c) => c.status === 'fail')
  if (failed !== undefined) {
    const detail = `${platform} evidence is invalid: ${failed.name}: ${failed.detail}`
    checks.fail(name, failed.code ?? 'ERR_VERIFY_SIGNATURE', detail)
    return
  }
  const skipped = result.checks.filter((c) => c.status === 'skipped').map((c) => c.name)
  checks.skip(name, `${platform} evidence checks that ran passed; not run: ${skipped.join(', ')}`)
}

async function pubkeyHashCheck(
  context: ExtensionContext,
  found: RatlsEvidence,
  label?: string,
): Promise<void> {
  if (found.claims === undefined) return
  const name = checkName('pubkey-hash', label)
  const { algorithm, digest } = found.claims.pubkeyHash
  const actual = await context.crypto.digest(algorithm, context.certificate.spki)
  if (bytesEqual(actual, digest)) {
    context.checks.pass(name, `the pubkey-hash claim is the ${algorithm} of the certificate's key`)
  } else {
    const detail = `the pubkey-hash claim ${toHex(digest)} is not the ${algorithm} of the certificate's key (${toHex(actual)})`
    context.checks.fail(name, 'ERR_VERIFY_BINDING', detail)
  }
}

/**
 * Checks that the evidence's report data binds the certificate's key. The Intel SGX SDK's raw
 * quote binds the certificate's TCG DICE claims, whose pubkey-hash check names the key.
 */
async function keyBinding(
  context: ExtensionContext,
  found: RatlsEvidence,
  claims: Claims | undefined,
  label?: string,
): Promise<void> {
  const { checks, crypto } = context
  const name = checkName('key-binding', label)
  if (claims === undefined) {
    checks.skip(name, 'the evidence could not be read, so its report data is unknown')
    return
  }
  if (claims.reportData === undefined) {
    checks.fail(name, 'ERR_VERIFY_BINDING', `${claims.platform} evidence has no report data`)
    return
  }
  const reportData = fromHex(claims.reportData, 'report data')
  let expected: Uint8Array
  let rule: string
  const sdkClaims = found.encoding === 'intel-sgx-sdk' ? context.tcgClaims : undefined
  if (found.claims !== undefined) {
    expected = await tcgReportData(crypto, found.claims.bytes, reportData.length)
    rule = 'SHA-256 of the claims'
  } else if (sdkClaims !== undefined) {
    expected = await tcgReportData(crypto, sdkClaims.bytes, reportData.length)
    rule = "SHA-256 of the certificate's TCG DICE claims"
  } else if (found.encoding === 'gramine') {
    expected = await gramineReportData(crypto, context.certificate.spki, reportData.length)
    rule = "SHA-256 of the certificate's key"
  } else {
    const detail =
      "the Intel SGX SDK's quote binds the key through TCG DICE claims, which the certificate lacks"
    checks.fail(name, 'ERR_VERIFY_BINDING', detail)
    return
  }
  if (bytesEqual(reportData, expected)) {
    checks.pass(name, `the report data is the ${rule}, zero-padded`)
  } else {
    const detail = `the report data ${claims.reportData} is not the ${rule} (${toHex(expected)}): the evidence binds another key`
    checks.fail(name, 'ERR_VERIFY_BINDING', detail)
  }
}

/** Returns the creation time the evidence states, for platforms whose evidence has one. */
export function evidenceCreatedAt(claims: Claims): Date | undefined {
  const value = claims.raw.issuedAt ?? claims.raw.timestamp
  if (typeof value !== 'string') return undefined
  const time = new Date(value)

  return Number.isNaN(time.getTime()) ? undefined : time
}

function evidenceAge(
  checks: CheckList,
  claims: Claims | undefined,
  options: VerifyRatlsOptions,
  at: Date,
  label?: string,
): void {
  const name = checkName('evidence-age', label)
  const explicit = options.maxEvidenceAgeSeconds !== undefined
  const maxSeconds = options.maxEvidenceAgeSeconds ?? DEFAULT_MAX_EVIDENCE_AGE_SECONDS
  const created = claims === undefined ? undefined : evidenceCreatedAt(claims)
  if (created === undefined) {
    if (explicit) checks.skip(name, 'the evidence states no creation time, so its age is unknown')
    return
  }
  const ageSeconds = Math.floor((at.getTime() - created.getTime()) / 1000)
  if (created.getTime() > at.getTime() + CLOCK_SKEW_MS) {
    const detail = `the evidence was created at ${created.toISOString()}, after the verification time ${at.toISOString()}`
    checks.fail(name, 'ERR_VERIFY_TIMESTAMP', detail)
  } else if (ageSeconds > maxSeconds) {
    const detail = `the evidence was created at ${created.toISOString()}, ${ageSeconds} s before ${at.toISOString()}; at most ${maxSeconds} s is accepted`
    checks.fail(name, 'ERR_VERIFY_STALE', detail)
  } else checks.pass(name, `the evidence is ${Math.max(ageSeconds, 0)} s old`)
}

function appraisalCheck(
  checks: CheckList,
  result: VerificationResult | undefined,
  options: VerifyRatlsOptions,
  at: Date,
  label?: string,
): AppraisalResult | undefined {
  const policy = options.policy
  if (policy === undefined) return undefined
  const name = checkName('appraisal', label)
  if (result === undefined) {
    checks.skip(name, `not appraised under ${policy.id}: the evidence could not be verified`)
    return undefined
  }
  const appraisal = appraise(result, policy, {
    at,
    ...(options.referenceValues === undefined ? {} : { referenceValues: options.referenceValues }),
  })
  const unmet = appraisal.checks.filter((c) => c.status !== 'pass')
  if (unmet.length === 0) {
    checks.pass(name, `policy ${policy.id}: every check passed (status ${appraisal.status})`)
  } else {
    const list = unmet.map((c) => `${c.name} ${c.status}: ${c.detail}`).join('; ')
    checks.fail(name, 'ERR_VERIFY_POLICY', `policy ${policy.id} is not met: ${list}`)
  }

  return appraisal
}

/** Runs the checks of one evidence extension; `label` names those of every one but the first. */
async function verifyExtension(
  context: ExtensionContext,
  found: RatlsEvidence,
  label: string | undefined,
): Promise<{ evidence: EvidenceOutcome; appraisal: AppraisalResult | undefined }> {
  const { checks, options, at } = context
  const evidence = await runEvidence(found.evidence, context)
  evidenceCheck(checks, evidence, label)
  await pubkeyHashCheck(context, found, label)
  await keyBinding(context, found, evidence.result?.claims, label)
  evidenceAge(checks, evidence.result?.claims, options, at, label)
  const appraisal = appraisalCheck(checks, evidence.result, options, at, label)

  return { evidence, appraisal }
}

function reasonOf(
  checks: readonly Check[],
  verdict: Verdict,
): { reason: string; code?: ErrorCode } {
  const failed = checks.find((c) => c.status === 'fail')
  if (failed !== undefined) {
    return {
      reason: `${failed.name}: ${failed.detail}`,
      ...(failed.code === undefined ? {} : { code: failed.code }),
    }
  }
  if (verdict === 'indeterminate') {
    const skipped = checks.filter((c) => c.status === 'skipped')
    return {
      reason: `not every check could run: ${skipped.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
    }
  }

  return { reason: `every check passed: ${checks.map((c) => c.name).join(', ')}` }
}

/**
 * Verifies an RA-TLS certificate (DER) at `options.at`, else `options.verify.at`, else now.
 * It checks:
 * - the certificate's validity period, and its self-signature when self-issued;
 * - that no evidence extension appears twice;
 * - for every evidence extension, the preferred one first: the evidence itself (`verifyEvidence`,
 *   cached by evidence digest when a cache is given), the binding of the certificate's key into
 *   it, its age and, with a policy, its appraisal. The certificate is accepted only when every
 *   extension passes, so a second extension cannot carry evidence the policy would reject.
 *
 * It does not check a CA-issued certificate's issuer, nor a hostname.
 *
 * Returns a verdict for a bad certificate instead of throwing: the verdict and reason describe
 * what failed.
 *
 * @throws only for errors that are not confide's (bugs, a broken crypto adapter).
 */
export async function verifyRatlsCertificate(
  der: Uint8Array,
  options: VerifyRatlsOptions = {},
): Promise<RatlsVerdict> {
  const at = options.at ?? options.verify?.at ?? new Date()
  defaultCrypto ??= createNodeCrypto()
  const crypto = options.crypto ?? defaultCrypto
  const checks = new CheckList()
  let certificate: Certificate | undefined
  try {
    certificate = parseCertificate(der)
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    checks.fail('certificate', error.code, error.message)
  }
  let found: RatlsEvidence[] = []
  if (certificate !== undefined) {
    certificateValidity(checks, certificate, at)
    await selfSignature(checks, certificate, crypto)
    found = findEvidence(checks, certificate)
  }
  let evidence: EvidenceOutcome = { cached: false }
  let appraisal: AppraisalResult | undefined
  if (certificate !== undefined && found.length > 0) {
    const tcgClaims = found.find((e) => e.claims !== undefined)?.claims
    const context: ExtensionContext = {
      checks,
      certificate,
      options,
      at,
      crypto,
      verified: new Map(),
      ...(tcgClaims === undefined ? {} : { tcgClaims }),
    }
    for (const [index, extension] of found.entries()) {
      const outcome = await verifyExtension(context, extension, labelOf(found, index))
      if (index === 0) {
        evidence = outcome.evidence
        appraisal = outcome.appraisal
      }
    }
  }
  const verdict = checks.verdict()
  const [first] = found
  const { evidence: _bytes, ...extension } = first ?? { evidence: undefined }

  return {
    verdict,
    accepted: verdict === 'valid',
    ...reasonOf(checks.checks, verdict),
    checks: checks.checks,
    ...(first === undefined ? {} : { extension: extension as Omit<RatlsEvidence, 'evidence'> }),
    ...(evidence.result === undefined ? {} : { evidence: evidence.result }),
    ...(appraisal === undefined ? {} : { appraisal }),
    cached: evidence.cached,
    ...(certificate === undefined
      ? {}
      : {
          subject: certificate.subject,
          spkiSha256: toHex(await crypto.digest('SHA-256', certificate.spki)),
        }),
    verifiedAt: at.toISOString(),
  }
}
