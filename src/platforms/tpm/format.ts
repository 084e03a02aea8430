/**
 * TPM 2.0 structures of a quote: TPMS_ATTEST (what TPM2_Quote signs), TPMT_SIGNATURE (the
 * signature over it) and TPMT_PUBLIC (the attestation key). Pure: no crypto, no I/O.
 *
 * Layouts, every integer big-endian, every TPM2B a u16 size and bytes:
 * - TPMS_ATTEST: magic u32, type u16, qualifiedSigner TPM2B_NAME, extraData TPM2B_DATA,
 *   clockInfo (clock u64, resetCount u32, restartCount u32, safe u8) and firmwareVersion u64.
 *   A quote ends with TPMS_QUOTE_INFO: pcrSelect TPML_PCR_SELECTION (count u32, then per bank
 *   hash u16, sizeofSelect u8 and pcrSelect bytes) and pcrDigest TPM2B_DIGEST.
 * - TPMT_SIGNATURE: sigAlg u16, then for RSASSA and RSAPSS hash u16 and sig TPM2B, for ECDSA
 *   hash u16, signatureR TPM2B and signatureS TPM2B.
 * - TPMT_PUBLIC: type u16, nameAlg u16, objectAttributes u32, authPolicy TPM2B_DIGEST, the
 *   parameters of the type (TPMS_RSA_PARMS or TPMS_ECC_PARMS) and unique (the public key).
 *
 * @see TCG, TPM 2.0 Library, Part 2: Structures, §10.12.8 (TPMS_ATTEST), §10.12.1
 *   (TPMS_CLOCK_INFO), §10.12.4 (TPMS_QUOTE_INFO), §10.9.7 (TPML_PCR_SELECTION), §11.3.4
 *   (TPMT_SIGNATURE), §12.2.4 (TPMT_PUBLIC) and §12.2.3.5-6 (TPMS_RSA_PARMS, TPMS_ECC_PARMS)
 * @module
 */
import type { NamedCurve } from '../../crypto/port.js'
import {
  MAX_DATA_SIZE,
  MAX_DIGEST_SIZE,
  MAX_ECC_KEY_BYTES,
  MAX_PCR_BANKS,
  MAX_PCR_SELECT_SIZE,
  MAX_PUBLIC_SIZE,
  MAX_RSA_KEY_BYTES,
  TPM_ALG,
  TPM_ECC_CURVES,
  TPM_GENERATED_VALUE,
  TPM_ST_ATTEST_QUOTE,
} from './constants.js'
import { TpmReader } from './marshal.js'

/** TPMS_CLOCK_INFO. */
export interface TpmsClockInfo {
  readonly clock: bigint
  readonly resetCount: number
  readonly restartCount: number
  readonly safe: boolean
}

/** One TPMS_PCR_SELECTION: a bank and the PCR indexes selected in it, ascending. */
export interface TpmsPcrSelection {
  readonly hash: number
  /** The `pcrSelect` bitmap as received: bit i of byte j selects PCR 8j+i. */
  readonly select: Uint8Array
  readonly pcrs: readonly number[]
}

/** A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE, with the exact bytes the signature covers. */
export interface TpmsAttest {
  readonly magic: number
  readonly type: number
  readonly qualifiedSigner: Uint8Array
  /** The qualifying data the caller passed to TPM2_Quote: its nonce. */
  readonly extraData: Uint8Array
  readonly clockInfo: TpmsClockInfo
  readonly firmwareVersion: bigint
  readonly pcrSelect: readonly TpmsPcrSelection[]
  readonly pcrDigest: Uint8Array
  /** The whole structure, copied: the message the TPMT_SIGNATURE covers. */
  readonly bytes: Uint8Array
}

/** A TPMT_SIGNATURE of an RSA or ECDSA scheme. */
export type TpmtSignature =
  | { readonly sigAlg: 'rsassa' | 'rsapss'; readonly hash: number; readonly sig: Uint8Array }
  | {
      readonly sigAlg: 'ecdsa'
      readonly hash: number
      readonly signatureR: Uint8Array
      readonly signatureS: Uint8Array
    }

