/**
 * Attestation keys in the forms they arrive in (DER SubjectPublicKeyInfo, PEM, TPM2B_PUBLIC, an
 * RSA JWK from Azure's HCL runtime data), converted to one: DER SubjectPublicKeyInfo, plus an
 * identity string that is equal for equal keys whatever the encoding. Pure: no crypto, no I/O.
 *
 * @see RFC 5280, §4.1.2.7 (SubjectPublicKeyInfo); RFC 8017, Appendix A.1.1 (RSAPublicKey); RFC
 *   5480, §2 (EC keys); RFC 7518, §6.3.1 (RSA JWK parameters)
 * @module
 */
import { RSAPublicKey } from '@peculiar/asn1-rsa'
import { AsnConvert } from '@peculiar/asn1-schema'
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { concatBytes, decodePem, fromBase64, toHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import type { NamedCurve } from '../../crypto/port.js'
import { looksLikeTpm2bPublic, parseTpm2bPublic, type TpmtPublic } from './format.js'

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1'
const EC_PUBLIC_KEY = '1.2.840.10045.2.1'

/** DER of the OIDs used here, tag and length included. */
const OID_DER = {
  rsaEncryption: Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01),
  ecPublicKey: Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01),
  'P-256': Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07),
  'P-384': Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22),
  'P-521': Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23),
} as const
const DER_NULL = Uint8Array.of(0x05, 0x00)
/** Coordinate sizes of the NIST curves. */
const CURVE_SIZES: Readonly<Record<NamedCurve, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }

/** A public key as DER SubjectPublicKeyInfo, with the TPMT_PUBLIC it came from, if any. */
export interface AttestationKey {
  readonly spki: Uint8Array
  /** Equal for equal keys: the algorithm and key values, independent of their encoding. */
  readonly identity: string
  /** The TPMT_PUBLIC, when the key arrived as a TPM2B_PUBLIC; it carries the key's attributes. */
  readonly tpmtPublic: TpmtPublic | undefined
}

function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length)
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

function derElement(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), derLength(content.length), content)
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  return bytes.subarray(start)
}

/** Encodes an unsigned big-endian integer as a DER INTEGER. */
function derUnsignedInteger(bytes: Uint8Array): Uint8Array {
  const value = stripLeadingZeros(bytes)
  const content = (value[0] ?? 0) >= 0x80 ? concatBytes(Uint8Array.of(0), value) : value
  return derElement(0x02, content)
}

function exponentBytes(exponent: number): Uint8Array {
  return Uint8Array.of(
    exponent >>> 24,
    (exponent >>> 16) & 0xff,
    (exponent >>> 8) & 0xff,
    exponent & 0xff,
  )
}

/** Encodes an RSA public key (modulus and exponent as big-endian bytes) as a SubjectPublicKeyInfo. */
export function encodeRsaSpki(modulus: Uint8Array, exponent: Uint8Array): Uint8Array {
  const key = derElement(
    0x30,
    concatBytes(derUnsignedInteger(modulus), derUnsignedInteger(exponent)),
  )
  const algorithm = derElement(0x30, concatBytes(OID_DER.rsaEncryption, DER_NULL))
  const bits = derElement(0x03, concatBytes(Uint8Array.of(0), key))
  return derElement(0x30, concatBytes(algorithm, bits))
}

/** Encodes an EC public key (x‖y) as a SubjectPublicKeyInfo. */
export function encodeEcSpki(curve: NamedCurve, point: Uint8Array): Uint8Array {
  const algorithm = derElement(0x30, concatBytes(OID_DER.ecPublicKey, OID_DER[curve]))
  const bits = derElement(0x03, concatBytes(Uint8Array.of(0, 0x04), point))
  return derElement(0x30, concatBytes(algorithm, bits))
}

function padTo(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length >= size) return bytes
  const out = new Uint8Array(size)
  out.set(bytes, size - bytes.length)
  return out
}

