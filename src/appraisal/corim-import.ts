/**
 * Reference values from a CoRIM: the measurements of its reference triples, mapped onto
 * confide claims where a profile defines what they measure.
 *
 * - AMD SEV-SNP (`tag:amd.com,2024:snp-corim-profile`): each uint mkey names a report field, as
 *   Veraison's sevsnp scheme and go-gen-ref number them. The profile's rules are enforced as
 *   Veraison enforces them: a reference environment has a byte-string instance, every
 *   measurement has a uint mkey, and a trust anchor environment names its vendor and model.
 * - Any other profile: each measurement becomes a value under the platform named by the
 *   profile, with the name Trustee's RVPS gives it. That name joins the environment's vendor and
 *   model, the mkey, and the measurement's name and serial number with `/`, then adds `digests`
 *   or `raw_bytes`. Such values are exported again, but no evidence is compared with them until
 *   a platform maps that profile.
 *
 * @module
 */
import { ParseError } from '../core/errors.js'
import {
  type Comid,
  type Corim,
  type CorimEnvironment,
  type CorimMeasurement,
  decodeCorim,
} from './corim.js'
import type { TypedValue } from './corim-items.js'
import {
  normalizeReferenceValue,
  type Provenance,
  type ReferenceValue,
} from './reference-values.js'

/** The AMD SEV-SNP CoRIM profile. */
export const SNP_CORIM_PROFILE = 'tag:amd.com,2024:snp-corim-profile'

/** The claim an SEV-SNP mkey maps onto, and the form of its value. */
interface SnpField {
  readonly claim: string
  /**
   * The value form. `digest` is a list of SHA-384 digests and `bytes` raw bytes as hex.
   * `u64-hex`, `u32-decimal` and `byte-decimal` are raw big-endian numbers, written as the claim
   * writes them. `tcb` is an exact SVN, written as the 8 little-endian TCB bytes. `decimal` is a
   * version number.
   */
  readonly form: 'digest' | 'bytes' | 'u64-hex' | 'u32-decimal' | 'byte-decimal' | 'tcb' | 'decimal'
}

/**
 * SEV-SNP report fields by mkey (Veraison's sevsnp scheme constants and go-gen-ref's ReportToComid).
 * The numbers from 640 on are the fields' bit offsets in the report; 0 to 7 are the first fields.
 */
const SNP_FIELDS: { readonly [mkey: string]: SnpField } = {
  0: { claim: 'raw.version', form: 'decimal' },
  2: { claim: 'raw.policy.value', form: 'u64-hex' },
  3: { claim: 'raw.familyId', form: 'bytes' },
  4: { claim: 'raw.imageId', form: 'bytes' },
  5: { claim: 'raw.vmpl', form: 'u32-decimal' },
  6: { claim: 'raw.currentTcb.bytes', form: 'tcb' },
  7: { claim: 'raw.platformInfo.value', form: 'u64-hex' },
  641: { claim: 'measurement', form: 'digest' },
  642: { claim: 'raw.hostData', form: 'bytes' },
  643: { claim: 'raw.idKeyDigest', form: 'bytes' },
  644: { claim: 'raw.authorKeyDigest', form: 'bytes' },
  647: { claim: 'raw.reportedTcb.bytes', form: 'tcb' },
  648: { claim: 'raw.cpuidFamId', form: 'byte-decimal' },
  649: { claim: 'raw.cpuidModId', form: 'byte-decimal' },
  650: { claim: 'raw.cpuidStep', form: 'byte-decimal' },
  3328: { claim: 'raw.chipId', form: 'bytes' },
  3329: { claim: 'raw.committedTcb.bytes', form: 'tcb' },
  3968: { claim: 'raw.launchTcb.bytes', form: 'tcb' },
}

/** SEV-SNP mkeys left out on purpose, and why. */
const SNP_SKIPPED: { readonly [mkey: string]: string } = {
  640: 'REPORT_DATA is chosen per session: compare it with the policy field reportData',
  645: 'REPORT_ID changes with every launch',
  646: 'REPORT_ID_MA changes with every launch',
  3330: 'the current firmware version is judged through the TCB values',
  3936: 'the committed firmware version is judged through the TCB values',
}

/** A measurement or triple that an import did not turn into a reference value. */
export interface SkippedMeasurement {
  readonly comidId: string
  readonly mkey?: string
  readonly reason: string
}

