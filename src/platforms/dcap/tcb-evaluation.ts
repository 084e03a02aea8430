/**
 * Intel's TCB evaluation: which TCB level of the TCB info a platform is at, the status of its
 * Quoting Enclave and TDX module, and how those statuses combine, following the order and rules
 * of Intel's Quote Verification Library (QVL).
 *
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import type { ErrorCode } from '../../core/errors.js'
import type { TcbStatus } from '../../core/types.js'
import type { QeIdentity } from './qe-identity.js'
import type { IsvSvnLevel, TcbInfo, TcbLevel, TdxModule } from './tcb-info.js'

/** The statuses a TCB level, QE level or module level may carry. */
export const LEVEL_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const
export type LevelStatus = (typeof LEVEL_STATUSES)[number]

function isLevelStatus(value: string): value is LevelStatus {
  return (LEVEL_STATUSES as readonly string[]).includes(value)
}

/** The platform's TCB as the PCK certificate and the quote state it. */
export interface PlatformTcb {
  /** SGX TCB components 1 to 16 from the PCK certificate. */
  readonly sgxComponents: readonly number[]
  readonly pceSvn: number
  /** For TDX: TEE_TCB_SVN, MRSIGNERSEAM and SEAMATTRIBUTES from the TD report body. */
  readonly tdx?: {
    readonly teeTcbSvn: Uint8Array
    readonly mrSignerSeam: Uint8Array
    readonly seamAttributes: Uint8Array
  }
}

/** A step of the evaluation that rejected the platform. */
export interface EvaluationFailure {
  readonly code: ErrorCode
  readonly detail: string
  /** Set when no TCB level applies at all (Intel: "TCB level not supported"). */
  readonly noMatchingLevel?: true
}

export interface LevelMatch {
  /** Index of the matching level in the TCB info, in Intel's order. */
  readonly index: number
  readonly level: TcbLevel
  readonly status: LevelStatus
}

export interface QeEvaluation {
  readonly status: LevelStatus
  readonly isvSvn: number
  readonly advisoryIds: readonly string[]
  readonly tcbDate?: string
}

export interface ModuleEvaluation {
  readonly id: string
  readonly mrSignerMatch: boolean
  readonly attributesMatch: boolean
  readonly isvSvn: number
  /** Absent when the identity has no TCB levels (the plain `tdxModule` of TCB info). */
  readonly status?: LevelStatus
  readonly advisoryIds: readonly string[]
}

/** Components 0 and 1 of TEE_TCB_SVN are the TDX module's SVN and major version. */
function moduleVersion(teeTcbSvn: Uint8Array): number {
  return teeTcbSvn[1] ?? 0
}

/**
 * Finds the first TCB level, in the TCB info's order, whose SGX components and PCESVN (and for
 * TDX, TDX components) the platform meets or exceeds. When a TDX platform reports a module major
 * version (TEE_TCB_SVN[1] non-zero), components 0 and 1 belong to the module identity and are left
 * out of the platform match.
 */
export function matchTcbLevel(
  tcbInfo: TcbInfo,
  platform: PlatformTcb,
): LevelMatch | EvaluationFailure {
  const skipModule = platform.tdx !== undefined && moduleVersion(platform.tdx.teeTcbSvn) !== 0
  for (const [index, level] of tcbInfo.tcbLevels.entries()) {
    if (!level.sgxComponents.every((svn, i) => (platform.sgxComponents[i] ?? 0) >= svn)) continue
    if (platform.pceSvn < level.pceSvn) continue
    if (platform.tdx !== undefined) {
      const teeTcbSvn = platform.tdx.teeTcbSvn
      const components = level.tdxComponents ?? []
      if (!components.every((svn, i) => (skipModule && i < 2) || (teeTcbSvn[i] ?? 0) >= svn))
        continue
    }
    if (!isLevelStatus(level.tcbStatus)) {
      return {
        code: 'ERR_VERIFY_TCB',
        detail: `TCB level ${index} has unknown status "${level.tcbStatus}"`,
      }
    }
    return { index, level, status: level.tcbStatus }
  }
  return {
    code: 'ERR_VERIFY_TCB',
    detail: 'no TCB level of the TCB info matches the platform (TCB level not supported)',
    noMatchingLevel: true,
  }
}

/** Picks the first level whose ISVSVN the enclave or module meets; none means Revoked, as in QVL. */
function levelForIsvSvn(levels: readonly IsvSvnLevel[], isvSvn: number): IsvSvnLevel | undefined {
  return levels.find((level) => isvSvn >= level.isvSvn)
}

/** Applies `mask` to `value` byte by byte and compares with `expected`. */
function maskedEqual(value: Uint8Array, mask: Uint8Array, expected: Uint8Array): boolean {
  if (value.length !== mask.length || mask.length !== expected.length) return false
  return value.every((byte, i) => (byte & (mask[i] ?? 0)) === expected[i])
}

/** The fields of a QE report that the QE identity constrains. */
export interface QeReportIdentity {
  readonly miscSelect: Uint8Array
  readonly attributes: Uint8Array
  readonly mrSigner: Uint8Array
  readonly isvProdId: number
  readonly isvSvn: number
}