/** The fields of a TPMT_PUBLIC that every key type has. */
interface TpmtPublicCommon {
  readonly nameAlg: number
  readonly objectAttributes: number
  readonly authPolicy: Uint8Array
  /** The key's signing scheme (TPM_ALG_NULL when any is allowed) and its hash. */
  readonly scheme: number
  readonly schemeHash: number | undefined
  /** The whole TPMT_PUBLIC, copied: the bytes the key's Name is a digest of. */
  readonly bytes: Uint8Array
}

/** A TPMT_PUBLIC of an RSA or ECC key. */
export type TpmtPublic =
  | (TpmtPublicCommon & {
      readonly type: 'rsa'
      readonly keyBits: number
      /** The public exponent; the TPM's 0 is already replaced by 65537. */
      readonly exponent: number
      readonly modulus: Uint8Array
    })
  | (TpmtPublicCommon & {
      readonly type: 'ecc'
      readonly curveId: number
      readonly curve: NamedCurve
      readonly x: Uint8Array
      readonly y: Uint8Array
    })

/** Reads the PCR indexes a `pcrSelect` bitmap selects, ascending. */
export function selectedPcrs(select: Uint8Array): number[] {
  const pcrs: number[] = []
  for (const [byteIndex, byte] of select.entries()) {
    for (let bit = 0; bit < 8; bit++) if ((byte >> bit) & 1) pcrs.push(byteIndex * 8 + bit)
  }
  return pcrs
}

function readPcrSelection(reader: TpmReader): TpmsPcrSelection[] {
  const count = reader.u32('pcrSelect.count')
  if (count > MAX_PCR_BANKS) {
    const message = `TPML_PCR_SELECTION has ${count} banks, more than ${MAX_PCR_BANKS}`
    throw reader.error('ERR_PARSE_OVERSIZED', message, 'pcrSelect.count')
  }
  const banks: TpmsPcrSelection[] = []
  for (let i = 0; i < count; i++) {
    const hash = reader.u16('pcrSelections.hash')
    const size = reader.u8('pcrSelections.sizeofSelect')
    if (size > MAX_PCR_SELECT_SIZE) {
      const message = `sizeofSelect is ${size}, more than ${MAX_PCR_SELECT_SIZE}`
      throw reader.error('ERR_PARSE_OVERSIZED', message, 'pcrSelections.sizeofSelect')
    }
    const select = reader.bytes(size, 'pcrSelections.pcrSelect')
    if (banks.some((bank) => bank.hash === hash)) {
      const message = `TPML_PCR_SELECTION names bank 0x${hash.toString(16)} twice`
      throw reader.error('ERR_PARSE_MALFORMED', message, 'pcrSelections.hash')
    }
    banks.push({ hash, select, pcrs: selectedPcrs(select) })
  }
  return banks
}

/**
 * Decodes a TPMS_ATTEST that must be a quote (TPM_ST_ATTEST_QUOTE) made by a TPM (magic
 * TPM_GENERATED_VALUE), and nothing after it.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` (wrong magic, trailing bytes),
 *   `ERR_PARSE_UNSUPPORTED_BODY_TYPE` (not a quote), `ERR_PARSE_TRUNCATED` or `ERR_PARSE_OVERSIZED`
 */
export function parseTpmsAttest(bytes: Uint8Array, base = 0): TpmsAttest {
  const reader = new TpmReader(bytes, 'TPMS_ATTEST', base)
  const magic = reader.u32('magic')
  if (magic !== TPM_GENERATED_VALUE) {
    const message = `magic is 0x${magic.toString(16)}, not TPM_GENERATED_VALUE (0xff544347), so a TPM did not produce it`
    throw reader.error('ERR_PARSE_MALFORMED', message, 'magic')
  }
  const type = reader.u16('type')
  if (type !== TPM_ST_ATTEST_QUOTE) {
    const message = `type is 0x${type.toString(16)}, not TPM_ST_ATTEST_QUOTE (0x8018)`
    throw reader.error('ERR_PARSE_UNSUPPORTED_BODY_TYPE', message, 'type')
  }
  const qualifiedSigner = reader.sized('qualifiedSigner', MAX_DATA_SIZE)
  const extraData = reader.sized('extraData', MAX_DATA_SIZE)
  const clockInfo = {
    clock: reader.u64('clockInfo.clock'),
    resetCount: reader.u32('clockInfo.resetCount'),
    restartCount: reader.u32('clockInfo.restartCount'),
    safe: reader.u8('clockInfo.safe') !== 0,
  }
  const firmwareVersion = reader.u64('firmwareVersion')
  const pcrSelect = readPcrSelection(reader)
  const pcrDigest = reader.sized('pcrDigest', MAX_DIGEST_SIZE)
  if (reader.remaining !== 0) {
    const message = `${reader.remaining} bytes follow the TPMS_ATTEST`
    throw reader.error('ERR_PARSE_MALFORMED', message)
  }

  return {
    magic,
    type,
    qualifiedSigner,
    extraData,
    clockInfo,
    firmwareVersion,
    pcrSelect,
    pcrDigest,
    bytes: bytes.slice(),
  }
}

