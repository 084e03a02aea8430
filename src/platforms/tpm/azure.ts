/**
 * Verification of an Azure confidential VM's evidence: the vTPM quote and the HCL report, judged
 * together, each step a named check:
 *
 * 1. `hardware-report`: the hardware evidence verifies on its own. That is the SEV-SNP report
 *    inside the HCL report with its VCEK chain, or the TDX quote with its collateral, and its
 *    result is the sub-result `snp` or `tdx`.
 * 2. `runtime-data`: the hardware report data starts with the digest of the HCL runtime data,
 *    so the hardware vouches for that JSON.
 * 3. `attestation-key`: the runtime data contains the vTPM attestation key (`HCLAkPub`).
 * 4. `quote-signature`: the vTPM quote verifies with that key (RSASSA, SHA-256).
 * 5. `nonce`, `report-data`: extraData equals the caller's expected value, when given.
 * 6. `pcr-digest`: pcrDigest is the digest of the PCR values the evidence carries.
 *
 * The TDREPORT inside a TDX HCL report is not checked: only its TD quote is signed by Intel's
 * chain, and the quote's own report data is what binds the runtime data.
 *
 * @see Microsoft, azure-cvm-tooling, `az-cvm-vtpm` (the HCL report and the vTPM key)
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import { CollateralBundle } from '../../core/collateral-bundle.js'
import { ParseError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { Claims, VerificationResult } from '../../core/types.js'
import type { CompositeVerificationResult } from '../composite/result.js'
import { verifyQuote } from '../dcap/verify.js'
import { verifySnpEvidence } from '../snp/verify.js'
import { attestClaims } from './claims.js'
import type { AzureHardware, TpmEvidence } from './evidence.js'
import { type AttestationKey, keyIdentity, spkiOfRsaJwk } from './public-key.js'
import {
  checkExpectedValues,
  checkPcrDigest,
  checkQuoteSignature,
  TPM_CHECKS,
} from './quote-checks.js'

const HARDWARE_TITLES = { snp: 'SEV-SNP report', tdx: 'TDX quote' } as const

/** Adds the VCEK the attester sent to the caller's collateral, unless the caller gave one. */
function hardwareCollateral(
  azure: AzureHardware,
  collateral: CollateralBundle | undefined,
): CollateralBundle | undefined {
  if (azure.hardware !== 'snp' || azure.vcek === undefined) return collateral
  if (collateral?.get('vcek.der') !== undefined || collateral?.get('vcek.pem') !== undefined)
    return collateral
  const files: [string, Uint8Array][] = []
  for (const path of collateral?.find(/.*/) ?? []) {
    const bytes = collateral?.get(path)
    if (bytes !== undefined) files.push([path, bytes])
  }
  files.push(['vcek.pem', azure.vcek])
  return new CollateralBundle(files)
}

/** Verifies the hardware evidence, without the caller's expected values: those bind the quote. */
function verifyHardware(azure: AzureHardware, context: VerifyContext): Promise<VerificationResult> {
  const { expectedNonce, expectedReportData, expectedUserData, collateral, ...rest } = context
  const bundle = hardwareCollateral(azure, collateral)
  const hardwareContext: VerifyContext = {
    ...rest,
    ...(bundle === undefined ? {} : { collateral: bundle }),
  }
  if (azure.hardware === 'snp') return verifySnpEvidence(azure.snp, hardwareContext)
  return verifyQuote('tdx', azure.tdQuote, hardwareContext)
}

function summarizeHardware(
  azure: AzureHardware,
  result: VerificationResult,
  checks: CheckList,
): void {
  const title = HARDWARE_TITLES[azure.hardware]
  const name = TPM_CHECKS.hardwareReport
  const failed = result.checks.find((check) => check.status === 'fail')
  if (failed !== undefined) {
    checks.fail(
      name,
      failed.code ?? 'ERR_VERIFY_BINDING',
      `the ${title} is invalid: ${failed.name}: ${failed.detail}`,
    )
    return
  }
  const skipped = result.checks
    .filter((check) => check.status === 'skipped')
    .map((check) => check.name)
  if (skipped.length > 0)
    checks.skip(name, `the ${title} could not be fully verified: ${skipped.join(', ')} skipped`)
  else checks.pass(name, `the ${title} verifies (${result.checks.length} checks passed)`)
}

