/**
 * The Arm CCA attestation token: a CBOR collection of two COSE_Sign1 tokens, the CCA platform
 * token (signed by the CPAK) and the realm token (signed by the RAK it carries). Pure: no crypto,
 * no I/O.
 *
 * Two collection forms are read:
 * - tag 399, `{44234: bstr platform-token, 44241: bstr realm-token}` (RMM specification A7.2,
 *   and every token TF-RMM produces);
 * - tag 907, the same labels mapped to CMW records `[content-format, bstr]` (the CMW form of
 *   draft-ffm-rats-cca-token, which Veraison's ccatoken writes).
 *
 * @see Arm, Realm Management Monitor specification (DEN0137), A7.2 (attestation token format)
 * @see draft-ffm-rats-cca-token, §4 (claims) and §6 (collection)
 * @module
 */
import { Tag } from 'cbor-x'
import { ParseError } from '../../core/errors.js'
import { decodeStrictCbor } from '../cose/cbor.js'
import { type EcPublicPoint, parseCoseEc2Key } from '../cose/key.js'
import { type CoseSign1Message, parseCoseSign1Message } from '../cose/sign1.js'

/** CBOR tag of the CCA token collection in the RMM specification. */
export const CCA_TOKEN_TAG = 399
/** CBOR tag of the CMW form of the collection. */
export const CCA_CMW_COLLECTION_TAG = 907
/** Collection label of the CCA platform token. */
export const CCA_PLATFORM_TOKEN_LABEL = 44234
/** Collection label of the realm token. */
export const CCA_REALM_TOKEN_LABEL = 44241
/** Largest token accepted. TF-RMM tokens are about 1.2 KiB. */
export const MAX_TOKEN_SIZE = 64 * 1024
/** Largest payload of either COSE_Sign1. */
export const MAX_PAYLOAD_SIZE = 32 * 1024

/** Claim keys of the CCA platform token (draft-ffm-rats-cca-token §4.2). */
export const PLATFORM_CLAIMS = {
  profile: 265,
  challenge: 10,
  implementationId: 2396,
  instanceId: 256,
  config: 2401,
  lifecycle: 2395,
  softwareComponents: 2399,
  verificationService: 2400,
  hashAlgorithm: 2402,
} as const

/** Keys of a software component map (the PSA software component, reused by CCA). */
export const SOFTWARE_COMPONENT_KEYS = {
  measurementType: 1,
  measurementValue: 2,
  version: 4,
  signerId: 5,
  hashAlgorithm: 6,
} as const

/** Claim keys of the realm token (RMM specification A7.2.3.1). */
export const REALM_CLAIMS = {
  profile: 265,
  challenge: 10,
  personalizationValue: 44235,
  hashAlgorithm: 44236,
  publicKey: 44237,
  initialMeasurement: 44238,
  extensibleMeasurements: 44239,
  publicKeyHashAlgorithm: 44240,
} as const

/** Sizes the measurement and challenge claims may have: SHA-256, SHA-384 and SHA-512 digests. */
export const DIGEST_SIZES: readonly number[] = [32, 48, 64]
export const REALM_CHALLENGE_SIZE = 64
export const PERSONALIZATION_VALUE_SIZE = 64
export const REALM_EXTENSIBLE_MEASUREMENT_COUNT = 4
export const IMPLEMENTATION_ID_SIZE = 32
/** An instance ID is a UEID of type RAND (first byte 0x01) followed by a 32-byte hash. */
export const INSTANCE_ID_SIZE = 33
export const UEID_TYPE_RAND = 0x01
/** A legacy realm token carries its RAK as an uncompressed P-384 point: 0x04‖x‖y. */
export const RAW_RAK_SIZE = 97
const MAX_CLAIM_BYTES = 4096

/** One entry of the platform's software components claim. */
export interface CcaSoftwareComponent {
  readonly measurementType: string | undefined
  readonly measurementValue: Uint8Array
  readonly version: string | undefined
  readonly signerId: Uint8Array
  readonly hashAlgorithm: string | undefined
}

/** The claims of a CCA platform token, by their specification names. */
export interface CcaPlatformClaims {
  readonly profile: string | undefined
  /** The hash of the RAK, which binds the realm token to this platform token. */
  readonly challenge: Uint8Array
  readonly implementationId: Uint8Array
  readonly instanceId: Uint8Array
  readonly config: Uint8Array
  /** The security lifecycle state, a 16-bit value whose high byte names the state. */
  readonly lifecycle: number
  readonly softwareComponents: readonly CcaSoftwareComponent[]
  readonly verificationService: string | undefined
  readonly hashAlgorithm: string
}