/** Reads a TPMT_SIGNATURE from the reader's position. */
export function readTpmtSignature(reader: TpmReader): TpmtSignature {
  const sigAlg = reader.u16('sigAlg')
  if (sigAlg === TPM_ALG.RSASSA || sigAlg === TPM_ALG.RSAPSS) {
    const hash = reader.u16('signature.hash')
    const sig = reader.sized('signature.sig', MAX_RSA_KEY_BYTES)
    return { sigAlg: sigAlg === TPM_ALG.RSASSA ? 'rsassa' : 'rsapss', hash, sig }
  }
  if (sigAlg === TPM_ALG.ECDSA) {
    const hash = reader.u16('signature.hash')
    const signatureR = reader.sized('signature.signatureR', MAX_ECC_KEY_BYTES)
    const signatureS = reader.sized('signature.signatureS', MAX_ECC_KEY_BYTES)
    return { sigAlg: 'ecdsa', hash, signatureR, signatureS }
  }
  const message = `sigAlg 0x${sigAlg.toString(16).padStart(4, '0')} is not RSASSA (0x0014), RSAPSS (0x0016) or ECDSA (0x0018)`
  throw reader.error('ERR_PARSE_UNSUPPORTED_KEY_TYPE', message, 'sigAlg')
}

/**
 * Decodes a TPMT_SIGNATURE of scheme RSASSA, RSAPSS or ECDSA, with nothing after it.
 *
 * @throws ParseError `ERR_PARSE_UNSUPPORTED_KEY_TYPE` (another scheme), `ERR_PARSE_MALFORMED`
 *   (trailing bytes), `ERR_PARSE_TRUNCATED` or `ERR_PARSE_OVERSIZED`
 */
export function parseTpmtSignature(bytes: Uint8Array): TpmtSignature {
  const reader = new TpmReader(bytes, 'TPMT_SIGNATURE')
  const signature = readTpmtSignature(reader)
  if (reader.remaining !== 0) {
    throw reader.error('ERR_PARSE_MALFORMED', `${reader.remaining} bytes follow the TPMT_SIGNATURE`)
  }
  return signature
}

/** Reads a TPMT_SYM_DEF_OBJECT, which an attestation key leaves NULL, and returns nothing. */
function skipSymmetric(reader: TpmReader): void {
  const algorithm = reader.u16('parameters.symmetric.algorithm')
  if (algorithm === TPM_ALG.NULL) return
  reader.u16('parameters.symmetric.keyBits')
  reader.u16('parameters.symmetric.mode')
}

/** Reads a TPMT_RSA_SCHEME or TPMT_ECC_SCHEME: the scheme, and its hash unless it is NULL. */
function readScheme(reader: TpmReader): { scheme: number; schemeHash: number | undefined } {
  const scheme = reader.u16('parameters.scheme.scheme')
  // RSAES has no details; every other non-NULL scheme starts with its hash.
  if (scheme === TPM_ALG.NULL || scheme === 0x0015) return { scheme, schemeHash: undefined }
  const schemeHash = reader.u16('parameters.scheme.details.hashAlg')
  if (scheme === TPM_ALG.ECDAA) reader.u16('parameters.scheme.details.count')
  return { scheme, schemeHash }
}

