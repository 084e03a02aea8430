/**
 * Reference values: the accepted values of a claim (a launch measurement, an RTMR, a PCR, an
 * SEV-SNP HOST_DATA, ...) for one platform, each with where it came from and when it is valid.
 *
 * @module
 */
import { ParseError } from '../core/errors.js'
import { comparableText } from './claim-path.js'
import { parseInstant } from './instant.js'
import { validateJsonSchema } from './json-schema.js'
import { REFERENCE_VALUES_SCHEMA } from './schemas.js'

/** The origin of a reference value. */
export interface Provenance {
  /** The file, URL, build or CoRIM the value came from. */
  readonly source: string
  /** The format it was read from. Absent: entered by hand or through the API. */
  readonly format?: 'json' | 'corim'
  /** A description of what was measured. */
  readonly description?: string
  /** For a value read from a CoRIM: its profile, its `corim-id` and the CoMID's `tag-id`. */
  readonly corimProfile?: string
  readonly corimId?: string
  readonly comidId?: string
}

/** The accepted values of one claim of one platform. */
export interface ReferenceValue {
  /** Platform name, such as `tdx`. Values for other platforms are never compared. */
  readonly platform: string
  /** Dotted path of the claim compared, such as `measurement` or `raw.rtmr1`. */
  readonly claim: string
  /** Accepted values: hex in lower case, decimal integers, or text. */
  readonly values: readonly string[]
  readonly provenance: Provenance
  /** First instant the value is valid, ISO-8601. Absent: valid from any time. */
  readonly notBefore?: string
  /** Last instant the value is valid, ISO-8601. Absent: valid until replaced. */
  readonly notAfter?: string
}

/**
 * A source of reference values. The in-memory store below is the only implementation for now;
 * the service will add one backed by its database, behind this same interface.
 */
export interface ReferenceValueStore {
  /** Returns the reference values of one platform, valid or not. */
  find(platform: string): Promise<readonly ReferenceValue[]>
  /** Returns every reference value. */
  list(): Promise<readonly ReferenceValue[]>
  /** Adds reference values; values already present are kept. */
  add(values: readonly ReferenceValue[]): Promise<void>
}

/** Reference values kept in memory, such as those read from a file for one CLI run. */
export class MemoryReferenceValueStore implements ReferenceValueStore {
  readonly #values: ReferenceValue[] = []

  constructor(values: readonly ReferenceValue[] = []) {
    this.#values.push(...values)
  }

  async find(platform: string): Promise<readonly ReferenceValue[]> {
    return this.#values.filter((value) => value.platform === platform)
  }

  async list(): Promise<readonly ReferenceValue[]> {
    return [...this.#values]
  }

  async add(values: readonly ReferenceValue[]): Promise<void> {
    this.#values.push(...values)
  }
}

/** Tells whether a reference value is valid at an instant. */
export function isValidAt(value: ReferenceValue, at: Date): boolean {
  const time = at.getTime()
  if (value.notBefore !== undefined && time < Date.parse(value.notBefore)) return false
  if (value.notAfter !== undefined && time > Date.parse(value.notAfter)) return false

  return true
}

/** Returns a copy with its values in comparable form (hex in lower case) and without repeats. */
export function normalizeReferenceValue(value: ReferenceValue): ReferenceValue {
  const values = [...new Set(value.values.map((item) => comparableText(item) ?? item))]
  return { ...value, values }
}

/** Fields of a reference value in the order files list them. */
function orderedFields(value: ReferenceValue): Record<string, unknown> {
  return {
    platform: value.platform,
    claim: value.claim,
    values: value.values,
    provenance: value.provenance,
    ...(value.notBefore === undefined ? {} : { notBefore: value.notBefore }),
    ...(value.notAfter === undefined ? {} : { notAfter: value.notAfter }),
  }
}

/** Serializes reference values as the JSON file `parseReferenceValuesJson` reads. */
export function exportReferenceValues(values: readonly ReferenceValue[]): string {
  return `${JSON.stringify({ referenceValues: values.map(orderedFields) }, null, 2)}\n`
}

function invalidDocument(message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `reference values: ${message}`, {
    structure: 'ReferenceValues',
    ...(field === undefined ? {} : { field }),
  })
}

/**
 * Reads a reference values document in JSON: `{ "referenceValues": [ ... ] }`, each entry a
 * `ReferenceValue`. Entries without a provenance get `{ source, format: 'json' }`.
 *
 * @param source Names the file or origin, recorded as the provenance of entries without one.
 * @throws ParseError `ERR_PARSE_MALFORMED` naming the first field that breaks the schema.
 */
export function parseReferenceValuesJson(text: string, source: string): ReferenceValue[] {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw invalidDocument(`not JSON (${reason})`)
  }
  const violations = validateJsonSchema(document, REFERENCE_VALUES_SCHEMA)
  const first = violations[0]
  if (first !== undefined) {
    const list = violations.map((v) => `${v.path || '/'} ${v.message}`).join('; ')
    throw invalidDocument(list, first.path)
  }
  // The schema allows an entry without provenance; it gets one below.
  type Entry = Omit<ReferenceValue, 'provenance'> & { readonly provenance?: Provenance }
  const entries = (document as { referenceValues: Entry[] }).referenceValues
  for (const entry of entries) {
    const problem = validityProblem({ ...entry, provenance: { source } })
    if (problem !== undefined) throw invalidDocument(`${entry.platform} ${problem}`)
  }

  return entries.map((entry) =>
    normalizeReferenceValue({
      ...entry,
      provenance: entry.provenance ?? { source, format: 'json' },
    }),
  )
}

/**
 * Returns what is wrong with a value's validity window: a time that does not exist, or a
 * `notBefore` after its `notAfter`. Returns undefined for a sound window.
 */
export function validityProblem(value: ReferenceValue): string | undefined {
  for (const field of ['notBefore', 'notAfter'] as const) {
    const text = value[field]
    if (text !== undefined && parseInstant(text) === undefined)
      return `${value.claim}: ${field} ${text} is not a valid time`
  }
  if (
    value.notBefore !== undefined &&
    value.notAfter !== undefined &&
    Date.parse(value.notBefore) > Date.parse(value.notAfter)
  ) {
    return `${value.claim}: notBefore ${value.notBefore} is after notAfter ${value.notAfter}`
  }

  return undefined
}