/** Checks a QE report against the QE identity and finds the QE's TCB status. */
export function evaluateQeIdentity(
  identity: QeIdentity,
  report: QeReportIdentity,
): QeEvaluation | EvaluationFailure {
  const view = new DataView(report.miscSelect.buffer, report.miscSelect.byteOffset, 4)
  const miscSelect = view.getUint32(0, true)
  if ((miscSelect & identity.miscSelectMask) >>> 0 !== identity.miscSelect) {
    return {
      code: 'ERR_VERIFY_IDENTITY',
      detail: `QE MISCSELECT ${miscSelect.toString(16).padStart(8, '0')} does not match the QE identity under its mask`,
    }
  }
  if (!maskedEqual(report.attributes, identity.attributesMask, identity.attributes)) {
    return {
      code: 'ERR_VERIFY_IDENTITY',
      detail: `QE ATTRIBUTES ${toHex(report.attributes)} do not match the QE identity under its mask`,
    }
  }
  if (!bytesEqual(report.mrSigner, identity.mrSigner)) {
    return {
      code: 'ERR_VERIFY_IDENTITY',
      detail: `QE MRSIGNER ${toHex(report.mrSigner)} is not the QE identity's ${toHex(identity.mrSigner)}`,
    }
  }
  if (report.isvProdId !== identity.isvProdId) {
    return {
      code: 'ERR_VERIFY_IDENTITY',
      detail: `QE ISVPRODID ${report.isvProdId} is not the QE identity's ${identity.isvProdId}`,
    }
  }
  const level = levelForIsvSvn(identity.tcbLevels, report.isvSvn)
  if (level === undefined) return { status: 'Revoked', isvSvn: report.isvSvn, advisoryIds: [] }
  if (!isLevelStatus(level.tcbStatus)) {
    return {
      code: 'ERR_VERIFY_TCB',
      detail: `QE identity level has unknown status "${level.tcbStatus}"`,
    }
  }
  return {
    status: level.tcbStatus,
    isvSvn: report.isvSvn,
    advisoryIds: level.advisoryIds,
    tcbDate: level.tcbDate,
  }
}

/**
 * Checks the TDX module against the TCB info: with a module major version in TEE_TCB_SVN[1], the
 * identity `TDX_<version>` and its level for ISVSVN TEE_TCB_SVN[0]; without one, the plain
 * `tdxModule` entry. MRSIGNERSEAM must match and SEAMATTRIBUTES must match under the mask.
 */
export function evaluateTdxModule(
  tcbInfo: TcbInfo,
  tdx: NonNullable<PlatformTcb['tdx']>,
): ModuleEvaluation | EvaluationFailure | undefined {
  const version = moduleVersion(tdx.teeTcbSvn)
  const isvSvn = tdx.teeTcbSvn[0] ?? 0
  let module: TdxModule | undefined
  let id: string
  let levels: readonly IsvSvnLevel[] | undefined
  if (version === 0) {
    module = tcbInfo.tdxModule
    id = 'tdxModule'
  } else {
    id = `TDX_${version.toString(16).padStart(2, '0').toUpperCase()}`
    const identity = tcbInfo.tdxModuleIdentities.find(
      (candidate) => candidate.id.toUpperCase() === id,
    )
    if (identity === undefined) {
      return { code: 'ERR_VERIFY_TCB', detail: `TCB info has no TDX module identity ${id}` }
    }
    module = identity
    levels = identity.tcbLevels
  }
  if (module === undefined) return undefined

  const mrSignerMatch = bytesEqual(tdx.mrSignerSeam, module.mrSigner)
  const attributesMatch = maskedEqual(tdx.seamAttributes, module.attributesMask, module.attributes)
  const base = { id, mrSignerMatch, attributesMatch, isvSvn }
  if (!mrSignerMatch) {
    return {
      code: 'ERR_VERIFY_IDENTITY',
      detail: `MRSIGNERSEAM ${toHex(tdx.mrSignerSeam)} is not module ${id}'s ${toHex(module.mrSigner)}`,
    }
  }
  if (!attributesMatch) {
    return {
      code: 'ERR_VERIFY_IDENTITY',
      detail: `SEAMATTRIBUTES ${toHex(tdx.seamAttributes)} do not match module ${id} under its mask`,
    }
  }
  if (levels === undefined) return { ...base, advisoryIds: [] }
  const level = levelForIsvSvn(levels, isvSvn)
  if (level === undefined) return { ...base, status: 'Revoked', advisoryIds: [] }
  if (!isLevelStatus(level.tcbStatus)) {
    return {
      code: 'ERR_VERIFY_TCB',
      detail: `TDX module ${id} level has unknown status "${level.tcbStatus}"`,
    }
  }
  return { ...base, status: level.tcbStatus, advisoryIds: level.advisoryIds }
}

/**
 * Folds a QE or TDX module status into the platform's, as QVL does. A revoked component revokes
 * the whole. An out-of-date component makes an up-to-date or hardening-only platform OutOfDate,
 * and a platform that needs configuration OutOfDateConfigurationNeeded.
 */
export function convergeStatus(
  platform: LevelStatus,
  component: LevelStatus | undefined,
): LevelStatus {
  if (component === 'Revoked') return 'Revoked'
  if (component !== 'OutOfDate') return platform
  if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate'
  if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') {
    return 'OutOfDateConfigurationNeeded'
  }
  return platform
}

/** Tells whether an evaluation step failed. */
export function isFailure(value: object): value is EvaluationFailure {
  return 'code' in value
}

/** Narrows a level status to the result's TCB status type. */
export function asTcbStatus(status: LevelStatus): TcbStatus {
  return status
}
