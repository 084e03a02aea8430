/**
 * SEV-SNP evidence as claims: the neutral names first, then every report field under the
 * camelCase of its specification name, bytes as lower-case hex and 64-bit values as `0x` hex.
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { Claims, ClaimValue } from '../../core/types.js'
import type { SnpEvidence, SnpReport } from './format.js'
import { decodeTcb, type SnpProduct } from './product.js'

type ClaimObject = { [key: string]: ClaimValue }

/** POLICY bits by name (bits 7:0 ABI_MINOR and 15:8 ABI_MAJOR are numbers). */
const POLICY_BITS: readonly (readonly [string, bigint])[] = [
  ['smt', 16n],
  ['migrateMa', 18n],
  ['debug', 19n],
  ['singleSocket', 20n],
  ['cxlAllow', 21n],
  ['memAes256Xts', 22n],
  ['raplDis', 23n],
  ['ciphertextHiding', 24n],
  ['pageSwapDisable', 25n],
]

/** PLATFORM_INFO bits by name. Bits without a public name stay only in `value`. */
const PLATFORM_INFO_BITS: readonly (readonly [string, bigint])[] = [
  ['smtEn', 0n],
  ['tsmeEn', 1n],
  ['eccEn', 2n],
  ['raplDis', 3n],
  ['ciphertextHidingEn', 4n],
  ['aliasCheckComplete', 5n],
  ['tioEn', 7n],
]

function u64Hex(value: bigint): string {
  return `0x${value.toString(16)}`
}

function bitsOf(value: bigint, bits: readonly (readonly [string, bigint])[]): ClaimObject {
  const out: ClaimObject = { value: u64Hex(value) }
  for (const [name, bit] of bits) out[name] = ((value >> bit) & 1n) === 1n
  return out
}

function policyClaim(policy: bigint): ClaimObject {
  return {
    ...bitsOf(policy, POLICY_BITS),
    abiMinor: Number(policy & 0xffn),
    abiMajor: Number((policy >> 8n) & 0xffn),
  }
}

/** Returns a TCB_VERSION as its 8 bytes in hex, plus named SPLs when the product is known. */
function tcbClaim(bytes: Uint8Array, product: SnpProduct | undefined): ClaimObject {
  const named = product === undefined ? {} : { ...decodeTcb(bytes, product) }
  return { bytes: toHex(bytes), ...named }
}

function versionFields(report: SnpReport): ClaimObject {
  const fields: ClaimObject = {}
  if (report.cpuid !== undefined) {
    fields.cpuidFamId = report.cpuid.family
    fields.cpuidModId = report.cpuid.model
    fields.cpuidStep = report.cpuid.stepping
  }
  if (report.launchMitVector !== undefined) fields.launchMitVector = u64Hex(report.launchMitVector)
  if (report.currentMitVector !== undefined) {
    fields.currentMitVector = u64Hex(report.currentMitVector)
  }
  return fields
}

function rawClaims(evidence: SnpEvidence, product: SnpProduct | undefined): ClaimObject {
  const report = evidence.report
  return {
    version: report.version,
    guestSvn: report.guestSvn,
    policy: policyClaim(report.policy),
    familyId: toHex(report.familyId),
    imageId: toHex(report.imageId),
    vmpl: report.vmpl,
    signatureAlgo: report.signatureAlgo,
    currentTcb: tcbClaim(report.currentTcb, product),
    platformInfo: bitsOf(report.platformInfo, PLATFORM_INFO_BITS),
    keyInfo: {
      value: report.keyInfo,
      authorKeyEn: report.authorKeyEn,
      maskChipKey: report.maskChipKey,
      signingKey: report.signingKey,
    },
    signingKey: report.signingKey,
    reportData: toHex(report.reportData),
    measurement: toHex(report.measurement),
    hostData: toHex(report.hostData),
    idKeyDigest: toHex(report.idKeyDigest),
    authorKeyDigest: toHex(report.authorKeyDigest),
    reportId: toHex(report.reportId),
    reportIdMa: toHex(report.reportIdMa),
    reportedTcb: tcbClaim(report.reportedTcb, product),
    chipId: toHex(report.chipId),
    committedTcb: tcbClaim(report.committedTcb, product),
    currentBuild: report.currentVersion.build,
    currentMinor: report.currentVersion.minor,
    currentMajor: report.currentVersion.major,
    committedBuild: report.committedVersion.build,
    committedMinor: report.committedVersion.minor,
    committedMajor: report.committedVersion.major,
    launchTcb: tcbClaim(report.launchTcb, product),
    ...versionFields(report),
    product: product ?? null,
    container: evidence.container,
    ...(evidence.hcl === undefined ? {} : { hclRuntimeData: toHex(evidence.hcl.variableData) }),
  }
}

/**
 * Builds the claims of SEV-SNP evidence. `tcb` is REPORTED_TCB (the TCB the VCEK certifies) by
 * component. It and the named TCB components in `raw` need the product, so they are absent
 * without it. `platformId` is CHIP_ID, which is all zero when the host masks it.
 */
export function snpClaims(evidence: SnpEvidence, product: SnpProduct | undefined): Claims {
  const report = evidence.report
  const tcb = product === undefined ? undefined : { ...decodeTcb(report.reportedTcb, product) }

  return {
    platform: 'snp',
    measurement: toHex(report.measurement),
    reportData: toHex(report.reportData),
    debug: ((report.policy >> 19n) & 1n) === 1n,
    platformId: toHex(report.chipId),
    ...(tcb === undefined ? {} : { tcb }),
    raw: rawClaims(evidence, product),
  }
}
