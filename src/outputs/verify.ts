/**
 * Offline checks of a workload and of its attested outputs. For a workload: the evidence
 * verifies, its report data binds the workload's keys, and it passes a policy. For an output,
 * also: the signature covers the exact document bytes, the document names the evidence's code,
 * and it lists the inputs a party sent.
 *
 * @module
 */
import { appraise } from '../appraisal/appraise.js'
import type { Policy } from '../appraisal/policy.js'
import type { ReferenceValue } from '../appraisal/reference-values.js'
import type { AppraisalResult } from '../appraisal/types.js'
import { toHex } from '../core/bytes.js'
import { CheckList } from '../core/result.js'
import type { Check, Verdict, VerificationResult } from '../core/types.js'
import { createNodeCrypto } from '../crypto/node.js'
import type { CryptoPort, SignatureAlgorithm } from '../crypto/port.js'
import { type VerifyEvidenceOptions, verifyEvidence } from '../verify.js'
import { type WorkloadPublicKeys, workloadReportData } from './binding.js'
import type { OutputBundle } from './bundle.js'
import { codeClaimsOf } from './create.js'
import { type OutputDocument, parseOutputDocument } from './document.js'

/** Options of `verifyWorkload` and `verifyOutput`. */
export interface VerifyWorkloadOptions {
  /** Options of the evidence verification: time, collateral, trusted keys, debug. */
  readonly verify?: VerifyEvidenceOptions
  /**
   * A policy whose every check the evidence must pass (check `policy`). The AR4SI status is in
   * `appraisal`. Absent: no appraisal, so only the caller's own comparison of `document.code`
   * shows whether the code is the expected one.
   */
  readonly policy?: Policy
  /** Reference values for the appraisal. Absent: only the policy's. */
  readonly referenceValues?: readonly ReferenceValue[]
}

/** Options of `verifyOutput`. */
export interface VerifyOutputOptions extends VerifyWorkloadOptions {
  /**
   * SHA-256 of sealed inputs, as the party sent them, that the output must list (check
   * `inputs`). Absent: the inputs are not compared.
   */
  readonly expectedInputDigest?: Uint8Array | readonly Uint8Array[]
}

/** Result of `verifyWorkload`. */
export interface WorkloadVerification {
  /** Valid when every check passed; indeterminate when the evidence could not be judged fully. */
  readonly verdict: Verdict
  /** `evidence`, `binding`, then `policy` when a policy was given. */
  readonly checks: readonly Check[]
  readonly evidence: VerificationResult
  /** The appraisal, when a policy was given. */
  readonly appraisal?: AppraisalResult
}

/** Result of `verifyOutput`. */
export interface OutputVerification extends WorkloadVerification {
  /**
   * The checks of `verifyWorkload`, then `signature`, `measurement`, and `inputs` when input
   * digests were given.
   */
  readonly checks: readonly Check[]
  /** The document as signed. Trust its contents only when the verdict is valid. */
  readonly document: OutputDocument
}

const SIGNATURE_ALGORITHMS: Record<WorkloadPublicKeys['signatureAlgorithm'], SignatureAlgorithm> = {
  Ed25519: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
}

function evidenceCheck(checks: CheckList, result: VerificationResult): void {
  const failed = result.checks.filter((check) => check.status === 'fail')
  const first = failed[0]
  if (first !== undefined) {
    const names = failed.map((check) => check.name).join(', ')
    checks.fail(
      'evidence',
      first.code ?? 'ERR_VERIFY_SIGNATURE',
      `${result.platform} evidence is invalid: ${names} failed`,
    )
    return
  }
  const skipped = result.checks.filter((check) => check.status === 'skipped')
  if (skipped.length > 0) {
    const names = skipped.map((check) => check.name).join(', ')
    checks.skip(
      'evidence',
      `${result.platform} evidence could not be judged fully: ${names} skipped`,
    )
    return
  }
  const simulated =
    result.claims.raw.simulated === true ? '; simulated TEE: proves nothing about hardware' : ''
  checks.pass(
    'evidence',
    `${result.platform} evidence verifies (${result.checks.length} checks)${simulated}`,
  )
}

