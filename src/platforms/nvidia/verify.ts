/**
 * Verification of an NVIDIA GPU attestation report, each step a named check.
 *
 * @module
 */
import { ConfigError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { VerificationResult } from '../../core/types.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { loadDeviceChain, loadRims } from './bundle.js'
import { nvidiaClaims } from './claims.js'
import {
  checkDeviceChain,
  checkFwid,
  checkNonce,
  checkSpdmSignature,
  NVIDIA_CHECKS,
} from './device-checks.js'
import type { NvidiaReport } from './format.js'
import { bundleOcspClient, hasOcspResponses } from './ocsp-bundle.js'
import type { OcspClient } from './ocsp-client.js'
import { checkRevocation, type RevocationTarget, revocationTargets } from './revocation.js'
import { checkMeasurements, checkRim, rimAnchors, type VerifiedRim } from './rim-checks.js'

/** Options of the NVIDIA platform itself, beside the per-call VerifyContext. */
export interface NvidiaVerifyOptions {
  /**
   * The OCSP client that checks the device and RIM chains. Absent: the OCSP responses of the
   * collateral bundle (`ocsp_<serial>.der`) are read, judged at `context.at`; without any, the
   * `device-ocsp` and `rim-ocsp` checks are skipped with "revocation was not checked".
   */
  readonly ocsp?: OcspClient
  /**
   * DER roots replacing the pinned NVIDIA CoRIM signing Root CA for RIM signing chains. Absent:
   * the pinned root. (`context.trustAnchors` replaces the device root only.)
   */
  readonly rimTrustAnchors?: readonly Uint8Array[]
}

/**
 * Index of the first device certificate whose revocation status is queried, as in NVIDIA's
 * verifier. The leaf is made on the GPU at boot, so no OCSP responder has a status for it.
 */
const FIRST_DEVICE_CERTIFICATE_CHECKED = 1

function rimRevocationTargets(verified: readonly VerifiedRim[]): RevocationTarget[] {
  return verified.flatMap(({ path }) => revocationTargets(path, 0))
}

/**
 * Verifies a GPU attestation report at `context.at` and returns every check with the verdict and
 * claims. The collateral bundle supplies `cert_chain.pem` (leaf first) and the RIMs.
 *
 * The checks run in this order:
 * 1. `spdm-signature`: ECDSA P-384/SHA-384 over request ‖ response-without-signature, with the
 *    key of the chain's first certificate.
 * 2. `device-chain`: from that certificate to the pinned NVIDIA Device Identity CA (or
 *    `context.trustAnchors`), valid at `context.at`.
 * 3. `fwid`: the signing certificate carries an FWID, equal to the report's when it has one.
 * 4. `nonce`: only with `context.expectedNonce`, compared with the request's nonce.
 * 5. `device-ocsp`: the chain's certificates after the leaf, below the root, through `options.ocsp`.
 * 6. `driver-rim` and `vbios-rim`: the RIM whose version equals the report's driver or VBIOS
 *    version, its XML signature and its chain to the pinned CoRIM signing Root CA.
 * 7. `rim-ocsp`: the RIM signing chains below the root.
 * 8. `measurements`: every active measurement of the verified RIMs against the report's blocks.
 * A check that lacks its collateral is skipped, which makes the verdict indeterminate.
 *
 * Does not judge whether the driver or VBIOS version is current; that belongs to appraisal.
 *
 * @throws ParseError when a collateral file cannot be decoded, or ConfigError for an invalid
 *   `context.at`, an expected nonce that is not 32 bytes, or expected report data or user data.
 */
export async function verifyNvidiaReport(
  report: NvidiaReport,
  context: VerifyContext,
  options: NvidiaVerifyOptions = {},
): Promise<VerificationResult> {
  if (Number.isNaN(context.at.getTime())) {
    throw new ConfigError('ERR_CONFIG_INVALID', 'the verification time is not a valid date')
  }
  if (context.expectedReportData !== undefined || context.expectedUserData !== undefined) {
    const message =
      'NVIDIA GPU reports carry no report data or user data; expect the nonce instead (expectedNonce)'
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  const checks = new CheckList()
  const chain = await loadDeviceChain(context.collateral, context.cache)
  const rims = await loadRims(context.collateral, context.cache)
  const ocsp =
    options.ocsp ??
    (context.collateral !== undefined && hasOcspResponses(context.collateral)
      ? bundleOcspClient(context.collateral, context.at, context.cache)
      : undefined)

  await checkSpdmSignature(checks, report, chain, context)
  const path = await checkDeviceChain(checks, chain, context)
  checkFwid(checks, report, chain)
  checkNonce(checks, report, context.expectedNonce)
  if (path === undefined) {
    checks.skip(NVIDIA_CHECKS.deviceRevocation, 'needs a verified device certificate chain')
  } else {
    const targets = revocationTargets(path.path, FIRST_DEVICE_CERTIFICATE_CHECKED)
    await checkRevocation(checks, NVIDIA_CHECKS.deviceRevocation, targets, ocsp, context.crypto)
  }

  const anchors = rimAnchors(
    options.rimTrustAnchors?.map((der): Certificate => parseCertificate(der)),
  )
  const opaque = report.response.opaqueData
  const verified: VerifiedRim[] = []
  for (const [kind, version] of [
    ['driver', opaque.driverVersion],
    ['VBIOS', opaque.vbiosVersion],
  ] as const) {
    const rim = await checkRim(checks, kind, version, rims, anchors, context)
    if (rim !== undefined) verified.push(rim)
  }
  if (verified.length === 0) {
    checks.skip(NVIDIA_CHECKS.rimRevocation, 'needs a verified RIM')
  } else {
    const targets = rimRevocationTargets(verified)
    await checkRevocation(checks, NVIDIA_CHECKS.rimRevocation, targets, ocsp, context.crypto)
  }
  checkMeasurements(checks, report, verified)

  return {
    platform: 'nvidia',
    verdict: checks.verdict(),
    advisories: [],
    claims: nvidiaClaims(report),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
  }
}