/** The claims of a realm token, by their specification names. */
export interface CcaRealmClaims {
  readonly profile: string | undefined
  /** The challenge the realm received: the caller's nonce or report data. */
  readonly challenge: Uint8Array
  readonly personalizationValue: Uint8Array
  /** The realm initial measurement (RIM). */
  readonly initialMeasurement: Uint8Array
  /** The four realm extensible measurements (REMs). */
  readonly extensibleMeasurements: readonly Uint8Array[]
  readonly hashAlgorithm: string
  /** The RAK claim exactly as carried: a COSE_Key, or a raw point for tokens without a profile. */
  readonly publicKey: Uint8Array
  readonly publicKeyHashAlgorithm: string
  /** The RAK decoded from `publicKey`. */
  readonly rak: EcPublicPoint
  /** The encoding of the RAK in `publicKey`. */
  readonly publicKeyFormat: 'cose-key' | 'raw-point'
}

/** One signed token of the collection. */
export interface CcaSignedToken<TClaims> {
  readonly cose: CoseSign1Message
  readonly claims: TClaims
}

/** A decoded CCA attestation token. */
export interface CcaToken {
  readonly form: 'eat-collection' | 'cmw-collection'
  readonly platform: CcaSignedToken<CcaPlatformClaims>
  readonly realm: CcaSignedToken<CcaRealmClaims>
}

const PLATFORM = 'CcaPlatformToken'
const REALM = 'CcaRealmToken'
const COLLECTION = 'CcaToken'

function malformed(structure: string, message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `${structure}: ${message}`, {
    structure,
    ...(field === undefined ? {} : { field }),
  })
}

/** Reads claims from a payload map by the names of `keys`. */
class ClaimReader {
  readonly #map: Map<unknown, unknown>
  readonly #structure: string

  constructor(map: Map<unknown, unknown>, structure: string) {
    this.#map = map
    this.#structure = structure
  }

  has(key: number): boolean {
    return this.#map.has(key)
  }

