/**
 * Values and size limits of the TPM 2.0 structures confide reads, by their names in the TCG TPM
 * 2.0 Library specification, Part 2 (Structures).
 *
 * @see TCG, TPM 2.0 Library, Part 2: Structures, §6.2 (TPM_GENERATED), §6.3 (TPM_ALG_ID), §6.4
 *   (TPM_ECC_CURVE), §6.9 (TPM_ST), §8.3 (TPMA_OBJECT), §10.12 (TPMS_ATTEST) and §12.2
 *   (TPMT_PUBLIC)
 * @module
 */
import type { DigestAlgorithm, NamedCurve } from '../../crypto/port.js'

/** `TPM_GENERATED_VALUE`: the magic that starts every structure the TPM itself signs. */
export const TPM_GENERATED_VALUE = 0xff544347
/** `TPM_ST_ATTEST_QUOTE`: the TPMS_ATTEST type of a TPM2_Quote. */
export const TPM_ST_ATTEST_QUOTE = 0x8018

/** `TPM_ALG_ID` values. */
export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  SM3_256: 0x0012,
  RSASSA: 0x0014,
  RSAPSS: 0x0016,
  ECDSA: 0x0018,
  ECDAA: 0x001a,
  ECC: 0x0023,
} as const

/** A hash algorithm of the TPM: its name, its digest size and the port's name when it has one. */
export interface TpmHash {
  readonly name: string
  readonly size: number
  readonly digest: DigestAlgorithm | undefined
}

/** The hash algorithms whose digests can appear in a quote, by `TPM_ALG_ID`. */
export const TPM_HASHES: ReadonlyMap<number, TpmHash> = new Map([
  [TPM_ALG.SHA1, { name: 'sha1', size: 20, digest: undefined }],
  [TPM_ALG.SHA256, { name: 'sha256', size: 32, digest: 'SHA-256' }],
  [TPM_ALG.SHA384, { name: 'sha384', size: 48, digest: 'SHA-384' }],
  [TPM_ALG.SHA512, { name: 'sha512', size: 64, digest: 'SHA-512' }],
  [TPM_ALG.SM3_256, { name: 'sm3_256', size: 32, digest: undefined }],
])

/** `TPM_ECC_CURVE` values of the NIST curves the port supports. */
export const TPM_ECC_CURVES: ReadonlyMap<number, { curve: NamedCurve; size: number }> = new Map([
  [0x0003, { curve: 'P-256', size: 32 }],
  [0x0004, { curve: 'P-384', size: 48 }],
  [0x0005, { curve: 'P-521', size: 66 }],
])

/** `TPMA_OBJECT` bits that mark a key as an attestation key kept inside its TPM. */
export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const

/** `sizeof(TPMU_HA)`: the largest digest, the limit of TPM2B_DIGEST. */
export const MAX_DIGEST_SIZE = 64
/** `sizeof(TPMT_HA)`: the limit of TPM2B_DATA (extraData) and TPM2B_NAME. */
export const MAX_DATA_SIZE = 66
/** `MAX_RSA_KEY_BYTES` for 4096-bit keys: the limit of TPM2B_PUBLIC_KEY_RSA. */
export const MAX_RSA_KEY_BYTES = 512
/** `MAX_ECC_KEY_BYTES` for P-521: the limit of TPM2B_ECC_PARAMETER. */
export const MAX_ECC_KEY_BYTES = 66
/** Maximum number of banks read from a TPML_PCR_SELECTION, above the few hashes a TPM implements. */
export const MAX_PCR_BANKS = 16
/** Largest `sizeofSelect`: 32 bytes select 256 PCRs, well above the 24 of a PC client TPM. */
export const MAX_PCR_SELECT_SIZE = 32
/** Largest TPMT_PUBLIC accepted, above the 4096-bit RSA key with a policy digest. */
export const MAX_PUBLIC_SIZE = 1024
