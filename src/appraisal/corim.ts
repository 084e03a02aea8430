/**
 * CoRIM and CoMID decoding (unsigned): the CBOR structures Veraison and Trustee use to carry
 * reference values and verification keys. Pure: no crypto, no I/O.
 *
 * From the CoRIM map (tag 501, or untagged), confide reads the id, the CoMID tags (tag 506 around a
 * byte string), the profile and the validity. From each CoMID it reads the tag id, the reference
 * triples and the attest-key triples. Other triples are listed by name but not read. A signed
 * CoRIM (COSE_Sign1, tag 18) is rejected.
 *
 * @see IETF draft-ietf-rats-corim (Concise Reference Integrity Manifest), the CDDL of
 *   corim-map, concise-mid-tag, triples-map, environment-map and measurement-map
 * @module
 */
import { Decoder, Tag } from 'cbor-x'
import { toHex } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import {
  asArray,
  asBytes,
  asMap,
  asText,
  asUnsigned,
  CORIM_TAG,
  malformed,
  type TypedValue,
  typedValue,
  uuidText,
} from './corim-items.js'

/** Largest CoRIM read. Real ones are a few KiB; a signed manifest of a large image is still small. */
export const MAX_CORIM_SIZE = 4 * 1024 * 1024

/** Keys of the triples map, by name. */
const TRIPLE_NAMES: { readonly [key: number]: string } = {
  0: 'reference-triples',
  1: 'endorsed-triples',
  2: 'identity-triples',
  3: 'attest-key-triples',
  4: 'dependency-triples',
  5: 'membership-triples',
  6: 'coswid-triples',
  8: 'conditional-endorsement-series-triples',
  10: 'conditional-endorsement-triples',
}

/** environment-map: what the measurements describe. */
export interface CorimEnvironment {
  readonly classId?: TypedValue
  readonly vendor?: string
  readonly model?: string
  readonly layer?: number
  readonly index?: number
  readonly instance?: TypedValue
  readonly group?: TypedValue
}

/** measurement-values-map, the fields confide reads. */
export interface MeasurementValues {
  /** version-map: the version text and its scheme number. */
  readonly version?: { readonly value: string; readonly scheme?: number }
  /** An SVN: exact (untagged or tag 552) or a minimum (tag 553). */
  readonly svn?: { readonly kind: 'exact' | 'min'; readonly value: bigint }
  /** digests: algorithm (named-information number or name) and the digest in hex. */
  readonly digests?: readonly { readonly algorithm: string; readonly value: string }[]
  /** raw-value as tagged bytes (560), hex. */
  readonly rawValue?: string
  readonly name?: string
  readonly serialNumber?: string
  /** Keys of the map that confide does not read, such as flags (3) or cryptokeys (13). */
  readonly otherKeys: readonly string[]
}

/** measurement-map: one measured element. */
export interface CorimMeasurement {
  /** mkey. Absent when the map has none. */
  readonly key?: TypedValue
  readonly values: MeasurementValues
}

/** reference-triple-record: an environment and its expected measurements. */
export interface ReferenceTriple {
  readonly environment: CorimEnvironment
  readonly measurements: readonly CorimMeasurement[]
}

/** attest-key-triple-record: an environment and the keys its evidence is signed with. */
export interface AttestKeyTriple {
  readonly environment: CorimEnvironment
  readonly keys: readonly TypedValue[]
}

/** One concise-mid-tag. */
export interface Comid {
  /** tag-identity / tag-id: text, or a UUID. */
  readonly tagId: string
  readonly referenceTriples: readonly ReferenceTriple[]
  readonly attestKeyTriples: readonly AttestKeyTriple[]
  /** Names of the other triple kinds present, such as `endorsed-triples`. */
  readonly otherTriples: readonly string[]
}

/** An unsigned CoRIM. */
export interface Corim {
  readonly id: string
  /** The profile URI or OID, when present. */
  readonly profile?: string
  readonly notBefore?: Date
  readonly notAfter?: Date
  readonly comids: readonly Comid[]
  /** Tags other than CoMIDs (such as CoSWIDs), counted by tag number. */
  readonly otherTags: readonly number[]
}

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false })
const STRUCTURE = 'CoRIM'

function readClass(value: unknown, where: string): Partial<CorimEnvironment> {
  const map = asMap(value, where)
  const classId = map.get(0)
  const vendor = map.get(1)
  const model = map.get(2)
  const layer = map.get(3)
  const index = map.get(4)
  return {
    ...(classId === undefined ? {} : { classId: typedValue(classId, `${where}.class-id`) }),
    ...(vendor === undefined ? {} : { vendor: asText(vendor, `${where}.vendor`) }),
    ...(model === undefined ? {} : { model: asText(model, `${where}.model`) }),
    ...(layer === undefined ? {} : { layer: asUnsigned(layer, `${where}.layer`) }),
    ...(index === undefined ? {} : { index: asUnsigned(index, `${where}.index`) }),
  }
}

