/**
 * Collateral of NVIDIA GPU verification: the files a collateral bundle contains beside the report,
 * and where NVIDIA serves them. Nothing here fetches.
 *
 * - `cert_chain.pem`: the GPU's device certificate chain, leaf first. The GPU returns it with the
 *   report (NVIDIA's tools write it beside `attestation_report.hex`); the root at its end may be
 *   left out.
 * - RIMs (`*.swidtag`, or `*.xml`): the signed reference values of the driver and the VBIOS.
 *   NVIDIA's RIM service serves each by a file ID derived from the report (`driverRimId`,
 *   `vbiosRimId`).
 * - OCSP: NVIDIA's responder reports the status of the device and RIM certificates. Certificates name it in their
 *   authority information access, and a caller may name another (see ocsp-client.ts).
 *
 * @module
 */
import type { NvidiaReport } from './format.js'

/** Base names a bundle may give the device certificate chain under. */
export const NVIDIA_CHAIN_FILES: readonly string[] = ['cert_chain.pem', 'gpu_cert_chain.pem']

/** Base names of RIM files in a bundle. */
export const NVIDIA_RIM_FILE_PATTERN = /\.(swidtag|xml)$/i

/** NVIDIA's RIM service: a GET of this base followed by a file ID returns that RIM as JSON. */
export const NVIDIA_RIM_SERVICE_URL = 'https://rim.attestation.nvidia.com/v1/rim/'

/** NVIDIA's OCSP responder for device and RIM certificates. */
export const NVIDIA_OCSP_URL = 'https://ocsp.ndis.nvidia.com/'

/**
 * Returns the RIM service's file ID of the driver RIM for a Hopper report,
 * `NV_GPU_DRIVER_GH100_<driver version>`, or undefined when the report names no driver version.
 */
export function driverRimId(report: NvidiaReport): string | undefined {
  const version = report.response.opaqueData.driverVersion
  return version === undefined ? undefined : `NV_GPU_DRIVER_GH100_${version}`
}

/**
 * Returns the RIM service's file ID of the VBIOS RIM,
 * `NV_GPU_VBIOS_<project>_<project SKU>_<chip SKU>_<VBIOS version without dots>` in upper case,
 * or undefined when the report lacks one of those fields.
 */
export function vbiosRimId(report: NvidiaReport): string | undefined {
  const { project, projectSku, chipSku, vbiosVersion } = report.response.opaqueData
  if (
    project === undefined ||
    projectSku === undefined ||
    chipSku === undefined ||
    vbiosVersion === undefined
  ) {
    return undefined
  }
  const version = vbiosVersion.replaceAll('.', '')

  return `NV_GPU_VBIOS_${project}_${projectSku}_${chipSku}_${version}`.toUpperCase()
}
