/**
 * Composite evidence: several pieces of evidence (a CPU TEE's and one per GPU, say) in one JSON
 * document shaped as a RATS Conceptual Message Wrapper (CMW) collection. Pure: no crypto, no I/O.
 *
 * The document is a JSON object. The optional key `__cmwc_t` names the collection type and is
 * not interpreted. Every other key is a label (1 to 64 of `A-Z a-z 0-9 . _ -`) naming one
 * component, and its value is either
 * - a CMW record `[media-type, base64url(evidence), indicator?]`, where the indicator, when
 *   present, must have the evidence bit (4) set; or
 * - a CMW collection holding exactly one such evidence record (under any label, with indicator 4
 *   or the label `evidence`) and, under file names, records of that component's collateral
 *   (indicator 2, endorsements), such as `["application/x-pem-file", "...", 2]` under
 *   `cert_chain.pem`.
 *
 * The media type `application/vnd.confide.<platform>` names the platform that reads the
 * evidence (`application/vnd.confide.tdx`, `application/vnd.confide.nvidia`);
 * `application/octet-stream` leaves it to detection. These media types are confide's own and are
 * not registered. Example:
 *
 * ```json
 * {
 *   "cpu": ["application/vnd.confide.tdx", "AwACAAAAAAAL...", 4],
 *   "gpu0": { "evidence": ["application/vnd.confide.nvidia", "EeAB_w...", 4],
 *             "cert_chain.pem": ["application/x-pem-file", "LS0tLS1CRUdJTi...", 2] }
 * }
 * ```
 *
 * @see draft-ietf-rats-msg-wrap (CMW), §3.1 (record), §3.3 (collection) and §4.1 (indicator bits)
 * @module
 */
import { fromBase64, toBase64 } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'

/** The collection key that names the collection type. */
export const CMW_COLLECTION_TYPE_KEY = '__cmwc_t'
/** Bits of the CMW indicator (draft-ietf-rats-msg-wrap §4.1). */
export const CMW_INDICATOR = {
  referenceValues: 1,
  endorsements: 2,
  evidence: 4,
  attestationResults: 8,
} as const
/** Media type prefix that names a confide platform. */
export const PLATFORM_MEDIA_TYPE_PREFIX = 'application/vnd.confide.'
/** Media type of evidence whose platform is detected from its bytes. */
export const DETECTED_MEDIA_TYPE = 'application/octet-stream'
/** Largest composite document read. */
export const MAX_COMPOSITE_SIZE = 4 * 1024 * 1024
/** Maximum number of components in one document. */
export const MAX_COMPONENTS = 64
/** Maximum number of collateral records of one component. */
export const MAX_ENDORSEMENTS = 32

const LABEL = /^[A-Za-z0-9._-]{1,64}$/
const PLATFORM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/
const STRUCTURE = 'CompositeEvidence'

/** One component of composite evidence. */
export interface CompositeComponent {
  readonly label: string
  readonly mediaType: string
  /** The platform the media type names, or undefined when it is detected from the bytes. */
  readonly platform: string | undefined
  readonly evidence: Uint8Array
  /** Collateral files the document carries for this component, by file name. */
  readonly collateral: ReadonlyMap<string, Uint8Array>
}

/** Decoded composite evidence. */
export interface CompositeEvidence {
  /** The `__cmwc_t` value, when present. */
  readonly collectionType: string | undefined
  readonly components: readonly CompositeComponent[]
}

function malformed(message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `composite evidence: ${message}`, {
    structure: STRUCTURE,
    ...(field === undefined ? {} : { field }),
  })
}

interface CmwRecord {
  readonly mediaType: string
  readonly value: Uint8Array
  readonly indicator: number | undefined
}

