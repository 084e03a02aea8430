/**
 * A small validator for the subset of JSON Schema (draft 2020-12) that confide's own document
 * schemas use: `type`, `properties`, `required`, `additionalProperties`, `propertyNames`, `items`,
 * `enum`, `pattern`, `minLength`, `maxLength`, `minItems`, `maxItems`, `uniqueItems`, `minimum`,
 * `maximum`, `anyOf` and local `$ref` into `$defs`. Annotations (`title`, `description`,
 * `default`, `$schema`, `$id`) are ignored. Any other keyword is rejected when the validator meets
 * it, so a schema can never silently lose a constraint.
 *
 * @module
 */

/** A JSON Schema document or subschema in the supported subset. */
export interface JsonSchema {
  readonly $schema?: string
  readonly $id?: string
  readonly $ref?: string
  readonly $defs?: { readonly [name: string]: JsonSchema }
  readonly title?: string
  readonly description?: string
  readonly default?: unknown
  readonly type?: JsonType | readonly JsonType[]
  readonly properties?: { readonly [name: string]: JsonSchema }
  readonly required?: readonly string[]
  readonly additionalProperties?: boolean | JsonSchema
  readonly propertyNames?: JsonSchema
  readonly items?: JsonSchema
  readonly enum?: readonly unknown[]
  readonly pattern?: string
  readonly minLength?: number
  readonly maxLength?: number
  readonly minItems?: number
  readonly maxItems?: number
  readonly uniqueItems?: boolean
  readonly minimum?: number
  readonly maximum?: number
  readonly anyOf?: readonly JsonSchema[]
}

/** The JSON types a schema's `type` keyword names. */
export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null'

/** One way a value breaks its schema. */
export interface SchemaViolation {
  /** Where, as a JSON Pointer (RFC 6901) into the value; `` for the value itself. */
  readonly path: string
  readonly message: string
}

const KNOWN_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$ref',
  '$defs',
  'title',
  'description',
  'default',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minimum',
  'maximum',
  'anyOf',
])

/** Maximum number of violations collected, so a large invalid document gives a readable list. */
const MAX_VIOLATIONS = 20

function jsonTypeOf(value: unknown): JsonType | 'undefined' {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  if (typeof value === 'string') return 'string'
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'object') return 'object'
  return 'undefined'
}

function typeMatches(actual: JsonType | 'undefined', expected: JsonType): boolean {
  return actual === expected || (expected === 'number' && actual === 'integer')
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`
}

function describe(value: unknown): string {
  const text = JSON.stringify(value)
  if (text === undefined) return String(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

class Validator {
  readonly #root: JsonSchema
  readonly violations: SchemaViolation[] = []

  constructor(root: JsonSchema) {
    this.#root = root
  }

  validate(value: unknown, schema: JsonSchema, path: string): void {
    if (this.violations.length >= MAX_VIOLATIONS) return
    for (const keyword of Object.keys(schema)) {
      if (!KNOWN_KEYWORDS.has(keyword)) {
        throw new Error(`JSON Schema keyword ${keyword} is not supported by this validator`)
      }
    }
    if (schema.$ref !== undefined) this.validate(value, this.#resolve(schema.$ref), path)
    if (!this.#type(value, schema, path)) return
    this.#enum(value, schema, path)
    this.#anyOf(value, schema, path)
    if (typeof value === 'string') this.#string(value, schema, path)
    if (typeof value === 'number') this.#number(value, schema, path)
    if (Array.isArray(value)) this.#array(value, schema, path)
    else if (typeof value === 'object' && value !== null) this.#object(value, schema, path)
  }

  #fail(path: string, message: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push({ path, message })
  }

  #resolve(ref: string): JsonSchema {
    const name = /^#\/\$defs\/([^/]+)$/.exec(ref)?.[1]
    const target = name === undefined ? undefined : this.#root.$defs?.[name]
    if (target === undefined) throw new Error(`JSON Schema reference ${ref} cannot be resolved`)
    return target
  }

  #type(value: unknown, schema: JsonSchema, path: string): boolean {
    if (schema.type === undefined) return true
    const expected: readonly JsonType[] =
      typeof schema.type === 'string' ? [schema.type] : schema.type
    const actual = jsonTypeOf(value)
    if (expected.some((type) => typeMatches(actual, type))) return true
    this.#fail(path, `must be ${expected.join(' or ')}, not ${actual}`)
    return false
  }

  #enum(value: unknown, schema: JsonSchema, path: string): void {
    if (schema.enum === undefined || schema.enum.includes(value)) return
    this.#fail(path, `${describe(value)} is not one of ${schema.enum.map(describe).join(', ')}`)
  }

  #anyOf(value: unknown, schema: JsonSchema, path: string): void {
    if (schema.anyOf === undefined) return
    const reasons: string[] = []
    for (const option of schema.anyOf) {
      const inner = new Validator(this.#root)
      inner.validate(value, option, path)
      if (inner.violations.length === 0) return
      reasons.push(inner.violations.map((v) => v.message).join('; '))
    }
    this.#fail(path, `matches none of the allowed forms (${reasons.join(' | ')})`)
  }

  #string(value: string, schema: JsonSchema, path: string): void {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      this.#fail(path, `must have at least ${schema.minLength} characters`)
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      this.#fail(path, `must have at most ${schema.maxLength} characters`)
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      this.#fail(path, `${describe(value)} does not match ${schema.pattern}`)
  }

  #number(value: number, schema: JsonSchema, path: string): void {
    if (schema.minimum !== undefined && value < schema.minimum)
      this.#fail(path, `${value} is less than the minimum ${schema.minimum}`)
    if (schema.maximum !== undefined && value > schema.maximum)
      this.#fail(path, `${value} is more than the maximum ${schema.maximum}`)
  }

  #array(value: readonly unknown[], schema: JsonSchema, path: string): void {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      this.#fail(path, `must have at least ${schema.minItems} items`)
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      this.#fail(path, `must have at most ${schema.maxItems} items`)
    if (schema.uniqueItems === true) {
      const seen = new Set(value.map((item) => JSON.stringify(item)))
      if (seen.size !== value.length) this.#fail(path, 'must not contain the same item twice')
    }
    const items = schema.items
    if (items === undefined) return
    for (const [i, item] of value.entries()) this.validate(item, items, pointer(path, i))
  }

  #object(value: object, schema: JsonSchema, path: string): void {
    const record = value as Record<string, unknown>
    for (const name of schema.required ?? []) {
      if (!(name in record)) this.#fail(pointer(path, name), 'is required')
    }
    for (const [name, item] of Object.entries(record)) {
      const where = pointer(path, name)
      if (schema.propertyNames !== undefined) this.validate(name, schema.propertyNames, where)
      const declared = schema.properties?.[name]
      if (declared !== undefined) {
        this.validate(item, declared, where)
        continue
      }
      if (schema.additionalProperties === false) this.#fail(where, 'is not an allowed field')
      else if (typeof schema.additionalProperties === 'object')
        this.validate(item, schema.additionalProperties, where)
    }
  }
}

/**
 * Validates a JSON value against a schema of the supported subset and returns every violation
 * found, up to 20. An empty list means the value is valid.
 *
 * @throws Error when the schema itself uses an unsupported keyword or an unresolvable `$ref`:
 *   that is a bug in the schema, not in the value.
 */
export function validateJsonSchema(value: unknown, schema: JsonSchema): SchemaViolation[] {
  const validator = new Validator(schema)
  validator.validate(value, schema, '')

  return validator.violations
}
