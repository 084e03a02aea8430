/**
 * The output document a workload signs, and its encoding as bytes. The signature covers the
 * exact bytes, so a verifier parses the bytes it checked and never re-serializes them.
 *
 * ```
 * {"version":"confide-output/1",
 *  "workload":{"signatureAlgorithm":"Ed25519","signingKey":"<base64url SPKI>","hpkePublicKey":"<base64url>"},
 *  "result":{"json":<any JSON value>} or {"bytes":"<base64url>"},
 *  "inputs":["<hex SHA-256 of each sealed input as received>", ...],
 *  "code":{"platform":"tdx","measurement":"<hex>","signer":"<hex, where the platform has one>"},
 *  "issuedAt":"<ISO-8601>"}
 * ```
 *
 * `encodeOutputDocument` writes the JSON Canonicalization Scheme form (RFC 8785), so the same
 * document always gives the same bytes.
 *
 * @module
 */
import canonicalizeModule from 'canonicalize'
import { ParseError } from '../core/errors.js'
import type { OutputSignatureAlgorithm, WorkloadPublicKeys } from './binding.js'
import {
  base64urlField,
  isJsonObject,
  type JsonObject,
  malformed,
  onlyKeys,
  parseJsonObject,
  stringField,
  toBase64url,
} from './encoding.js'

// canonicalize 2.1 is CommonJS whose types declare an ES default export, so TypeScript under
// NodeNext types the default import as the module object. At run time it is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined

/** Value of a document's `version` member. */
export const OUTPUT_DOCUMENT_VERSION = 'confide-output/1'

/** A JSON value. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue }

/** The result the workload computed: a JSON value, or bytes. */
export type OutputResult = { readonly json: JsonValue } | { readonly bytes: Uint8Array }

/** The measured code that produced the output, as the claims of the workload's evidence state it. */
export interface CodeClaims {
  /** Platform of the evidence, such as `tdx`. */
  readonly platform: string
  /** The launch measurement (`claims.measurement`), lower-case hex. */
  readonly measurement: string
  /** The signer of the code (`claims.signer`, such as MRSIGNER), where the platform has one. */
  readonly signer?: string
}

/** A signed statement of what a workload computed, from which inputs, with which code. */
export interface OutputDocument {
  readonly version: typeof OUTPUT_DOCUMENT_VERSION
  /** The workload's public keys, which its evidence binds. */
  readonly workload: WorkloadPublicKeys
  readonly result: OutputResult
  /** Lower-case hex SHA-256 of each sealed input as the workload received it, in its order. */
  readonly inputs: readonly string[]
  readonly code: CodeClaims
  /** When the workload issued the output, ISO-8601. */
  readonly issuedAt: string
}

const STRUCTURE = 'OutputDocument'
const KEYS = ['version', 'workload', 'result', 'inputs', 'code', 'issuedAt'] as const
const WORKLOAD_KEYS = ['signatureAlgorithm', 'signingKey', 'hpkePublicKey'] as const
const CODE_KEYS = ['platform', 'measurement', 'signer'] as const
const ALGORITHMS: readonly OutputSignatureAlgorithm[] = ['Ed25519', 'ES256']
const LOWER_HEX = /^(?:[0-9a-f]{2})+$/
const DIGEST = /^[0-9a-f]{64}$/
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/

/** Encodes a document as RFC 8785 canonical JSON in UTF-8: the bytes the workload signs. */
export function encodeOutputDocument(document: OutputDocument): Uint8Array {
  const { workload, result, code } = document
  const json = {
    version: document.version,
    workload: {
      signatureAlgorithm: workload.signatureAlgorithm,
      signingKey: toBase64url(workload.signingKey),
      hpkePublicKey: toBase64url(workload.hpkePublicKey),
    },
    result: 'bytes' in result ? { bytes: toBase64url(result.bytes) } : { json: result.json },
    inputs: document.inputs,
    code:
      code.signer === undefined ? { platform: code.platform, measurement: code.measurement } : code,
    issuedAt: document.issuedAt,
  }
  const text = canonicalize(json)
  if (text === undefined) throw new TypeError('the output document is not JSON data')

  return new TextEncoder().encode(text)
}

