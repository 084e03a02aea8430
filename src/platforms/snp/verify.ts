/**
 * Verification of SEV-SNP evidence, each step a named check. The checks cover the product, the
 * signing key, the report signature and the VCEK (or VLEK) chain to the pinned AMD root key. They
 * go on with the certificate's TCB and chip extensions, the DEBUG policy bit, the expected report
 * data and, for HCL reports, the binding of the runtime data.
 *
 * @module
 */
import { bytesEqual, isAllZero, toHex } from '../../core/bytes.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { VerificationResult } from '../../core/types.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { publicKeyOf, verifyChain } from '../../pki/chain.js'
import { pinnedArk } from './anchors.js'
import { snpClaims } from './claims.js'
import { kdsChainUrl } from './collateral.js'
import type { SnpEvidence, SnpReport } from './format.js'
import { type KeyMaterial, loadKeyMaterial, type SigningCertificate } from './key-material.js'
import type { SnpProduct } from './product.js'
import {
  checkChipId,
  checkDebug,
  checkProduct,
  checkReportData,
  checkReportedTcb,
  checkSigningKey,
  keyName,
  SNP_CHECKS,
} from './report-checks.js'

/** Options of the SEV-SNP platform itself, beside the per-call VerifyContext. */
export interface SnpVerifyOptions {
  /**
   * The product that made version 2 reports, which carry no CPUID fields. Absent: taken from the
   * VCEK's product name. Version 3 and later reports name their product, so a different value
   * here fails the product check.
   */
  readonly product?: SnpProduct
}

/** Size of a P-384 scalar. The report stores R and S in 72-byte little-endian fields. */
const P384_SCALAR_SIZE = 48

/**
 * Converts the report's little-endian R and S to the big-endian r‖s that ECDSA verifiers take.
 * Returns undefined when a value does not fit in 48 bytes, which no valid signature does.
 */
export function rawSnpSignature(report: SnpReport): Uint8Array | undefined {
  const out = new Uint8Array(P384_SCALAR_SIZE * 2)
  for (const [index, field] of [report.signatureR, report.signatureS].entries()) {
    if (!isAllZero(field.subarray(P384_SCALAR_SIZE))) return undefined
    for (let i = 0; i < P384_SCALAR_SIZE; i++) {
      out[index * P384_SCALAR_SIZE + P384_SCALAR_SIZE - 1 - i] = field[i] ?? 0
    }
  }
  return out
}

async function checkSignature(
  checks: CheckList,
  report: SnpReport,
  signing: SigningCertificate | undefined,
  context: VerifyContext,
): Promise<void> {
  const name = SNP_CHECKS.signature
  if (signing === undefined) {
    checks.skip(name, `needs the ${keyName(report.signingKey)} certificate`)
    return
  }
  const key = await publicKeyOf(signing.certificate, context.crypto, context.cache)
  const holder = `the key of the certificate from ${signing.source}`
  if (key.algorithm !== 'EC' || key.curve !== 'P-384') {
    checks.fail(name, 'ERR_VERIFY_SIGNATURE', `${holder} is not an ECDSA P-384 key`)
    return
  }
  const signature = rawSnpSignature(report)
  const valid =
    signature !== undefined &&
    (await context.crypto.verify(
      { name: 'ECDSA', hash: 'SHA-384' },
      key,
      signature,
      report.signedBytes,
    ))
  if (valid) {
    checks.pass(name, `ECDSA P-384/SHA-384 over bytes 0x000-0x29f verifies with ${holder}`)
  } else {
    checks.fail(
      name,
      'ERR_VERIFY_SIGNATURE',
      `ECDSA P-384/SHA-384 signature does not verify with ${holder}`,
    )
  }
}

/** Returns the CN of a name formatted as `C=US,...,CN=SEV-Milan`, or the whole name. */
function commonName(subject: string): string {
  return /(?:^|,)CN=([^,]*)/.exec(subject)?.[1] ?? subject
}

// Tag for memoPair: a trust anchor decoded from the DER bytes a caller passed.
const PARSED_ANCHOR = {}

async function anchorsFor(
  product: SnpProduct | undefined,
  context: VerifyContext,
): Promise<readonly Certificate[] | undefined> {
  if (context.trustAnchors !== undefined) {
    return Promise.all(
      context.trustAnchors.map((der) =>
        context.cache.memoPair(der, PARSED_ANCHOR, () => parseCertificate(der)),
      ),
    )
  }
  return product === undefined ? undefined : [pinnedArk(product)]
}

/**
 * Checks the chain from the VCEK (or VLEK) through the ASK (or ASVK) to the ARK: signatures,
 * validity at `context.at`, CRLs when given, and that the issuer is the product's ASK or ASVK.
 */