  bytes(key: number, name: string, sizes?: readonly number[]): Uint8Array {
    const value = this.#map.get(key)
    if (value === undefined) throw malformed(this.#structure, `${name} (${key}) is missing`, name)
    if (!(value instanceof Uint8Array)) {
      throw malformed(this.#structure, `${name} is not a byte string`, name)
    }
    if (value.length > MAX_CLAIM_BYTES) {
      const message = `${this.#structure}: ${name} is ${value.length} bytes, more than ${MAX_CLAIM_BYTES}`
      throw new ParseError('ERR_PARSE_OVERSIZED', message, {
        structure: this.#structure,
        field: name,
      })
    }
    if (sizes !== undefined && !sizes.includes(value.length)) {
      const message = `${name} is ${value.length} bytes, not ${sizes.join(', ')}`
      throw malformed(this.#structure, message, name)
    }
    return new Uint8Array(value)
  }

  text(key: number, name: string): string {
    const value = this.#map.get(key)
    if (value === undefined) throw malformed(this.#structure, `${name} (${key}) is missing`, name)
    if (typeof value !== 'string' || value.length === 0) {
      throw malformed(this.#structure, `${name} is not a non-empty text string`, name)
    }
    return value
  }

  optionalText(key: number, name: string): string | undefined {
    return this.#map.has(key) ? this.text(key, name) : undefined
  }

  uint(key: number, name: string, max: number): number {
    const value = this.#map.get(key)
    if (value === undefined) throw malformed(this.#structure, `${name} (${key}) is missing`, name)
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      throw malformed(this.#structure, `${name} is not an integer from 0 to ${max}`, name)
    }
    return value
  }

  array(key: number, name: string): unknown[] {
    const value = this.#map.get(key)
    if (value === undefined) throw malformed(this.#structure, `${name} (${key}) is missing`, name)
    if (!Array.isArray(value)) throw malformed(this.#structure, `${name} is not an array`, name)
    return value
  }
}

function payloadMap(payload: Uint8Array, structure: string): ClaimReader {
  const map = decodeStrictCbor(payload, `${structure} claims`)
  if (!(map instanceof Map)) throw malformed(structure, 'the payload is not a map of claims')
  return new ClaimReader(map, structure)
}

function softwareComponent(value: unknown, index: number): CcaSoftwareComponent {
  const name = `software component ${index}`
  if (!(value instanceof Map))
    throw malformed(PLATFORM, `${name} is not a map`, 'cca-platform-sw-components')
  const reader = new ClaimReader(value, PLATFORM)
  const keys = SOFTWARE_COMPONENT_KEYS
  return {
    measurementType: reader.optionalText(keys.measurementType, `${name} measurement-type`),
    measurementValue: reader.bytes(
      keys.measurementValue,
      `${name} measurement-value`,
      DIGEST_SIZES,
    ),
    version: reader.optionalText(keys.version, `${name} version`),
    signerId: reader.bytes(keys.signerId, `${name} signer-id`, DIGEST_SIZES),
    hashAlgorithm: reader.optionalText(keys.hashAlgorithm, `${name} hash-algo-id`),
  }
}

/**
 * Decodes the claims of a CCA platform token and checks their types and sizes.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED`, `ERR_PARSE_OVERSIZED` or `ERR_PARSE_TRUNCATED`
 */
export function parsePlatformClaims(payload: Uint8Array): CcaPlatformClaims {
  const reader = payloadMap(payload, PLATFORM)
  const keys = PLATFORM_CLAIMS
  const instanceId = reader.bytes(keys.instanceId, 'cca-platform-instance-id', [INSTANCE_ID_SIZE])
  if (instanceId[0] !== UEID_TYPE_RAND) {
    const message = `cca-platform-instance-id is not a UEID of type RAND (first byte 0x01)`
    throw malformed(PLATFORM, message, 'cca-platform-instance-id')
  }
  const components = reader.array(keys.softwareComponents, 'cca-platform-sw-components')

  return {
    profile: reader.optionalText(keys.profile, 'cca-platform-profile'),
    challenge: reader.bytes(keys.challenge, 'cca-platform-challenge', DIGEST_SIZES),
    implementationId: reader.bytes(keys.implementationId, 'cca-platform-implementation-id', [
      IMPLEMENTATION_ID_SIZE,
    ]),
    instanceId,
    config: reader.bytes(keys.config, 'cca-platform-config'),
    lifecycle: reader.uint(keys.lifecycle, 'cca-platform-lifecycle', 0xffff),
    softwareComponents: components.map((value, index) => softwareComponent(value, index)),
    verificationService: reader.optionalText(
      keys.verificationService,
      'cca-platform-verification-service',
    ),
    hashAlgorithm: reader.text(keys.hashAlgorithm, 'cca-platform-hash-algo-id'),
  }
}

/** Decodes the RAK claim: a COSE_Key when the token names a profile, else a raw P-384 point. */
function realmPublicKey(
  publicKey: Uint8Array,
  profile: string | undefined,
): { rak: EcPublicPoint; publicKeyFormat: CcaRealmClaims['publicKeyFormat'] } {
  if (profile !== undefined) {
    return { rak: parseCoseEc2Key(publicKey, REALM), publicKeyFormat: 'cose-key' }
  }
  if (publicKey.length !== RAW_RAK_SIZE || publicKey[0] !== 0x04) {
    const message = `without a profile, cca-realm-public-key must be a ${RAW_RAK_SIZE}-byte uncompressed P-384 point`
    throw malformed(REALM, message, 'cca-realm-public-key')
  }
  return { rak: { curve: 'P-384', point: publicKey.slice(1) }, publicKeyFormat: 'raw-point' }
}

/**
 * Decodes the claims of a realm token and checks their types and sizes.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED`, `ERR_PARSE_OVERSIZED` or `ERR_PARSE_TRUNCATED`
 */
export function parseRealmClaims(payload: Uint8Array): CcaRealmClaims {
  const reader = payloadMap(payload, REALM)
  const keys = REALM_CLAIMS
  const profile = reader.optionalText(keys.profile, 'cca-realm-profile')
  const rems = reader.array(keys.extensibleMeasurements, 'cca-realm-extensible-measurements')
  if (rems.length !== REALM_EXTENSIBLE_MEASUREMENT_COUNT) {
    const message = `cca-realm-extensible-measurements has ${rems.length} entries, not ${REALM_EXTENSIBLE_MEASUREMENT_COUNT}`
    throw malformed(REALM, message, 'cca-realm-extensible-measurements')
  }
  const remReader = new ClaimReader(new Map(rems.map((rem, index) => [index, rem])), REALM)
  const publicKey = reader.bytes(keys.publicKey, 'cca-realm-public-key')

  return {
    profile,
    challenge: reader.bytes(keys.challenge, 'cca-realm-challenge', [REALM_CHALLENGE_SIZE]),
    personalizationValue: reader.bytes(
      keys.personalizationValue,
      'cca-realm-personalization-value',
      [PERSONALIZATION_VALUE_SIZE],
    ),
    initialMeasurement: reader.bytes(
      keys.initialMeasurement,
      'cca-realm-initial-measurement',
      DIGEST_SIZES,
    ),
    extensibleMeasurements: rems.map((_, index) =>
      remReader.bytes(index, `cca-realm-extensible-measurements[${index}]`, DIGEST_SIZES),
    ),
    hashAlgorithm: reader.text(keys.hashAlgorithm, 'cca-realm-hash-algo-id'),
    publicKey,
    publicKeyHashAlgorithm: reader.text(
      keys.publicKeyHashAlgorithm,
      'cca-realm-public-key-hash-algo-id',
    ),
    ...realmPublicKey(publicKey, profile),
  }
}

/** Returns the token bytes of a collection entry: a byte string, or a CMW record's value. */
function entryBytes(value: unknown, form: CcaToken['form'], field: string): Uint8Array {
  if (form === 'eat-collection') {
    if (value instanceof Uint8Array) return value
    throw malformed(COLLECTION, `${field} is not a byte string`, field)
  }
  const [type, bytes] = Array.isArray(value) ? (value as unknown[]) : []
  if (!Array.isArray(value) || value.length !== 2 || typeof type !== 'number') {
    throw malformed(COLLECTION, `${field} is not a CMW record [content-format, bytes]`, field)
  }
  if (!(bytes instanceof Uint8Array))
    throw malformed(COLLECTION, `${field} value is not bytes`, field)

  return bytes
}

/**
 * Decodes a CCA attestation token in either collection form and both of its COSE_Sign1 tokens.
 * Signatures are not checked here.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for input over 64 KiB; `ERR_PARSE_MALFORMED` or
 *   `ERR_PARSE_TRUNCATED` for input that is not a well-formed token.
 */
export function parseCcaToken(bytes: Uint8Array): CcaToken {
  if (bytes.length > MAX_TOKEN_SIZE) {
    const message = `input is ${bytes.length} bytes, more than ${MAX_TOKEN_SIZE}`
    throw new ParseError('ERR_PARSE_OVERSIZED', message, { structure: COLLECTION })
  }
  const decoded = decodeStrictCbor(bytes, COLLECTION, [CCA_TOKEN_TAG, CCA_CMW_COLLECTION_TAG])
  if (!(decoded instanceof Tag)) {
    throw malformed(
      COLLECTION,
      `the token is not wrapped in tag ${CCA_TOKEN_TAG} or ${CCA_CMW_COLLECTION_TAG}`,
    )
  }
  const form = decoded.tag === CCA_TOKEN_TAG ? 'eat-collection' : 'cmw-collection'
  const map: unknown = decoded.value
  if (!(map instanceof Map) || map.size !== 2) {
    throw malformed(
      COLLECTION,
      'the collection is not a map of exactly the platform and realm tokens',
    )
  }
  const platformBytes = entryBytes(map.get(CCA_PLATFORM_TOKEN_LABEL), form, 'cca-platform-token')
  const realmBytes = entryBytes(map.get(CCA_REALM_TOKEN_LABEL), form, 'cca-realm-delegated-token')
  const platformCose = parseCoseSign1Message(platformBytes, PLATFORM, MAX_PAYLOAD_SIZE)
  const realmCose = parseCoseSign1Message(realmBytes, REALM, MAX_PAYLOAD_SIZE)

  return {
    form,
    platform: { cose: platformCose, claims: parsePlatformClaims(platformCose.payload) },
    realm: { cose: realmCose, claims: parseRealmClaims(realmCose.payload) },
  }
}

/** Tells cheaply whether bytes start like a CCA token: tag 399 or 907 around a map. */
export function sniffCcaToken(bytes: Uint8Array): boolean {
  if (bytes.length < 4 || bytes.length > MAX_TOKEN_SIZE) return false
  // Tags 399 (0x018f) and 907 (0x038b) both take the two-byte argument form 0xd9.
  const tag = bytes[0] === 0xd9 ? ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0) : -1
  const startsMap = (bytes[3] ?? 0) >> 5 === 5

  return (tag === CCA_TOKEN_TAG || tag === CCA_CMW_COLLECTION_TAG) && startsMap
}