function readPublicArea(reader: TpmReader, bytes: Uint8Array, start: number): TpmtPublic {
  const type = reader.u16('type')
  const nameAlg = reader.u16('nameAlg')
  const objectAttributes = reader.u32('objectAttributes')
  const authPolicy = reader.sized('authPolicy', MAX_DIGEST_SIZE)
  if (type === TPM_ALG.RSA) {
    skipSymmetric(reader)
    const scheme = readScheme(reader)
    const keyBits = reader.u16('parameters.keyBits')
    const exponent = reader.u32('parameters.exponent')
    const modulus = reader.sized('unique.rsa', MAX_RSA_KEY_BYTES)
    const common = { nameAlg, objectAttributes, authPolicy, ...scheme }
    const end = reader.offset
    return {
      type: 'rsa',
      ...common,
      keyBits,
      exponent: exponent === 0 ? 65537 : exponent,
      modulus,
      bytes: bytes.slice(start, end),
    }
  }
  if (type === TPM_ALG.ECC) {
    skipSymmetric(reader)
    const scheme = readScheme(reader)
    const curveId = reader.u16('parameters.curveID')
    const curve = TPM_ECC_CURVES.get(curveId)
    if (curve === undefined) {
      const message = `curveID 0x${curveId.toString(16).padStart(4, '0')} is not NIST P-256, P-384 or P-521`
      throw reader.error('ERR_PARSE_UNSUPPORTED_KEY_TYPE', message, 'parameters.curveID')
    }
    const kdf = reader.u16('parameters.kdf.scheme')
    if (kdf !== TPM_ALG.NULL) reader.u16('parameters.kdf.details.hashAlg')
    const x = reader.sized('unique.ecc.x', MAX_ECC_KEY_BYTES)
    const y = reader.sized('unique.ecc.y', MAX_ECC_KEY_BYTES)
    const end = reader.offset
    const common = { nameAlg, objectAttributes, authPolicy, ...scheme }
    return {
      type: 'ecc',
      ...common,
      curveId,
      curve: curve.curve,
      x,
      y,
      bytes: bytes.slice(start, end),
    }
  }
  const message = `type 0x${type.toString(16).padStart(4, '0')} is not TPM_ALG_RSA (0x0001) or TPM_ALG_ECC (0x0023)`
  throw reader.error('ERR_PARSE_UNSUPPORTED_KEY_TYPE', message, 'type')
}

/**
 * Decodes a TPM2B_PUBLIC (as `tpm2_createak -u` writes it) holding an RSA or ECC key, with
 * nothing after it.
 *
 * @throws ParseError `ERR_PARSE_UNSUPPORTED_KEY_TYPE`, `ERR_PARSE_MALFORMED`,
 *   `ERR_PARSE_TRUNCATED` or `ERR_PARSE_OVERSIZED`
 */
export function parseTpm2bPublic(bytes: Uint8Array): TpmtPublic {
  const reader = new TpmReader(bytes, 'TPM2B_PUBLIC')
  const size = reader.u16('size')
  if (size > MAX_PUBLIC_SIZE) {
    throw reader.error(
      'ERR_PARSE_OVERSIZED',
      `TPM2B_PUBLIC is ${size} bytes, more than ${MAX_PUBLIC_SIZE}`,
      'size',
    )
  }
  if (size !== reader.remaining) {
    const message = `TPM2B_PUBLIC size is ${size}, but ${reader.remaining} bytes follow it`
    throw reader.error(
      reader.remaining < size ? 'ERR_PARSE_TRUNCATED' : 'ERR_PARSE_MALFORMED',
      message,
      'size',
    )
  }
  const publicArea = readPublicArea(reader, bytes, 2)
  if (reader.remaining !== 0) {
    throw reader.error('ERR_PARSE_MALFORMED', `${reader.remaining} bytes follow the TPMT_PUBLIC`)
  }
  return publicArea
}

/** Tells whether bytes start like a TPM2B_PUBLIC: a u16 size equal to the rest, then RSA or ECC. */
export function looksLikeTpm2bPublic(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false
  const size = (bytes[0]! << 8) | bytes[1]!
  const type = (bytes[2]! << 8) | bytes[3]!
  return size === bytes.length - 2 && (type === TPM_ALG.RSA || type === TPM_ALG.ECC)
}
