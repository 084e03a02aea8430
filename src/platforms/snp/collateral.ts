/**
 * Collateral of SEV-SNP verification: the files a collateral bundle keeps beside the report, and
 * the URLs where AMD's Key Distribution Service (KDS) serves them. Nothing here fetches.
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { SnpReport } from './format.js'
import { type SnpProduct, tcbLayout } from './product.js'

/** Base URL of AMD's Key Distribution Service. */
export const KDS_BASE_URL = 'https://kdsintf.amd.com'

/** Base names a collateral bundle may give each file under. */
export const SNP_COLLATERAL_FILES = {
  vcek: ['vcek.der', 'vcek.pem'],
  vlek: ['vlek.der', 'vlek.pem'],
  /** ASK then ARK, as KDS `cert_chain` returns them for VCEKs. */
  vcekChain: ['ask_ark.pem', 'cert_chain.pem'],
  /** ASVK then ARK, for VLEKs. */
  vlekChain: ['asvk_ark.pem', 'cert_chain.pem'],
  /** A configfs-tsm `auxblob`: a certificate table. */
  certificateTable: ['auxblob', 'auxblob.bin'],
} as const

/** Base names of CRL files: any name containing `crl`, such as `crl.der` or `ark.crl`. */
export const SNP_CRL_FILE_PATTERN = /^(?!.*issuer_chain).*crl.*\.(der|pem|crl)$/i

/** Returns the hwID of a KDS VCEK URL: all of CHIP_ID, or its first 8 bytes on Turin. */
export function kdsHardwareId(report: SnpReport, product: SnpProduct): string {
  return toHex(product === 'Turin' ? report.chipId.subarray(0, 8) : report.chipId)
}

/**
 * Returns the KDS URL of the VCEK that signs this report: the product, the hwID and each SPL of
 * REPORTED_TCB (the TCB the VCEK certifies, not CURRENT_TCB). Returns undefined when the host
 * masked CHIP_ID (MASK_CHIP_KEY), since the hwID is then unknown.
 */
export function kdsVcekUrl(report: SnpReport, product: SnpProduct): string | undefined {
  if (report.maskChipKey) return undefined
  const query = tcbLayout(product)
    .map((entry, index) => ({ entry, value: report.reportedTcb[index] ?? 0 }))
    .filter(({ entry }) => entry.name !== 'reserved')
    .map(({ entry, value }) => `${entry.extension}=${value}`)

  return `${KDS_BASE_URL}/vcek/v1/${product}/${kdsHardwareId(report, product)}?${query.join('&')}`
}

/** Returns the KDS URL of the ASK+ARK (VCEK) or ASVK+ARK (VLEK) chain of a product. */
export function kdsChainUrl(product: SnpProduct, key: 'vcek' | 'vlek'): string {
  return `${KDS_BASE_URL}/${key}/v1/${product}/cert_chain`
}

/** Returns the KDS URL of the ARK-signed CRL of a product. */
export function kdsCrlUrl(product: SnpProduct, key: 'vcek' | 'vlek'): string {
  return `${KDS_BASE_URL}/${key}/v1/${product}/crl`
}