function readEnvironment(value: unknown, where: string): CorimEnvironment {
  const map = asMap(value, where)
  const classMap = map.get(0)
  const instance = map.get(1)
  const group = map.get(2)
  return {
    ...(classMap === undefined ? {} : readClass(classMap, `${where}.class`)),
    ...(instance === undefined ? {} : { instance: typedValue(instance, `${where}.instance`) }),
    ...(group === undefined ? {} : { group: typedValue(group, `${where}.group`) }),
  }
}

function readSvn(value: unknown, where: string): MeasurementValues['svn'] {
  if (typeof value === 'number' || typeof value === 'bigint')
    return { kind: 'exact', value: BigInt(value) }
  if (value instanceof Tag && (value.tag === CORIM_TAG.SVN || value.tag === CORIM_TAG.MIN_SVN)) {
    const inner = value.value
    if (
      (typeof inner === 'number' && Number.isInteger(inner) && inner >= 0) ||
      typeof inner === 'bigint'
    )
      return { kind: value.tag === CORIM_TAG.SVN ? 'exact' : 'min', value: BigInt(inner) }
  }
  throw malformed(where, 'is not an SVN (an unsigned integer, or tag 552 or 553 around one)')
}

function readDigests(value: unknown, where: string): MeasurementValues['digests'] {
  return asArray(value, where).map((entry, i) => {
    const pair = asArray(entry, `${where}[${i}]`)
    const [algorithm, digest] = pair
    if (pair.length !== 2) throw malformed(`${where}[${i}]`, 'a digest is not [algorithm, value]')
    const name =
      typeof algorithm === 'string' ? algorithm : String(asUnsigned(algorithm, `${where}[${i}]`))
    return { algorithm: name, value: toHex(asBytes(digest, `${where}[${i}]`)) }
  })
}

function readVersion(value: unknown, where: string): MeasurementValues['version'] {
  const map = asMap(value, where)
  const scheme = map.get(1)
  return {
    value: asText(map.get(0), `${where}.version`),
    ...(scheme === undefined ? {} : { scheme: asUnsigned(scheme, `${where}.version-scheme`) }),
  }
}

function readRawValue(value: unknown, where: string): string {
  if (value instanceof Tag && value.tag === CORIM_TAG.BYTES)
    return toHex(asBytes(value.value, where))
  throw malformed(where, 'raw-value other than tagged bytes (560) is not supported')
}

/** Keys of measurement-values-map confide reads. */
const VALUE_READERS: { readonly [key: number]: string } = {
  0: 'version',
  1: 'svn',
  2: 'digests',
  4: 'raw-value',
  8: 'serial-number',
  11: 'name',
}

function readValues(value: unknown, where: string): MeasurementValues {
  const map = asMap(value, where)
  const out: Record<string, unknown> = {}
  const otherKeys: string[] = []
  for (const [key, item] of map) {
    const field = typeof key === 'number' ? VALUE_READERS[key] : undefined
    const at = `${where}.${field ?? String(key)}`
    if (field === 'version') out.version = readVersion(item, at)
    else if (field === 'svn') out.svn = readSvn(item, at)
    else if (field === 'digests') out.digests = readDigests(item, at)
    else if (field === 'raw-value') out.rawValue = readRawValue(item, at)
    else if (field === 'serial-number') out.serialNumber = asText(item, at)
    else if (field === 'name') out.name = asText(item, at)
    else otherKeys.push(String(key))
  }

  return { ...(out as Omit<MeasurementValues, 'otherKeys'>), otherKeys }
}

function readMeasurement(value: unknown, where: string): CorimMeasurement {
  const map = asMap(value, where)
  const key = map.get(0)
  return {
    ...(key === undefined ? {} : { key: typedValue(key, `${where}.mkey`) }),
    values: readValues(map.get(1) ?? new Map(), `${where}.mval`),
  }
}

function readReferenceTriple(value: unknown, where: string): ReferenceTriple {
  const [environment, measurements] = asArray(value, where)
  return {
    environment: readEnvironment(environment, `${where}.environment`),
    measurements: asArray(measurements, `${where}.measurements`).map((item, i) =>
      readMeasurement(item, `${where}.measurements[${i}]`),
    ),
  }
}

function readAttestKeyTriple(value: unknown, where: string): AttestKeyTriple {
  const [environment, keys] = asArray(value, where)
  return {
    environment: readEnvironment(environment, `${where}.environment`),
    keys: asArray(keys, `${where}.keys`).map((key, i) => typedValue(key, `${where}.keys[${i}]`)),
  }
}

