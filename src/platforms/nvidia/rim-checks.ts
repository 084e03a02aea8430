/**
 * The reference-value checks of a GPU report: choosing the driver RIM and the VBIOS RIM whose
 * versions equal the report's, verifying each, and comparing the measurements with them.
 *
 * "No RIM for this version" skips a check, which makes the verdict indeterminate: the evidence
 * could not be judged against reference values. A RIM that does not verify, or measurements that
 * differ from a verified RIM, fail a check, which makes the verdict invalid.
 *
 * @module
 */
import type { VerifyContext } from '../../core/platform.js'
import type { CheckList } from '../../core/result.js'
import type { Certificate } from '../../pki/certificate.js'
import { pinnedRimRoot } from './anchors.js'
import type { RimFile } from './bundle.js'
import { NVIDIA_CHECKS } from './device-checks.js'
import type { NvidiaReport } from './format.js'
import { compareMeasurements } from './measurements.js'
import { verifyRimSignature } from './rim-signature.js'

/** A RIM whose signature and chain verified. */
export interface VerifiedRim {
  readonly file: string
  readonly kind: 'driver' | 'VBIOS'
  readonly rim: RimFile['rim']
  /** The signing path, signer first and anchor last. */
  readonly path: readonly Certificate[]
}

function listGiven(rims: readonly RimFile[]): string {
  if (rims.length === 0) return 'no RIM was given (*.swidtag)'
  return `RIMs given: ${rims.map(({ file, rim }) => `${file} (${rim.version})`).join(', ')}`
}

/**
 * Chooses the RIM whose colloquialVersion equals `version` (ignoring case), verifies it, and adds
 * the check `name`. Returns the RIM when it verified.
 */
export async function checkRim(
  checks: CheckList,
  kind: VerifiedRim['kind'],
  version: string | undefined,
  rims: readonly RimFile[],
  anchors: readonly Certificate[],
  context: VerifyContext,
): Promise<VerifiedRim | undefined> {
  const name = kind === 'driver' ? NVIDIA_CHECKS.driverRim : NVIDIA_CHECKS.vbiosRim
  if (version === undefined) {
    checks.skip(name, `the report names no ${kind} version, so no ${kind} RIM applies`)
    return undefined
  }
  const candidates = rims.filter(({ rim }) => rim.version.toLowerCase() === version.toLowerCase())
  const [chosen, second] = candidates
  if (chosen === undefined) {
    checks.skip(name, `no ${kind} RIM for version ${version}; ${listGiven(rims)}`)
    return undefined
  }
  if (second !== undefined) {
    const files = candidates.map(({ file }) => file).join(', ')
    checks.fail(
      name,
      'ERR_COLLATERAL_MISMATCH',
      `${candidates.length} RIMs claim ${kind} version ${version} (${files}); give one`,
    )
    return undefined
  }
  const verification = await verifyRimSignature(chosen.rim, anchors, context)
  if (!verification.ok) {
    checks.fail(
      name,
      verification.code ?? 'ERR_VERIFY_SIGNATURE',
      `${chosen.file}: ${verification.detail}`,
    )
    return undefined
  }
  checks.pass(name, `${chosen.file} for ${kind} ${version}: ${verification.detail}`)

  return { file: chosen.file, kind, rim: chosen.rim, path: verification.path }
}

/** Returns the pinned CoRIM signing root, or the caller's replacement for it. */
export function rimAnchors(
  replacement: readonly Certificate[] | undefined,
): readonly Certificate[] {
  return replacement ?? [pinnedRimRoot()]
}

/** Compares the report's measurements with the verified RIMs and adds the `measurements` check. */
export function checkMeasurements(
  checks: CheckList,
  report: NvidiaReport,
  verified: readonly VerifiedRim[],
): void {
  const name = NVIDIA_CHECKS.measurements
  if (verified.length === 0) {
    checks.skip(name, 'needs a verified driver or VBIOS RIM')
    return
  }
  const comparison = compareMeasurements(
    report,
    verified.map(({ rim }) => rim),
  )
  const sources = verified.map(({ kind, file }) => `${kind} RIM ${file}`).join(' and ')
  if (comparison.conflicts.length > 0) {
    const detail = `${sources} both have an active measurement at RIM index ${comparison.conflicts.join(', ')}`
    checks.fail(name, 'ERR_COLLATERAL_MISMATCH', detail)
    return
  }
  if (comparison.mismatches.length > 0) {
    const blocks = comparison.mismatches.map((m) => m.block).join(', ')
    const detail = `${comparison.mismatches.length} of ${comparison.mismatches.length + comparison.matched.length} measurements differ from ${sources}: blocks ${blocks}`
    checks.fail(name, 'ERR_VERIFY_MEASUREMENT', detail)
    return
  }
  const skipped =
    comparison.skipped.length === 0
      ? ''
      : `; block ${comparison.skipped.join(', ')} not compared because NVDEC0 is disabled`
  const missing =
    verified.length === 1
      ? `; the ${verified[0]!.kind === 'driver' ? 'VBIOS' : 'driver'} RIM was not available`
      : ''
  checks.pass(
    name,
    `${comparison.matched.length} active measurements equal ${sources}${skipped}${missing}`,
  )
}
