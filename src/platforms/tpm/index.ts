/**
 * TPM 2.0: quotes signed by an attestation key, bare or in Trustee's JSON, and Azure confidential
 * VMs, whose vTPM quote is bound to an SEV-SNP or TDX report through the HCL report.
 *
 * @module
 */
import type { Platform } from '../../core/platform.js'
import { verifyAzureVtpm } from './azure.js'
import { parseTpmEvidence, sniffTpmEvidence, type TpmEvidence } from './evidence.js'
import { verifyTpmQuote } from './verify.js'

/** Creates the TPM 2.0 platform. */
export function tpmPlatform(): Platform<TpmEvidence> {
  return {
    name: 'tpm',
    title: 'TPM 2.0',
    expectations: ['expectedNonce', 'expectedReportData'],
    sniff: sniffTpmEvidence,
    parse: parseTpmEvidence,
    verify: (evidence, context) =>
      evidence.azure === undefined
        ? verifyTpmQuote(evidence, context)
        : verifyAzureVtpm(evidence, evidence.azure, context),
  }
}

export { verifyAzureVtpm } from './azure.js'
export { attestClaims, tpmClaims } from './claims.js'
export { TPM_COLLATERAL_FILES } from './collateral.js'
export {
  TPM_ALG,
  TPM_GENERATED_VALUE,
  TPM_HASHES,
  TPM_ST_ATTEST_QUOTE,
  TPMA_OBJECT,
} from './constants.js'
export {
  type AzureHardware,
  jsonFormOf,
  parseTpmEvidence,
  sniffTpmEvidence,
  type TpmEvidence,
  type TpmInputForm,
} from './evidence.js'
export {
  parseTpm2bPublic,
  parseTpmsAttest,
  parseTpmtSignature,
  type TpmsAttest,
  type TpmsClockInfo,
  type TpmsPcrSelection,
  type TpmtPublic,
  type TpmtSignature,
} from './format.js'
export { type HclReport, parseHclReport } from './hcl-report.js'
export { PCR_COLLATERAL_FILES, type PcrValues, parsePcrFile } from './pcrs.js'
export {
  type AttestationKey,
  encodeEcSpki,
  encodeRsaSpki,
  keyIdentity,
  readAttestationKey,
  spkiOfTpmtPublic,
} from './public-key.js'
export { TPM_CHECKS } from './quote-checks.js'
export { verifyTpmQuote } from './verify.js'