/** A key an attest-key triple names, with the environment whose evidence it signs. */
export interface VerificationKey {
  readonly comidId: string
  readonly environment: CorimEnvironment
  readonly key: TypedValue
}

/** The outcome of importing a CoRIM. */
export interface CorimImport {
  readonly corim: Corim
  readonly referenceValues: readonly ReferenceValue[]
  readonly verificationKeys: readonly VerificationKey[]
  /** Measurements and triples not turned into reference values, each with the reason. */
  readonly skipped: readonly SkippedMeasurement[]
}

function rejected(message: string, field: string): ParseError {
  return new ParseError(
    'ERR_PARSE_MALFORMED',
    `CoRIM rejected by the SEV-SNP profile: ${message}`,
    {
      structure: 'CoRIM',
      field,
    },
  )
}

function hexToBigInt(hex: string): bigint {
  return hex.length === 0 ? 0n : BigInt(`0x${hex}`)
}

/** Converts a 64-bit TCB value to the 8 little-endian bytes a report carries, as hex. */
function tcbBytes(value: bigint): string {
  let hex = ''
  for (let i = 0n; i < 8n; i++) hex += ((value >> (8n * i)) & 0xffn).toString(16).padStart(2, '0')
  return hex
}

function snpValues(measurement: CorimMeasurement, field: SnpField): string[] | string {
  const values = measurement.values
  const raw = values.rawValue
  switch (field.form) {
    case 'digest':
      return values.digests?.map((digest) => digest.value) ?? 'mkey 641 needs digests'
    case 'bytes':
      return raw === undefined ? 'needs a raw value' : [raw]
    case 'u64-hex':
      return raw === undefined ? 'needs a raw value' : [`0x${hexToBigInt(raw).toString(16)}`]
    case 'u32-decimal':
    case 'byte-decimal':
      return raw === undefined ? 'needs a raw value' : [hexToBigInt(raw).toString()]
    case 'decimal':
      return values.version === undefined ? 'needs a version' : [values.version.value]
    case 'tcb':
      if (values.svn === undefined) return 'needs an SVN'
      if (values.svn.kind === 'min') return 'a minimum SVN is a policy matter: use tcb.minimum'
      return [tcbBytes(values.svn.value)]
  }
}

function checkSnpComid(comid: Comid, where: string): void {
  comid.referenceTriples.forEach((triple, t) => {
    const instance = triple.environment.instance
    if (instance === undefined)
      throw rejected('missing instance', `${where}.reference-triples[${t}]`)
    if (instance.type !== 'bytes')
      throw rejected(
        `instance: expected bytes, got ${instance.type}`,
        `${where}.reference-triples[${t}]`,
      )
    triple.measurements.forEach((measurement, m) => {
      const at = `${where}.reference-triples[${t}].measurements[${m}]`
      if (measurement.key === undefined) throw rejected(`measurement ${m}: mkey not set`, at)
      if (measurement.key.type !== 'uint')
        throw rejected(
          `measurement ${m}: mkey type: expected uint, got ${measurement.key.type}`,
          at,
        )
    })
  })
  comid.attestKeyTriples.forEach((triple, t) => {
    const at = `${where}.attest-key-triples[${t}]`
    if (triple.environment.vendor === undefined) throw rejected('missing vendor', at)
    if (triple.environment.model === undefined) throw rejected('missing model', at)
    for (const key of triple.keys) {
      if (key.type !== 'pkix-base64-cert' && key.type !== 'pkix-base64-cert-path')
        throw rejected(`key must be a cert or a cert path, found ${key.type}`, at)
    }
  })
}

/** Trustee's RVPS name of a measurement: the present identifiers joined by `/`. */
function trusteeName(
  environment: CorimEnvironment,
  measurement: CorimMeasurement,
): string | undefined {
  const values = measurement.values
  const parts = [
    environment.vendor,
    environment.model,
    measurement.key?.value,
    values.name,
    values.serialNumber,
  ]
  const prefix = parts.filter((part): part is string => part !== undefined)
  if (values.digests !== undefined) return [...prefix, 'digests'].join('/')
  if (values.rawValue !== undefined) return [...prefix, 'raw_bytes'].join('/')

  return undefined
}

