/**
 * The AMD SEV-SNP platform: attestation reports of versions 2 to 5 from Milan, Genoa and Turin,
 * signed by a VCEK or VLEK, bare, with their certificate table, or inside Azure's HCL report.
 *
 * @module
 */
import type { Platform } from '../../core/platform.js'
import { parseSnpEvidence, type SnpEvidence, sniffSnpEvidence } from './format.js'
import { type SnpVerifyOptions, verifySnpEvidence } from './verify.js'

export { PINNED_ARK_PEM, pinnedArk } from './anchors.js'
export {
  guidToText,
  parseCertificateTable,
  SNP_TABLE_GUIDS,
  type SnpTableEntry,
  type SnpTableEntryKind,
} from './certificate-table.js'
export { snpClaims } from './claims.js'
export {
  KDS_BASE_URL,
  kdsChainUrl,
  kdsCrlUrl,
  kdsHardwareId,
  kdsVcekUrl,
  SNP_COLLATERAL_FILES,
} from './collateral.js'
export {
  parseSnpEvidence,
  parseSnpReport,
  type SnpCpuid,
  type SnpEvidence,
  type SnpFirmwareVersion,
  type SnpReport,
  type SnpSigningKey,
  sniffSnpEvidence,
} from './format.js'
export { type HclEnvelope, parseHclEnvelope } from './hcl.js'
export { type AmdKeyExtensions, readKeyExtensions } from './key-extensions.js'
export {
  decodeTcb,
  productFromCpuid,
  productFromName,
  SNP_PRODUCTS,
  type SnpProduct,
  type TcbComponents,
} from './product.js'
export { SNP_CHECKS } from './report-checks.js'
export { SNP_REPORT_LAYOUT, SNP_REPORT_SIZE, SNP_SIGNED_SIZE } from './report-layout.js'
export { rawSnpSignature, type SnpVerifyOptions, verifySnpEvidence } from './verify.js'

/**
 * Creates the SEV-SNP platform. `options.product` names the product of version 2 reports, which
 * carry no CPUID fields. Without it, the VCEK's product name decides.
 */
export function snpPlatform(options: SnpVerifyOptions = {}): Platform<SnpEvidence> {
  return {
    name: 'snp',
    title: 'AMD SEV-SNP',
    expectations: ['expectedReportData'],
    sniff: sniffSnpEvidence,
    parse: parseSnpEvidence,
    verify: (evidence, context) => verifySnpEvidence(evidence, context, options),
  }
}
