/**
 * The checks of an SEV-SNP verification that need no crypto. They decide the product that made
 * the report and whether the certificate is for the key the report names. They compare the
 * certificate's extensions with REPORTED_TCB and CHIP_ID, and judge the DEBUG policy bit and the
 * report data.
 *
 * @module
 */
import { bytesEqual, isAllZero, toHex } from '../../core/bytes.js'
import { ConfigError } from '../../core/errors.js'
import type { CheckList } from '../../core/result.js'
import { kdsChainUrl, kdsVcekUrl } from './collateral.js'
import type { SnpReport, SnpSigningKey } from './format.js'
import type { SigningCertificate } from './key-material.js'
import { productFromName, type SnpProduct, tcbLayout } from './product.js'

/** Names of the checks, in the order they run. */
export const SNP_CHECKS = {
  product: 'product',
  signingKey: 'signing-key',
  signature: 'report-signature',
  chain: 'certificate-chain',
  reportedTcb: 'reported-tcb',
  chipId: 'chip-id',
  debug: 'debug',
  reportData: 'report-data',
  hclRuntimeData: 'hcl-runtime-data',
} as const

const SIGNING_KEY_CODES: Readonly<Record<SnpSigningKey, number>> = { vcek: 0, vlek: 1, none: 7 }
const POLICY_DEBUG_BIT = 19n
const REPORT_DATA_SIZE = 64

/** Formats a signing key for messages: VCEK, VLEK, or "signing key" when none is known. */
export function keyName(key: SnpSigningKey | undefined): string {
  return key === undefined || key === 'none' ? 'signing key' : key.toUpperCase()
}

function hex8(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`
}

function shortHex(bytes: Uint8Array): string {
  const text = toHex(bytes)
  return text.length > 24 ? `${text.slice(0, 16)}...${text.slice(-8)}` : text
}

/** Outcome of deciding the product: the product and its source, or why it is unknown. */
type ProductDecision =
  | { readonly product: SnpProduct; readonly source: string; readonly fromCertificate: boolean }
  | { readonly product: undefined; readonly skip?: string; readonly fail?: string }

function decideProduct(
  report: SnpReport,
  certificateName: string | undefined,
  key: string,
  productOption: SnpProduct | undefined,
): ProductDecision {
  if (report.cpuid !== undefined) {
    const { family, model, stepping } = report.cpuid
    const cpuid = `family ${hex8(family)}, model ${hex8(model)}, stepping ${hex8(stepping)}`
    const source = `the report's CPUID (${cpuid})`
    if (report.cpuidProduct === undefined) {
      return {
        product: undefined,
        fail: `${source} is not a product confide supports (Milan, Genoa, Turin)`,
      }
    }
    return { product: report.cpuidProduct, source, fromCertificate: false }
  }
  const noCpuid = 'version 2 reports carry no CPUID'
  if (productOption !== undefined) {
    return {
      product: productOption,
      source: `the product option (${noCpuid})`,
      fromCertificate: false,
    }
  }
  const fromName = certificateName === undefined ? undefined : productFromName(certificateName)
  if (fromName !== undefined) {
    const source = `the ${key} product name ${certificateName} (${noCpuid})`
    return { product: fromName, source, fromCertificate: true }
  }
  const reason =
    certificateName === undefined
      ? 'give the VCEK certificate or the product (Milan, Genoa, Turin)'
      : `the ${key} product name ${certificateName} is not a supported product`

  return { product: undefined, skip: `${noCpuid}, so ${reason}` }
}

/**
 * Decides the product from the CPUID fields (version 3 and later), else from `productOption`,
 * else from the certificate's product name. A certificate for another product fails the check,
 * and so does a product option that contradicts the CPUID fields.
 */
export function checkProduct(
  checks: CheckList,
  report: SnpReport,
  signing: SigningCertificate | undefined,
  productOption: SnpProduct | undefined,
): SnpProduct | undefined {
  const name = SNP_CHECKS.product
  const key = keyName(signing?.kind)
  const certificateName = signing?.extensions.productName
  const decision = decideProduct(report, certificateName, key, productOption)
  if (decision.product === undefined) {
    if (decision.fail !== undefined)
      checks.fail(name, 'ERR_PARSE_UNSUPPORTED_TEE_TYPE', decision.fail)
    else checks.skip(name, decision.skip ?? 'the product is unknown')
    return undefined
  }

  const { product, source } = decision
  const detail = `${product} from ${source}`
  if (productOption !== undefined && productOption !== product) {
    checks.fail(name, 'ERR_CONFIG_INVALID', `${detail}, but the product option is ${productOption}`)
  } else if (certificateName !== undefined && productFromName(certificateName) !== product) {
    checks.fail(
      name,
      'ERR_COLLATERAL_MISMATCH',
      `${detail}, but the ${key} is for ${certificateName}`,
    )
  } else if (certificateName !== undefined && !decision.fromCertificate) {
    checks.pass(name, `${detail}, and the ${key} is for ${certificateName}`)
  } else {
    checks.pass(name, detail)
  }

  return product
}