function readRecord(value: unknown, where: string): CmwRecord {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3) {
    throw malformed(`${where} is not a CMW record [media-type, base64url value, indicator?]`, where)
  }
  const [mediaType, text, indicator] = value as unknown[]
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw malformed(`${where} has no media type string (CoAP content-formats are not read)`, where)
  }
  if (typeof text !== 'string' || !BASE64URL.test(text))
    throw malformed(`${where} value is not base64url text`, where)
  if (
    indicator !== undefined &&
    (!Number.isInteger(indicator) || (indicator as number) < 0 || (indicator as number) > 31)
  ) {
    throw malformed(`${where} indicator is not an integer from 0 to 31`, where)
  }
  return { mediaType, value: fromBase64(text), indicator: indicator as number | undefined }
}

function isEvidenceRecord(record: CmwRecord, label: string): boolean {
  return record.indicator === undefined
    ? label === 'evidence'
    : (record.indicator & CMW_INDICATOR.evidence) !== 0
}

function platformOf(mediaType: string, where: string): string | undefined {
  if (mediaType === DETECTED_MEDIA_TYPE) return undefined
  const name = mediaType.startsWith(PLATFORM_MEDIA_TYPE_PREFIX)
    ? mediaType.slice(PLATFORM_MEDIA_TYPE_PREFIX.length)
    : ''
  if (!PLATFORM_NAME.test(name)) {
    const message = `${where} has media type "${mediaType}": use ${PLATFORM_MEDIA_TYPE_PREFIX}<platform> or ${DETECTED_MEDIA_TYPE}`
    throw malformed(message, where)
  }
  return name
}

function componentFromRecord(
  label: string,
  record: CmwRecord,
  collateral: Map<string, Uint8Array>,
): CompositeComponent {
  if (record.indicator !== undefined && (record.indicator & CMW_INDICATOR.evidence) === 0) {
    throw malformed(
      `${label} is a record whose indicator ${record.indicator} does not mark evidence (4)`,
      label,
    )
  }
  return {
    label,
    mediaType: record.mediaType,
    platform: platformOf(record.mediaType, label),
    evidence: record.value,
    collateral,
  }
}

function componentFromCollection(
  label: string,
  value: Record<string, unknown>,
): CompositeComponent {
  let evidence: CmwRecord | undefined
  const collateral = new Map<string, Uint8Array>()
  for (const [key, entry] of Object.entries(value)) {
    if (key === CMW_COLLECTION_TYPE_KEY) continue
    const where = `${label}.${key}`
    if (!LABEL.test(key))
      throw malformed(`${where} is not a label of 1 to 64 letters, digits, '.', '_' or '-'`, where)
    const record = readRecord(entry, where)
    if (isEvidenceRecord(record, key)) {
      if (evidence !== undefined)
        throw malformed(`${label} contains more than one evidence record`, label)
      evidence = record
    } else {
      collateral.set(key, record.value)
    }
  }
  if (evidence === undefined)
    throw malformed(
      `${label} contains no evidence record (indicator 4, or label "evidence")`,
      label,
    )
  if (collateral.size > MAX_ENDORSEMENTS)
    throw malformed(`${label} contains more than ${MAX_ENDORSEMENTS} collateral records`, label)

  return componentFromRecord(label, evidence, collateral)
}

function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      'composite evidence is not JSON',
      { structure: STRUCTURE },
      { cause: error },
    )
  }
}

/**
 * Decodes composite evidence (see the module comment for the shape). The components' own
 * evidence is not decoded here: their platforms do that.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for a document over 4 MiB or with more than 64
 *   components, `ERR_PARSE_MALFORMED` for any other departure from the shape.
 */
