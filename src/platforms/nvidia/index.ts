/**
 * The NVIDIA confidential GPU platform (Hopper H100 and H200): SPDM 1.1 attestation reports signed
 * by the GPU, its device certificate chain to the NVIDIA Device Identity CA, reference values from
 * NVIDIA's signed RIMs, and OCSP for both chains.
 *
 * @module
 */
import type { Platform } from '../../core/platform.js'
import { type NvidiaReport, parseNvidiaReport, sniffNvidiaReport } from './format.js'
import { type NvidiaVerifyOptions, verifyNvidiaReport } from './verify.js'

export {
  NVIDIA_DEVICE_ROOT_PEM,
  NVIDIA_DEVICE_ROOT_SHA256,
  NVIDIA_RIM_ROOT_PEM,
  NVIDIA_RIM_ROOT_SHA256,
  pinnedDeviceRoot,
  pinnedRimRoot,
} from './anchors.js'
export { nvidiaClaims } from './claims.js'
export {
  driverRimId,
  NVIDIA_CHAIN_FILES,
  NVIDIA_OCSP_URL,
  NVIDIA_RIM_FILE_PATTERN,
  NVIDIA_RIM_SERVICE_URL,
  vbiosRimId,
} from './collateral.js'
export { NVIDIA_CHECKS } from './device-checks.js'
export {
  type GetMeasurementsRequest,
  type MeasurementsResponse,
  type NvidiaReport,
  parseNvidiaReport,
  type SpdmMeasurementBlock,
  sniffNvidiaReport,
} from './format.js'
export { certificateFwids, type Fwid, TCG_DICE_FWID_OID } from './fwid.js'
export { MAX_REPORT_SIZE, REQUEST_SIZE, SIGNATURE_SIZE } from './layout.js'
export {
  compareMeasurements,
  type MeasurementComparison,
  type MeasurementMismatch,
} from './measurements.js'
export { bundleOcspClient, NVIDIA_OCSP_FILE_PATTERN, ocspFileName } from './ocsp-bundle.js'
export {
  createOcspClient,
  type FetchLike,
  type OcspClient,
  type OcspClientOptions,
  type OcspOutcome,
  ocspUrlOf,
} from './ocsp-client.js'
export {
  formatVbiosVersion,
  type NvidiaOpaqueData,
  OPAQUE_FIELD_TYPES,
  type OpaqueField,
  parseOpaqueData,
} from './opaque-data.js'
export { type NvidiaRim, parseNvidiaRim, type RimMeasurement } from './rim.js'
export { type RimVerification, verifyRimSignature } from './rim-signature.js'
export { type NvidiaVerifyOptions, verifyNvidiaReport } from './verify.js'

/**
 * Creates the NVIDIA GPU platform. Without `options.ocsp` it never uses the network, and the two
 * OCSP checks are skipped.
 */
export function nvidiaPlatform(options: NvidiaVerifyOptions = {}): Platform<NvidiaReport> {
  return {
    name: 'nvidia',
    title: 'NVIDIA confidential GPU',
    expectations: ['expectedNonce'],
    sniff: sniffNvidiaReport,
    parse: parseNvidiaReport,
    verify: (report, context) => verifyNvidiaReport(report, context, options),
  }
}