function objectField(object: JsonObject, field: string): JsonObject {
  const value = object[field]
  if (!isJsonObject(value)) throw malformed(STRUCTURE, `${field} is not an object`, field)

  return value
}

function hexField(object: JsonObject, field: string): string {
  const value = stringField(object, field, STRUCTURE)
  if (!LOWER_HEX.test(value)) throw malformed(STRUCTURE, `${field} is not lower-case hex`, field)

  return value
}

function parseWorkload(object: JsonObject): WorkloadPublicKeys {
  onlyKeys(object, WORKLOAD_KEYS, STRUCTURE)
  const algorithm = stringField(object, 'signatureAlgorithm', STRUCTURE)
  const signatureAlgorithm = ALGORITHMS.find((name) => name === algorithm)
  if (signatureAlgorithm === undefined) {
    const message = `signatureAlgorithm ${JSON.stringify(algorithm)} is not one of ${ALGORITHMS.join(', ')}`
    throw malformed(STRUCTURE, message, 'signatureAlgorithm')
  }

  return {
    signatureAlgorithm,
    signingKey: base64urlField(object, 'signingKey', STRUCTURE),
    hpkePublicKey: base64urlField(object, 'hpkePublicKey', STRUCTURE),
  }
}

function parseResult(object: JsonObject): OutputResult {
  const keys = Object.keys(object)
  if (keys.length !== 1 || (keys[0] !== 'json' && keys[0] !== 'bytes'))
    throw malformed(STRUCTURE, 'result must have exactly one member, json or bytes', 'result')
  if (keys[0] === 'bytes') return { bytes: base64urlField(object, 'bytes', STRUCTURE) }

  return { json: object.json as JsonValue }
}

function parseInputs(value: unknown): string[] {
  if (!Array.isArray(value)) throw malformed(STRUCTURE, 'inputs is not an array', 'inputs')
  for (const digest of value) {
    if (typeof digest !== 'string' || !DIGEST.test(digest))
      throw malformed(STRUCTURE, 'inputs has an entry that is not a hex SHA-256 digest', 'inputs')
  }

  return value as string[]
}

function parseCode(object: JsonObject): CodeClaims {
  onlyKeys(object, CODE_KEYS, STRUCTURE)
  const platform = stringField(object, 'platform', STRUCTURE)
  const measurement = hexField(object, 'measurement')
  if (object.signer === undefined) return { platform, measurement }

  return { platform, measurement, signer: hexField(object, 'signer') }
}

/**
 * Decodes the bytes of an output document. Pure: it checks the shape, not the signature.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for anything but the shape above;
 *   `ERR_PARSE_UNSUPPORTED_VERSION` for another `version`.
 */
export function parseOutputDocument(bytes: Uint8Array): OutputDocument {
  const object = parseJsonObject(bytes, STRUCTURE)
  onlyKeys(object, KEYS, STRUCTURE)
  const version = stringField(object, 'version', STRUCTURE)
  if (version !== OUTPUT_DOCUMENT_VERSION) {
    const message = `${STRUCTURE}: version ${JSON.stringify(version)} is not ${OUTPUT_DOCUMENT_VERSION}`
    throw new ParseError('ERR_PARSE_UNSUPPORTED_VERSION', message, { structure: STRUCTURE })
  }
  const issuedAt = stringField(object, 'issuedAt', STRUCTURE)
  if (!ISO_TIME.test(issuedAt) || Number.isNaN(Date.parse(issuedAt)))
    throw malformed(STRUCTURE, 'issuedAt is not an ISO-8601 UTC time', 'issuedAt')

  const document: OutputDocument = {
    version,
    workload: parseWorkload(objectField(object, 'workload')),
    result: parseResult(objectField(object, 'result')),
    inputs: parseInputs(object.inputs),
    code: parseCode(objectField(object, 'code')),
    issuedAt,
  }
  // The signature covers these exact bytes. Only the canonical form is read, so two JSON parsers
  // can never see different documents (duplicate members, escapes, number spellings).
  if (!Buffer.from(encodeOutputDocument(document)).equals(bytes))
    throw malformed(STRUCTURE, 'the document is not in its canonical form (RFC 8785)')

  return document
}