function hardwareReportData(azure: AzureHardware): Uint8Array {
  return azure.hardware === 'snp' ? azure.snp.report.reportData : azure.tdQuote.body.reportData
}

async function checkRuntimeData(
  azure: AzureHardware,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const { hcl } = azure
  const digest = await context.crypto.digest(hcl.hashAlgorithm, hcl.runtimeData)
  const reportData = hardwareReportData(azure)
  const digestName = `${hcl.hashAlgorithm} of the ${hcl.runtimeData.length}-byte HCL runtime data`
  // Azure fills the rest of REPORT_DATA with zeros on SEV-SNP; on TDX only the prefix is defined.
  if (bytesEqual(reportData.subarray(0, digest.length), digest)) {
    checks.pass(TPM_CHECKS.runtimeData, `the hardware report data starts with the ${digestName}`)
  } else {
    const detail = `the hardware report data ${toHex(reportData).slice(0, 16)}... does not start with the ${digestName} (${toHex(digest).slice(0, 16)}...)`
    checks.fail(TPM_CHECKS.runtimeData, 'ERR_VERIFY_BINDING', detail)
  }
}

/** Reads the vTPM AK from the runtime data; adds a failed `attestation-key` when it cannot. */
function runtimeAttestationKey(
  azure: AzureHardware,
  checks: CheckList,
): AttestationKey | undefined {
  const name = TPM_CHECKS.attestationKey
  const jwk = azure.hcl.akJwk
  if (jwk === undefined) {
    const reason =
      azure.hcl.runtimeClaims === undefined ? 'is not JSON' : 'has no key with kid "HCLAkPub"'
    checks.fail(
      name,
      'ERR_VERIFY_BINDING',
      `the HCL runtime data ${reason}, so no key binds the vTPM quote`,
    )
    return undefined
  }
  try {
    const spki = spkiOfRsaJwk(jwk)
    checks.pass(name, 'the AK is HCLAkPub from the runtime data that the hardware report binds')
    return { spki, identity: keyIdentity(spki), tpmtPublic: undefined }
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    checks.fail(
      name,
      'ERR_VERIFY_BINDING',
      `HCLAkPub in the runtime data is not a usable RSA key: ${error.message}`,
    )
    return undefined
  }
}

function azureClaims(
  evidence: TpmEvidence,
  azure: AzureHardware,
  hardware: VerificationResult,
  signer: AttestationKey | undefined,
): Claims {
  const { measurement, debug, platformId, tcb } = hardware.claims
  return {
    platform: 'tpm',
    reportData: toHex(evidence.attest.extraData),
    ...(measurement === undefined ? {} : { measurement }),
    ...(debug === undefined ? {} : { debug }),
    ...(platformId === undefined ? {} : { platformId }),
    ...(tcb === undefined ? {} : { tcb }),
    raw: {
      form: evidence.form,
      ...attestClaims(evidence.attest, evidence.signature, evidence.pcrs, signer),
      hardware: azure.hardware,
      hclRuntimeData: azure.hcl.runtimeClaims ?? toHex(azure.hcl.runtimeData),
    },
  }
}

/**
 * Verifies Azure vTPM evidence at `context.at` (see the module comment for the steps). Returns a
 * result for any verdict, with the hardware's result as its one sub-result.
 *
 * @throws as the SEV-SNP and TDX verifiers do for malformed collateral, and ConfigError for an
 *   over-long expected report data.
 */
export async function verifyAzureVtpm(
  evidence: TpmEvidence,
  azure: AzureHardware,
  context: VerifyContext,
): Promise<CompositeVerificationResult> {
  const checks = new CheckList()
  const hardware = await verifyHardware(azure, context)
  summarizeHardware(azure, hardware, checks)
  await checkRuntimeData(azure, context, checks)
  const ak = runtimeAttestationKey(azure, checks)
  const signer = await checkQuoteSignature(
    evidence.attest,
    evidence.signature,
    ak === undefined ? [] : [ak],
    context,
    checks,
  )
  checkExpectedValues(evidence.attest, context, checks)
  await checkPcrDigest(evidence.attest, evidence.signature, evidence.pcrs, context, checks)

  return {
    platform: 'tpm',
    verdict: checks.verdict(),
    ...(hardware.tcbStatus === undefined ? {} : { tcbStatus: hardware.tcbStatus }),
    advisories: hardware.advisories,
    claims: azureClaims(evidence, azure, hardware, signer),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
    submods: { [azure.hardware]: hardware },
  }
}