function bindingCheck(
  checks: CheckList,
  keys: WorkloadPublicKeys,
  result: VerificationResult,
): void {
  const expected = toHex(workloadReportData(keys))
  const actual = result.claims.reportData?.toLowerCase()
  if (actual === undefined) {
    checks.fail(
      'binding',
      'ERR_VERIFY_BINDING',
      `${result.platform} evidence carries no report data to bind the workload keys`,
    )
    return
  }
  if (actual !== expected) {
    const detail = `report data ${actual} is not ${expected}, the binding of this signing key and HPKE key`
    checks.fail('binding', 'ERR_VERIFY_BINDING', detail)
    return
  }
  checks.pass('binding', 'report data binds the signing key and the HPKE public key')
}

/**
 * Passes when every check the policy asked for passed, whatever the status: a simulated TEE that
 * the policy allows still gives status `warning`. A check the policy asked for that could not run
 * makes this one skipped.
 */
function policyCheck(checks: CheckList, appraisal: AppraisalResult): void {
  const named = (status: string) =>
    appraisal.checks.filter((check) => check.status === status).map((check) => check.name)
  const failed = named('fail')
  const notChecked = named('not-checked')
  const policy = `policy ${appraisal.policyId}`
  if (failed.length > 0 || appraisal.status === 'contraindicated') {
    const detail = `${policy} gives status ${appraisal.status}; failed: ${failed.join(', ')}`
    checks.fail('policy', 'ERR_VERIFY_POLICY', detail)
    return
  }
  if (notChecked.length > 0) {
    checks.skip('policy', `${policy} could not check ${notChecked.join(', ')}`)
    return
  }
  checks.pass('policy', `every check of ${policy} passed; status ${appraisal.status}`)
}

async function runWorkloadChecks(
  checks: CheckList,
  keys: WorkloadPublicKeys,
  evidence: Uint8Array,
  options: VerifyWorkloadOptions,
): Promise<{ evidence: VerificationResult; appraisal?: AppraisalResult }> {
  const result = await verifyEvidence(evidence, options.verify)
  evidenceCheck(checks, result)
  bindingCheck(checks, keys, result)
  if (options.policy === undefined) return { evidence: result }
  const appraisal = appraise(result, options.policy, {
    at: options.verify?.at ?? new Date(result.verifiedAt),
    ...(options.referenceValues === undefined ? {} : { referenceValues: options.referenceValues }),
  })
  policyCheck(checks, appraisal)

  return { evidence: result, appraisal }
}

/**
 * Verifies a workload before a party seals inputs to it: its evidence verifies, its report data
 * binds both public keys, and, with a policy, the evidence passes its every check. Offline:
 * collateral comes from `options.verify`.
 *
 * @throws ParseError when the evidence cannot be decoded; PolicyError for a malformed policy.
 */
export async function verifyWorkload(
  workload: { readonly publicKeys: WorkloadPublicKeys; readonly evidence: Uint8Array },
  options: VerifyWorkloadOptions = {},
): Promise<WorkloadVerification> {
  const checks = new CheckList()
  const outcome = await runWorkloadChecks(checks, workload.publicKeys, workload.evidence, options)

  return { verdict: checks.verdict(), checks: checks.checks, ...outcome }
}