function tagIdOf(identity: unknown, where: string): string {
  const id = asMap(identity, where).get(0)
  if (typeof id === 'string') return id
  if (id instanceof Uint8Array) return uuidText(id, `${where}.tag-id`)
  throw malformed(`${where}.tag-id`, 'is neither text nor a UUID')
}

/** Decodes one CoMID (a concise-mid-tag map, or its CBOR bytes). */
export function decodeComid(value: unknown, where = 'comid'): Comid {
  const map = asMap(value instanceof Uint8Array ? decodeCbor(value, where) : value, where)
  const triples = asMap(map.get(4) ?? new Map(), `${where}.triples`)
  const referenceTriples: ReferenceTriple[] = []
  const attestKeyTriples: AttestKeyTriple[] = []
  const otherTriples: string[] = []
  for (const [key, list] of triples) {
    const name =
      (typeof key === 'number' ? TRIPLE_NAMES[key] : undefined) ?? `triples-${String(key)}`
    const items = asArray(list, `${where}.${name}`)
    for (const [i, item] of items.entries()) {
      const at = `${where}.${name}[${i}]`
      if (key === 0) referenceTriples.push(readReferenceTriple(item, at))
      else if (key === 3) attestKeyTriples.push(readAttestKeyTriple(item, at))
    }
    if (key !== 0 && key !== 3) otherTriples.push(name)
  }

  return {
    tagId: tagIdOf(map.get(1), `${where}.tag-identity`),
    referenceTriples,
    attestKeyTriples,
    otherTriples,
  }
}

function decodeCbor(bytes: Uint8Array, where: string): unknown {
  try {
    return decoder.decode(bytes)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      `CoRIM ${where} is not CBOR: ${reason}`,
      { structure: STRUCTURE, field: where },
      { cause: error },
    )
  }
}

function readValidity(value: unknown): { notBefore?: Date; notAfter?: Date } {
  if (value === undefined) return {}
  const map = asMap(value, 'rim-validity')
  const time = (item: unknown, where: string): Date => {
    if (item instanceof Date && !Number.isNaN(item.getTime())) return item
    throw malformed(where, 'is not a time (tag 1)')
  }
  const notBefore = map.get(0)
  return {
    ...(notBefore === undefined ? {} : { notBefore: time(notBefore, 'rim-validity.not-before') }),
    notAfter: time(map.get(1), 'rim-validity.not-after'),
  }
}

function readProfile(value: unknown): string | undefined {
  if (value === undefined) return undefined
  // Trustee's sample writes the profile as plain text; the CDDL wants tag 32 or an OID.
  if (typeof value === 'string') return value
  const typed = typedValue(value, 'profile')
  if (typed.type === 'uri' || typed.type === 'oid') return typed.value
  throw malformed('profile', 'is neither a URI nor an OID')
}

/**
 * Decodes an unsigned CoRIM, tagged (501) or not, or a lone CoMID (tag 506 around its bytes or
 * map), which reads as a CoRIM of one tag with the id `comid`.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for CBOR that is not a CoRIM and for a signed CoRIM,
 *   which is not supported yet. Its `field` is the path of the bad item.
 * @throws ParseError `ERR_PARSE_OVERSIZED` for input beyond `MAX_CORIM_SIZE`.
 */
export function decodeCorim(bytes: Uint8Array): Corim {
  if (bytes.length > MAX_CORIM_SIZE)
    throw new ParseError(
      'ERR_PARSE_OVERSIZED',
      `CoRIM is ${bytes.length} bytes, more than ${MAX_CORIM_SIZE}`,
      { structure: STRUCTURE },
    )
  const top = decodeCbor(bytes, 'document')
  if (top instanceof Tag && top.tag === CORIM_TAG.COSE_SIGN1)
    throw malformed(
      'document',
      'is a signed CoRIM (COSE_Sign1), which confide does not read yet; import the unsigned CoRIM',
    )
  if (top instanceof Tag && top.tag === CORIM_TAG.COMID)
    return { id: 'comid', comids: [decodeComid(top.value, 'comid')], otherTags: [] }
  const map = asMap(top instanceof Tag && top.tag === CORIM_TAG.CORIM ? top.value : top, 'document')
  const id = map.get(0)
  const comids: Comid[] = []
  const otherTags: number[] = []
  asArray(map.get(1), 'tags').forEach((tag, i) => {
    if (tag instanceof Tag && tag.tag === CORIM_TAG.COMID)
      comids.push(decodeComid(tag.value, `tags[${i}]`))
    else if (tag instanceof Tag) otherTags.push(tag.tag)
    else throw malformed(`tags[${i}]`, 'is not a tagged concise tag')
  })
  const profile = readProfile(map.get(3))

  return {
    id: id instanceof Uint8Array ? uuidText(id, 'id') : asText(id, 'id'),
    ...(profile === undefined ? {} : { profile }),
    ...readValidity(map.get(4)),
    comids,
    otherTags,
  }
}