/** Describes the missing VCEK or VLEK and where to get it. */
export function missingCertificateDetail(
  report: SnpReport,
  product: SnpProduct | undefined,
): string {
  if (report.signingKey === 'vlek') {
    const chain =
      product === undefined
        ? ''
        : ` (AMD KDS serves the ASVK chain at ${kdsChainUrl(product, 'vlek')})`
    const missing = 'no VLEK certificate given (vlek.der, or a VLEK certificate table entry)'
    return `${missing}; the cloud provider supplies VLEKs${chain}`
  }
  const prefix = 'no VCEK certificate given (vcek.der, or a VCEK certificate table entry)'
  if (product === undefined) return `${prefix}; the product is unknown, so its AMD KDS URL is too`
  const url = kdsVcekUrl(report, product)
  if (url === undefined)
    return `${prefix}; MASK_CHIP_KEY hides CHIP_ID, so ask the host for the VCEK`

  return `${prefix}; AMD KDS serves it at ${url}`
}

/** Checks that the certificate given is of the kind the report's SIGNING_KEY names. */
export function checkSigningKey(
  checks: CheckList,
  report: SnpReport,
  signing: SigningCertificate | undefined,
  product: SnpProduct | undefined,
): void {
  const name = SNP_CHECKS.signingKey
  const code = SIGNING_KEY_CODES[report.signingKey]
  if (report.signingKey === 'none') {
    checks.fail(
      name,
      'ERR_VERIFY_SIGNATURE',
      'KEY_INFO.SIGNING_KEY is 7: no key signed this report',
    )
    return
  }
  if (signing === undefined) {
    checks.skip(name, missingCertificateDetail(report, product))
    return
  }
  const named = `${keyName(report.signingKey)} (SIGNING_KEY ${code})`
  if (signing.kind !== report.signingKey) {
    const actual =
      signing.kind === undefined ? 'neither a VCEK nor a VLEK' : `a ${keyName(signing.kind)}`
    checks.fail(
      name,
      'ERR_VERIFY_BINDING',
      `the report names the ${named}, but the certificate from ${signing.source} ` +
        `("${signing.certificate.subject}") is ${actual}`,
    )
    return
  }
  checks.pass(name, `the report names the ${named}; the certificate from ${signing.source} is one`)
}

function tcbMismatches(
  report: SnpReport,
  signing: SigningCertificate,
  product: SnpProduct,
): { mismatches: string[]; summary: string[] } {
  const layout = tcbLayout(product)
  const certified = signing.extensions.spl
  const key = keyName(signing.kind)
  const mismatches: string[] = []
  const summary: string[] = []
  layout.forEach((entry, index) => {
    const reported = report.reportedTcb[index] ?? 0
    const value = certified.get(entry.oid)
    if (entry.name === 'reserved') {
      if (reported !== 0) mismatches.push(`reserved byte ${index} is ${reported}, not 0`)
      if (value !== undefined && value !== 0) {
        mismatches.push(`the ${key}'s reserved ${entry.extension} is ${value}, not 0`)
      }
    } else if (value === undefined) {
      mismatches.push(`the ${key} has no ${entry.extension} extension`)
    } else if (value !== reported) {
      mismatches.push(
        `${entry.name} is ${reported} but the ${key}'s ${entry.extension} is ${value}`,
      )
    } else {
      summary.push(`${entry.name} ${reported}`)
    }
  })
  const known = new Set(layout.map((entry) => entry.oid))
  for (const oid of certified.keys()) {
    if (!known.has(oid))
      mismatches.push(`the ${key} has SPL ${oid}, which ${product} does not define`)
  }
  return { mismatches, summary }
}

/**
 * Checks that the certificate's SPL extensions equal REPORTED_TCB byte for byte, in the product's
 * TCB layout. The VCEK certifies REPORTED_TCB, never CURRENT_TCB.
 */