async function signatureCheck(
  checks: CheckList,
  document: OutputDocument,
  bundle: OutputBundle,
  crypto: CryptoPort,
): Promise<void> {
  const { signatureAlgorithm, signingKey } = document.workload
  let good: boolean
  try {
    const key = await crypto.importSpki(signingKey)
    const expected = signatureAlgorithm === 'Ed25519' ? 'Ed25519' : 'EC'
    if (key.algorithm !== expected || (expected === 'EC' && key.curve !== 'P-256')) {
      checks.fail(
        'signature',
        'ERR_VERIFY_SIGNATURE',
        `the signing key is not a ${signatureAlgorithm} key`,
      )
      return
    }
    good = await crypto.verify(
      SIGNATURE_ALGORITHMS[signatureAlgorithm],
      key,
      bundle.signature,
      bundle.document,
    )
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    checks.fail('signature', 'ERR_VERIFY_SIGNATURE', `the signing key cannot be used: ${reason}`)
    return
  }
  if (!good) {
    checks.fail(
      'signature',
      'ERR_VERIFY_SIGNATURE',
      `the ${signatureAlgorithm} signature does not verify over the document bytes`,
    )
    return
  }
  checks.pass('signature', `${signatureAlgorithm} signature verifies over the document bytes`)
}

function measurementCheck(
  checks: CheckList,
  document: OutputDocument,
  result: VerificationResult,
): void {
  let actual: ReturnType<typeof codeClaimsOf>
  try {
    actual = codeClaimsOf(result.claims)
  } catch {
    checks.fail(
      'measurement',
      'ERR_VERIFY_MEASUREMENT',
      `${result.platform} evidence states no measurement`,
    )
    return
  }
  const stated = document.code
  const differences = (['platform', 'measurement', 'signer'] as const)
    .filter((field) => stated[field] !== actual[field])
    .map(
      (field) => `${field} ${stated[field] ?? '(none)'} (evidence: ${actual[field] ?? '(none)'})`,
    )
  if (differences.length > 0) {
    checks.fail(
      'measurement',
      'ERR_VERIFY_MEASUREMENT',
      `the document names other code than the evidence: ${differences.join('; ')}`,
    )
    return
  }
  checks.pass(
    'measurement',
    `the document names the evidence's code, measurement ${actual.measurement}`,
  )
}

function inputsCheck(
  checks: CheckList,
  document: OutputDocument,
  expected: readonly Uint8Array[],
): void {
  const missing = expected
    .map((digest) => toHex(digest))
    .filter((digest) => !document.inputs.includes(digest))
  if (missing.length > 0) {
    const detail = `the output does not list input ${missing.join(', ')}; it lists ${document.inputs.length} inputs`
    checks.fail('inputs', 'ERR_VERIFY_INPUT_NOT_LISTED', detail)
    return
  }
  checks.pass('inputs', `the output lists each of the ${expected.length} inputs named`)
}

/**
 * Verifies an attested output offline. Checks, in order: `evidence` (the evidence verifies),
 * `binding` (its report data binds the document's signing key and HPKE key), `policy` (with a
 * policy: the evidence passes its every check), `signature` (over the exact document bytes),
 * `measurement` (the document's code claims equal the evidence's), and `inputs` (with expected
 * digests: each is listed). A failed check is a result, and makes the verdict invalid.
 *
 * It does not judge whether the measured code is the code the caller expects: pass a policy with
 * reference values, or compare `document.code`. Nor does it bound the age of the output.
 *
 * @throws ParseError when the document or the evidence cannot be decoded; PolicyError for a
 *   malformed policy.
 */
export async function verifyOutput(
  bundle: OutputBundle,
  options: VerifyOutputOptions = {},
): Promise<OutputVerification> {
  const document = parseOutputDocument(bundle.document)
  const checks = new CheckList()
  const outcome = await runWorkloadChecks(checks, document.workload, bundle.evidence, options)
  await signatureCheck(checks, document, bundle, options.verify?.crypto ?? createNodeCrypto())
  measurementCheck(checks, document, outcome.evidence)
  const expected = options.expectedInputDigest
  if (expected !== undefined)
    inputsCheck(checks, document, expected instanceof Uint8Array ? [expected] : expected)

  return { verdict: checks.verdict(), checks: checks.checks, document, ...outcome }
}