interface ImportContext {
  readonly corim: Corim
  readonly comid: Comid
  readonly provenance: Provenance
  readonly values: ReferenceValue[]
  readonly skipped: SkippedMeasurement[]
}

function validity(corim: Corim): Pick<ReferenceValue, 'notBefore' | 'notAfter'> {
  return {
    ...(corim.notBefore === undefined ? {} : { notBefore: corim.notBefore.toISOString() }),
    ...(corim.notAfter === undefined ? {} : { notAfter: corim.notAfter.toISOString() }),
  }
}

function addSnpMeasurement(context: ImportContext, measurement: CorimMeasurement): void {
  const mkey = measurement.key?.value ?? ''
  const skip = (reason: string) =>
    context.skipped.push({ comidId: context.comid.tagId, mkey, reason })
  const field = SNP_FIELDS[mkey]
  if (field === undefined) {
    skip(SNP_SKIPPED[mkey] ?? 'the SEV-SNP profile mapping does not name this mkey')
    return
  }
  const values = snpValues(measurement, field)
  if (typeof values === 'string') {
    skip(values)
    return
  }
  context.values.push({
    platform: 'snp',
    claim: field.claim,
    values,
    provenance: context.provenance,
    ...validity(context.corim),
  })
}

function addGenericMeasurement(
  context: ImportContext,
  environment: CorimEnvironment,
  measurement: CorimMeasurement,
): void {
  const name = trusteeName(environment, measurement)
  const mkey = measurement.key?.value
  if (name === undefined) {
    context.skipped.push({
      comidId: context.comid.tagId,
      ...(mkey === undefined ? {} : { mkey }),
      reason: 'has neither digests nor a raw value',
    })
    return
  }
  const digests = measurement.values.digests?.map((digest) => digest.value)
  const values = digests ?? [measurement.values.rawValue ?? '']
  const platform = context.corim.profile ?? 'corim'
  context.values.push({
    platform,
    claim: name,
    values,
    provenance: context.provenance,
    ...validity(context.corim),
  })
}

function importComid(
  corim: Corim,
  comid: Comid,
  source: string,
  out: Omit<ImportContext, 'corim' | 'comid' | 'provenance'>,
  keys: VerificationKey[],
): void {
  const snp = corim.profile === SNP_CORIM_PROFILE
  if (snp) checkSnpComid(comid, `comid ${comid.tagId}`)
  const provenance: Provenance = {
    source,
    format: 'corim',
    ...(corim.profile === undefined ? {} : { corimProfile: corim.profile }),
    corimId: corim.id,
    comidId: comid.tagId,
  }
  const context: ImportContext = { corim, comid, provenance, ...out }
  for (const triple of comid.referenceTriples) {
    for (const measurement of triple.measurements) {
      if (snp) addSnpMeasurement(context, measurement)
      else addGenericMeasurement(context, triple.environment, measurement)
    }
  }
  for (const triple of comid.attestKeyTriples) {
    for (const key of triple.keys)
      keys.push({ comidId: comid.tagId, environment: triple.environment, key })
  }
  for (const name of comid.otherTriples)
    out.skipped.push({ comidId: comid.tagId, reason: `${name} are not reference values` })
}

/**
 * Imports an unsigned CoRIM (or a lone CoMID): its reference values with provenance (`source`,
 * the CoRIM id and profile, the CoMID tag id) and the CoRIM's validity, the verification keys of
 * its attest-key triples, and what was skipped and why.
 *
 * @param source Names the file or origin of the bytes, recorded in each value's provenance.
 * @throws ParseError `ERR_PARSE_MALFORMED` for a malformed CoRIM, or one that breaks a rule of its
 *   profile. The message names the rule, such as `mkey not set`.
 * @throws ParseError `ERR_PARSE_OVERSIZED` for a CoRIM larger than `MAX_CORIM_SIZE`.
 */
export function importCorim(bytes: Uint8Array, source: string): CorimImport {
  const corim = decodeCorim(bytes)
  const values: ReferenceValue[] = []
  const skipped: SkippedMeasurement[] = []
  const verificationKeys: VerificationKey[] = []
  for (const comid of corim.comids)
    importComid(corim, comid, source, { values, skipped }, verificationKeys)

  return {
    corim,
    referenceValues: values.map(normalizeReferenceValue),
    verificationKeys,
    skipped,
  }
}
