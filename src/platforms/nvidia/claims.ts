/**
 * Claims of an NVIDIA GPU attestation report.
 *
 * A GPU report has no single launch measurement and no report data, so the neutral `measurement`
 * and `reportData` are absent. The verifier's nonce is `raw.requestNonce`. `tcb` contains the driver
 * and VBIOS versions, which decide the RIMs that apply.
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { Claims, ClaimValue } from '../../core/types.js'
import type { NvidiaReport } from './format.js'
import { NVDEC0_DISABLED, NVDEC0_ENABLED } from './opaque-data.js'

/** Turns `DRIVER_VERSION` into `driverVersion`, the key of a field in `raw.opaqueData`. */
function camelCase(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase())
}

function nvdecText(status: number | undefined): string | null {
  if (status === NVDEC0_ENABLED) return 'enabled'
  if (status === NVDEC0_DISABLED) return 'disabled'
  return status === undefined ? null : `0x${status.toString(16)}`
}

function optional<T extends ClaimValue>(value: T | undefined): T | null {
  return value === undefined ? null : value
}

/**
 * Maps a report to claims. `raw` contains the SPDM fields (`requestNonce`, `responseNonce`, `slotId`,
 * `numberOfBlocks`, `measurementRecordLength`, `opaqueLength`), the measurement values as hex by
 * block index, the decoded opaque values (`driverVersion`, `vbiosVersion`, `fwid`, ...) and every
 * opaque field as hex under `opaqueData`, by NVIDIA's name in camelCase.
 */
export function nvidiaClaims(report: NvidiaReport): Claims {
  const { request, response } = report
  const opaque = response.opaqueData
  const measurements: Record<string, ClaimValue> = {}
  for (const block of response.blocks) measurements[String(block.index)] = toHex(block.value)
  const opaqueFields: Record<string, ClaimValue> = {}
  for (const field of opaque.fields) opaqueFields[camelCase(field.name)] = toHex(field.value)
  const tcb: Record<string, ClaimValue> = {}
  if (opaque.driverVersion !== undefined) tcb.driverVersion = opaque.driverVersion
  if (opaque.vbiosVersion !== undefined) tcb.vbiosVersion = opaque.vbiosVersion

  return {
    platform: 'nvidia',
    tcb,
    raw: {
      spdmVersion: `${request.spdmVersion >> 4}.${request.spdmVersion & 0x0f}`,
      requestNonce: toHex(request.nonce),
      responseNonce: toHex(response.nonce),
      slotId: request.slotId,
      measurementOperation: request.measurementOperation,
      numberOfBlocks: response.numberOfBlocks,
      measurementRecordLength: response.measurementRecordLength,
      opaqueLength: response.opaqueLength,
      measurements,
      driverVersion: optional(opaque.driverVersion),
      vbiosVersion: optional(opaque.vbiosVersion),
      chipSku: optional(opaque.chipSku),
      project: optional(opaque.project),
      projectSku: optional(opaque.projectSku),
      chipInfo: optional(opaque.chipInfo),
      fwid: opaque.fwid === undefined ? null : toHex(opaque.fwid),
      nvdec0Status: nvdecText(opaque.nvdec0Status),
      measurementCounts: optional(opaque.measurementCounts),
      opaqueData: opaqueFields,
      trailingBytes: report.trailingBytes,
    },
  }
}