export function checkReportedTcb(
  checks: CheckList,
  report: SnpReport,
  signing: SigningCertificate | undefined,
  product: SnpProduct | undefined,
): void {
  const name = SNP_CHECKS.reportedTcb
  if (signing === undefined) {
    checks.skip(name, `needs the ${keyName(report.signingKey)} certificate`)
    return
  }
  if (product === undefined) {
    checks.fail(
      name,
      'ERR_PARSE_UNSUPPORTED_TEE_TYPE',
      'the TCB layout is unknown without the product',
    )
    return
  }
  if (signing.extensions.problems.length > 0) {
    checks.fail(name, 'ERR_PARSE_CERTIFICATE', signing.extensions.problems.join('; '))
    return
  }
  const { mismatches, summary } = tcbMismatches(report, signing, product)
  const tcb = `REPORTED_TCB ${toHex(report.reportedTcb)}`
  if (mismatches.length > 0) {
    checks.fail(name, 'ERR_VERIFY_BINDING', `${tcb} (${product} layout): ${mismatches.join('; ')}`)
    return
  }
  checks.pass(name, `${tcb} (${summary.join(', ')}) equals the ${keyName(signing.kind)}'s SPLs`)
}

/** Checks that a VCEK's hwID is the report's CHIP_ID: all 64 bytes, or the first 8 on Turin. */
export function checkChipId(
  checks: CheckList,
  report: SnpReport,
  signing: SigningCertificate | undefined,
  product: SnpProduct | undefined,
): void {
  const name = SNP_CHECKS.chipId
  if (signing === undefined) {
    checks.skip(name, `needs the ${keyName(report.signingKey)} certificate`)
    return
  }
  // A VLEK belongs to a cloud provider, not a chip, and carries no hwID to compare.
  if (signing.kind === 'vlek') return
  if (report.maskChipKey) {
    checks.pass(name, 'MASK_CHIP_KEY is set, so CHIP_ID is zero and not compared with the hwID')
    return
  }
  const hwId = signing.extensions.hwId
  if (hwId === undefined) {
    checks.fail(name, 'ERR_VERIFY_BINDING', `the certificate from ${signing.source} has no hwID`)
    return
  }

  let size = hwId.length
  if (product === 'Turin') size = 8
  else if (product !== undefined) size = 64
  const matches =
    hwId.length === size &&
    bytesEqual(hwId, report.chipId.subarray(0, size)) &&
    isAllZero(report.chipId.subarray(size))
  if (!matches) {
    checks.fail(
      name,
      'ERR_VERIFY_BINDING',
      `CHIP_ID ${shortHex(report.chipId)} is not the VCEK's ` +
        `${hwId.length}-byte hwID ${shortHex(hwId)}`,
    )
    return
  }
  checks.pass(name, `CHIP_ID equals the VCEK's ${size}-byte hwID ${shortHex(hwId)}`)
}

/** Fails a report whose POLICY allows debugging, unless the caller allows debug. */
export function checkDebug(checks: CheckList, report: SnpReport, allowDebug: boolean): void {
  const name = SNP_CHECKS.debug
  if (((report.policy >> POLICY_DEBUG_BIT) & 1n) === 0n) {
    checks.pass(name, 'POLICY.DEBUG is 0')
    return
  }
  const risk = 'POLICY.DEBUG is 1: the host can read and change guest memory'
  if (allowDebug) checks.pass(name, `${risk}; accepted because allowDebug is set`)
  else checks.fail(name, 'ERR_VERIFY_DEBUG', `${risk}; allow debug (--allow-debug) to accept it`)
}

/**
 * Compares all 64 bytes of REPORT_DATA with the expected value, zero-padded on the right. Adds no
 * check when nothing is expected.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the expected value is longer than 64 bytes.
 */
export function checkReportData(
  checks: CheckList,
  report: SnpReport,
  expected: Uint8Array | undefined,
): void {
  if (expected === undefined) return
  if (expected.length > REPORT_DATA_SIZE) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `expected report data is ${expected.length} bytes, but SEV-SNP REPORT_DATA holds ` +
        `${REPORT_DATA_SIZE}: pass at most ${REPORT_DATA_SIZE} bytes`,
    )
  }
  const padded = new Uint8Array(REPORT_DATA_SIZE)
  padded.set(expected)
  const name = SNP_CHECKS.reportData
  if (bytesEqual(padded, report.reportData)) {
    checks.pass(name, `REPORT_DATA equals the expected ${shortHex(padded)}`)
  } else {
    checks.fail(
      name,
      'ERR_VERIFY_REPORT_DATA',
      `REPORT_DATA ${shortHex(report.reportData)} is not the expected ${shortHex(padded)}`,
    )
  }
}
