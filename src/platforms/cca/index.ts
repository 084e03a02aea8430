/**
 * Arm CCA: attestation tokens of realms, a platform token signed by the CPAK and a realm token
 * signed by the RAK, bound together by the RAK's hash.
 *
 * @module
 */
import type { Platform } from '../../core/platform.js'
import { type CcaToken, parseCcaToken, sniffCcaToken } from './format.js'
import { verifyCcaToken } from './verify.js'

/** Creates the Arm CCA platform. */
export function ccaPlatform(): Platform<CcaToken> {
  return {
    name: 'cca',
    title: 'Arm CCA',
    expectations: ['expectedNonce', 'expectedReportData'],
    sniff: sniffCcaToken,
    parse: parseCcaToken,
    verify: verifyCcaToken,
  }
}

export { ccaClaims, isDebugLifecycle, LIFECYCLE_STATES, lifecycleState } from './claims.js'
export {
  CCA_CMW_COLLECTION_TAG,
  CCA_PLATFORM_TOKEN_LABEL,
  CCA_REALM_TOKEN_LABEL,
  CCA_TOKEN_TAG,
  type CcaPlatformClaims,
  type CcaRealmClaims,
  type CcaSignedToken,
  type CcaSoftwareComponent,
  type CcaToken,
  PLATFORM_CLAIMS,
  parseCcaToken,
  parsePlatformClaims,
  parseRealmClaims,
  REALM_CLAIMS,
  sniffCcaToken,
} from './format.js'
export { CCA_CHECKS, verifyCcaToken } from './verify.js'