export function parseCompositeEvidence(bytes: Uint8Array): CompositeEvidence {
  if (bytes.length > MAX_COMPOSITE_SIZE) {
    const message = `composite evidence is ${bytes.length} bytes, more than ${MAX_COMPOSITE_SIZE}`
    throw new ParseError('ERR_PARSE_OVERSIZED', message, { structure: STRUCTURE })
  }
  const json = decodeJson(bytes)
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw malformed('the document is not a JSON object')
  const entries = Object.entries(json as Record<string, unknown>)
  const type = (json as Record<string, unknown>)[CMW_COLLECTION_TYPE_KEY]
  if (type !== undefined && typeof type !== 'string')
    throw malformed(`${CMW_COLLECTION_TYPE_KEY} is not a string`)
  const components: CompositeComponent[] = []
  for (const [label, value] of entries) {
    if (label === CMW_COLLECTION_TYPE_KEY) continue
    if (!LABEL.test(label))
      throw malformed(
        `"${label.slice(0, 64)}" is not a label of 1 to 64 letters, digits, '.', '_' or '-'`,
      )
    if (components.length >= MAX_COMPONENTS) {
      throw new ParseError(
        'ERR_PARSE_OVERSIZED',
        `composite evidence has more than ${MAX_COMPONENTS} components`,
        { structure: STRUCTURE },
      )
    }
    const isCollection = typeof value === 'object' && value !== null && !Array.isArray(value)
    components.push(
      isCollection
        ? componentFromCollection(label, value as Record<string, unknown>)
        : componentFromRecord(label, readRecord(value, label), new Map()),
    )
  }
  if (components.length === 0) throw malformed('the document names no component')

  return { collectionType: type, components }
}

/** Tells cheaply whether bytes are composite evidence. Returns false rather than throwing. */
export function sniffCompositeEvidence(bytes: Uint8Array): boolean {
  if (bytes.length > MAX_COMPOSITE_SIZE) return false
  const first = bytes.find(
    (byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d,
  )
  if (first !== 0x7b) return false
  try {
    parseCompositeEvidence(bytes)
    return true
  } catch {
    // Anything the parser rejects is not composite evidence.
    return false
  }
}

/** One component to encode. */
export interface CompositeComponentInput {
  readonly label: string
  /** The platform name; absent: `application/octet-stream`, so the platform is detected. */
  readonly platform?: string
  readonly evidence: Uint8Array
  /** Collateral files to carry beside the evidence, by file name. */
  readonly collateral?: ReadonlyMap<string, Uint8Array>
}

function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Encodes components as composite evidence: a record per component, or a collection when the
 * component carries collateral. The result reads back with {@link parseCompositeEvidence}.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for an invalid or repeated label or platform name.
 */
export function encodeCompositeEvidence(
  components: readonly CompositeComponentInput[],
  collectionType?: string,
): Uint8Array {
  // Entries become own properties, so a label such as `__proto__` is kept as a key.
  const document: [string, unknown][] = []
  if (collectionType !== undefined) document.push([CMW_COLLECTION_TYPE_KEY, collectionType])
  const labels = new Set<string>()
  for (const component of components) {
    if (!LABEL.test(component.label) || component.label === CMW_COLLECTION_TYPE_KEY) {
      throw malformed(`"${component.label}" is not a valid label`)
    }
    if (labels.has(component.label)) throw malformed(`the label "${component.label}" is used twice`)
    labels.add(component.label)
    if (component.platform !== undefined && !PLATFORM_NAME.test(component.platform)) {
      throw malformed(`"${component.platform}" is not a valid platform name`)
    }
    const mediaType =
      component.platform === undefined
        ? DETECTED_MEDIA_TYPE
        : `${PLATFORM_MEDIA_TYPE_PREFIX}${component.platform}`
    const record = [mediaType, toBase64Url(component.evidence), CMW_INDICATOR.evidence]
    const collateral = component.collateral ?? new Map<string, Uint8Array>()
    if (collateral.size === 0) {
      document.push([component.label, record])
      continue
    }
    const collection: [string, unknown][] = [['evidence', record]]
    for (const [name, bytes] of collateral) {
      if (!LABEL.test(name) || name === 'evidence')
        throw malformed(`"${name}" is not a valid collateral file name`)
      collection.push([name, [DETECTED_MEDIA_TYPE, toBase64Url(bytes), CMW_INDICATOR.endorsements]])
    }
    document.push([component.label, Object.fromEntries(collection)])
  }
  return new TextEncoder().encode(JSON.stringify(Object.fromEntries(document)))
}