/** Converts a TPMT_PUBLIC's key to a SubjectPublicKeyInfo. */
export function spkiOfTpmtPublic(publicArea: TpmtPublic): Uint8Array {
  if (publicArea.type === 'rsa') {
    return encodeRsaSpki(publicArea.modulus, exponentBytes(publicArea.exponent))
  }
  const size = CURVE_SIZES[publicArea.curve]
  return encodeEcSpki(
    publicArea.curve,
    concatBytes(padTo(publicArea.x, size), padTo(publicArea.y, size)),
  )
}

function malformedKey(message: string, cause?: unknown): ParseError {
  return new ParseError(
    'ERR_PARSE_MALFORMED',
    message,
    { structure: 'SubjectPublicKeyInfo' },
    cause === undefined ? undefined : { cause },
  )
}

/**
 * Returns the identity of a SubjectPublicKeyInfo: `rsa:<n>:<e>` or `ec:<curve OID>:<point>` in
 * hex with leading zeros of integers removed, or `spki:<der>` for other algorithms.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` when the bytes are not a SubjectPublicKeyInfo.
 */
export function keyIdentity(spki: Uint8Array): string {
  let info: SubjectPublicKeyInfo
  try {
    info = AsnConvert.parse(spki, SubjectPublicKeyInfo)
  } catch (error) {
    throw malformedKey('a public key is not a DER SubjectPublicKeyInfo', error)
  }
  const oid = info.algorithm.algorithm
  const bits = new Uint8Array(info.subjectPublicKey)
  if (oid === RSA_ENCRYPTION) {
    let key: RSAPublicKey
    try {
      key = AsnConvert.parse(bits, RSAPublicKey)
    } catch (error) {
      throw malformedKey('an RSA public key is not a DER RSAPublicKey', error)
    }
    const modulus = toHex(stripLeadingZeros(new Uint8Array(key.modulus)))
    const exponent = toHex(stripLeadingZeros(new Uint8Array(key.publicExponent)))
    return `rsa:${modulus}:${exponent}`
  }
  if (oid === EC_PUBLIC_KEY && info.algorithm.parameters) {
    const curve = toHex(new Uint8Array(info.algorithm.parameters))
    return `ec:${curve}:${toHex(bits)}`
  }
  return `spki:${toHex(spki)}`
}

/**
 * Reads an attestation key from DER SubjectPublicKeyInfo, PEM (`PUBLIC KEY`) or TPM2B_PUBLIC.
 *
 * @throws ParseError when the bytes are in none of these forms, or malformed.
 */
export function readAttestationKey(bytes: Uint8Array): AttestationKey {
  if (looksLikeTpm2bPublic(bytes)) {
    const tpmtPublic = parseTpm2bPublic(bytes)
    const spki = spkiOfTpmtPublic(tpmtPublic)
    return { spki, identity: keyIdentity(spki), tpmtPublic }
  }
  if (bytes[0] === 0x30)
    return { spki: bytes.slice(), identity: keyIdentity(bytes), tpmtPublic: undefined }
  const text = new TextDecoder().decode(bytes)
  const block = decodePem(text).find((b) => b.label === 'PUBLIC KEY')
  if (block === undefined) {
    throw malformedKey('an attestation key is neither DER, PEM PUBLIC KEY nor a TPM2B_PUBLIC')
  }
  return { spki: block.der, identity: keyIdentity(block.der), tpmtPublic: undefined }
}

/**
 * Converts an RSA JWK (`kty` RSA, base64url `n` and `e`) to a SubjectPublicKeyInfo.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for another key type or a missing parameter.
 */
export function spkiOfRsaJwk(jwk: { readonly [key: string]: unknown }): Uint8Array {
  const { kty, n, e } = jwk
  if (kty !== 'RSA' || typeof n !== 'string' || typeof e !== 'string' || n === '' || e === '') {
    throw malformedKey('the JWK is not an RSA key with base64url n and e')
  }
  if (!/^[A-Za-z0-9_-]+$/.test(n) || !/^[A-Za-z0-9_-]+$/.test(e)) {
    throw malformedKey('the JWK n or e is not base64url')
  }
  return encodeRsaSpki(fromBase64(n), fromBase64(e))
}