async function checkChain(
  checks: CheckList,
  material: KeyMaterial,
  product: SnpProduct | undefined,
  context: VerifyContext,
): Promise<void> {
  const name = SNP_CHECKS.chain
  const signing = material.signing
  if (signing === undefined) {
    checks.skip(name, 'needs the VCEK or VLEK certificate')
    return
  }
  const key = signing.kind ?? 'vcek'
  const files = key === 'vlek' ? 'asvk_ark.pem' : 'ask_ark.pem'
  if (material.intermediates.length === 0) {
    const where = product === undefined ? '' : `; AMD KDS serves it at ${kdsChainUrl(product, key)}`
    checks.skip(name, `no ${key === 'vlek' ? 'ASVK' : 'ASK'} and ARK given (${files})${where}`)
    return
  }

  const anchors = await anchorsFor(product, context)
  if (anchors === undefined) {
    checks.fail(name, 'ERR_VERIFY_CHAIN', 'the product is unknown, so no pinned ARK applies')
    return
  }
  const result = await verifyChain(signing.certificate, material.intermediates, {
    at: context.at,
    anchors,
    crls: material.crls,
    crypto: context.crypto,
    cache: context.cache,
  })
  if (!result.ok) {
    const names = material.intermediates.map((c) => commonName(c.subject)).join(', ')
    const sources = material.chainSources.join(', ')
    checks.fail(
      name,
      result.code ?? 'ERR_VERIFY_CHAIN',
      `${result.detail} (given: ${names} from ${sources})`,
    )
    return
  }

  const issuer = result.path[1]
  const expectedIssuer = key === 'vlek' ? `SEV-VLEK-${product}` : `SEV-${product}`
  if (
    product !== undefined &&
    issuer !== undefined &&
    commonName(issuer.subject) !== expectedIssuer
  ) {
    checks.fail(
      name,
      'ERR_VERIFY_CHAIN',
      `the ${keyName(key)} is issued by ${commonName(issuer.subject)}, not by ${expectedIssuer}`,
    )
    return
  }

  const stray = material.crls.find(
    (crl) => !result.path.some((certificate) => bytesEqual(certificate.issuerDer, crl.issuerDer)),
  )
  if (stray !== undefined) {
    const detail = `a CRL from "${stray.issuer}" was given, but that CA issued no certificate of this chain`
    checks.fail(name, 'ERR_VERIFY_CRL', detail)
    return
  }

  const revoked = result.revocation.filter((r) => r.checked).map((r) => commonName(r.subject))
  const crlText =
    revoked.length === 0
      ? 'no CRL given, so revocation was not checked'
      : `checked against the CRL for ${revoked.join(', ')}`
  checks.pass(name, `${result.detail}, valid at ${context.at.toISOString()}; ${crlText}`)
}

/** Checks that REPORT_DATA starts with the digest of an HCL report's runtime data. */
async function checkHclRuntimeData(
  checks: CheckList,
  evidence: SnpEvidence,
  context: VerifyContext,
): Promise<void> {
  const hcl = evidence.hcl
  if (hcl === undefined) return
  const digest = await context.crypto.digest(hcl.hashAlgorithm, hcl.variableData)
  const reportData = evidence.report.reportData
  const bound =
    bytesEqual(reportData.subarray(0, digest.length), digest) &&
    isAllZero(reportData.subarray(digest.length))
  const digestName = `${hcl.hashAlgorithm} of the ${hcl.variableData.length}-byte HCL runtime data`
  if (bound) {
    checks.pass(SNP_CHECKS.hclRuntimeData, `REPORT_DATA starts with the ${digestName}`)
  } else {
    checks.fail(
      SNP_CHECKS.hclRuntimeData,
      'ERR_VERIFY_BINDING',
      `REPORT_DATA does not start with the ${digestName} ` +
        `(${toHex(digest).slice(0, 16)}...) followed by zeros`,
    )
  }
}

/**
 * Verifies SEV-SNP evidence at `context.at` and returns every check with the verdict and claims.
 *
 * The checks run in this order:
 * 1. `product`: from CPUID, or for version 2 from the option or the certificate.
 * 2. `signing-key`: the certificate is of the key kind the report names. A VLEK never passes as
 *    a VCEK, and a report that names no key fails.
 * 3. `report-signature`: ECDSA P-384 with SHA-384 over bytes 0 to 0x29F.
 * 4. `certificate-chain`: through the ASK or ASVK to the pinned ARK of the product (or to
 *    `context.trustAnchors`), with CRLs when given.
 * 5. `reported-tcb` and `chip-id`: the certificate's SPL extensions equal REPORTED_TCB byte for
 *    byte, and a VCEK's hwID equals CHIP_ID.
 * 6. `debug`, `report-data` (only with `context.expectedReportData`) and `hcl-runtime-data` (only
 *    for HCL reports).
 * A check that lacks its certificate is skipped, which makes the verdict indeterminate.
 *
 * Does not judge whether the TCB is current, because AMD publishes no TCB status. The
 * measurement, VMPL, mitigation vectors and other policy belong to appraisal.
 *
 * Certificates, extensions, keys and certificate signatures are cached by content in
 * `context.cache`, so a stream of reports from one chip costs one P-384 verification each. The
 * validity and CRL dates are still judged on every call.
 *
 * @throws ParseError when a collateral file cannot be decoded, or ConfigError for expected report
 *   data longer than 64 bytes.
 */
export async function verifySnpEvidence(
  evidence: SnpEvidence,
  context: VerifyContext,
  options: SnpVerifyOptions = {},
): Promise<VerificationResult> {
  const checks = new CheckList()
  const report = evidence.report
  const material = await loadKeyMaterial(evidence, context.collateral, context.cache)
  const signing = material.signing

  const product = checkProduct(checks, report, signing, options.product)
  checkSigningKey(checks, report, signing, product)
  await checkSignature(checks, report, signing, context)
  await checkChain(checks, material, product, context)
  checkReportedTcb(checks, report, signing, product)
  checkChipId(checks, report, signing, product)
  checkDebug(checks, report, context.allowDebug === true)
  checkReportData(checks, report, context.expectedReportData)
  await checkHclRuntimeData(checks, evidence, context)

  return {
    platform: 'snp',
    verdict: checks.verdict(),
    advisories: [],
    claims: snpClaims(evidence, product),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
  }
}
