/**
 * Comparison of a report's measurement blocks with the reference values of its RIMs, the way
 * NVIDIA's verifier compares them.
 *
 * RIM index `i` names measurement block `i + 1`. Every active RIM measurement must equal one of
 * its values in size and content. The driver RIM and the VBIOS RIM must not both have an active
 * measurement at one index. RIM index 35 (block 36) is not compared when the report's
 * NVDEC0_STATUS reports the video decoder is disabled (0x55), because the GPU then leaves that
 * measurement unset.
 *
 * @see NVIDIA nvtrust, local_gpu_verifier verifier.py (`Verifier.verify`,
 *   `generate_golden_measurement_list`)
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import type { NvidiaReport } from './format.js'
import { NVDEC0_DISABLED } from './opaque-data.js'
import type { NvidiaRim, RimMeasurement } from './rim.js'

/** The RIM index of the measurement that depends on NVDEC0. */
export const NVDEC0_MEASUREMENT_INDEX = 35

/** A block whose value equals none of its reference values. */
export interface MeasurementMismatch {
  /** The report's block index (RIM index plus one). */
  readonly block: number
  /** The block's value as hex, or undefined when the report has no such block. */
  readonly actual: string | undefined
  readonly expected: readonly string[]
}

/** Outcome of comparing the report with its RIMs. */
export interface MeasurementComparison {
  /** Block indexes that matched. */
  readonly matched: readonly number[]
  readonly mismatches: readonly MeasurementMismatch[]
  /** RIM indexes active in more than one RIM. */
  readonly conflicts: readonly number[]
  /** Block indexes not compared (the NVDEC0 measurement of a GPU whose decoder is disabled). */
  readonly skipped: readonly number[]
}

function matches(measurement: RimMeasurement, value: Uint8Array | undefined): boolean {
  if (value === undefined || value.length !== measurement.size) return false

  return measurement.values.some((candidate) => bytesEqual(candidate, value))
}

/**
 * Compares every active measurement of the given RIMs with the report's blocks. Pure: the RIMs'
 * signatures must be verified before their values mean anything.
 */
export function compareMeasurements(
  report: NvidiaReport,
  rims: readonly NvidiaRim[],
): MeasurementComparison {
  const active = new Map<number, RimMeasurement>()
  const conflicts: number[] = []
  for (const rim of rims) {
    for (const measurement of rim.measurements) {
      if (!measurement.active) continue
      if (active.has(measurement.index)) conflicts.push(measurement.index)
      active.set(measurement.index, measurement)
    }
  }
  const nvdecDisabled = report.response.opaqueData.nvdec0Status === NVDEC0_DISABLED
  const values = new Map(report.response.blocks.map((block) => [block.index, block.value]))
  const matched: number[] = []
  const mismatches: MeasurementMismatch[] = []
  const skipped: number[] = []
  for (const [index, measurement] of [...active].sort(([a], [b]) => a - b)) {
    const block = index + 1
    if (index === NVDEC0_MEASUREMENT_INDEX && nvdecDisabled) {
      skipped.push(block)
      continue
    }
    const value = values.get(block)
    if (matches(measurement, value)) {
      matched.push(block)
      continue
    }
    mismatches.push({
      block,
      actual: value === undefined ? undefined : toHex(value),
      expected: measurement.values.map(toHex),
    })
  }

  return { matched, mismatches, conflicts, skipped }
}
