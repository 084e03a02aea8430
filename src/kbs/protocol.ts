/**
 * The messages of Trustee's KBS protocol (Request, Challenge, Attestation, Response), with the
 * field names of the `kbs-types` crate, and parsers that check their shape.
 *
 * @see Trustee `kbs/docs/kbs_attestation_protocol.md` and `kbs/docs/kbs.yaml`
 * @see kbs-types `src/lib.rs` (github.com/confidential-containers/kbs-types)
 * @module
 */
import { ParseError } from '../core/errors.js'

/**
 * TEE names a KBS `Request` may carry: those of kbs-types, plus `sim` for confide's simulated
 * TEE. `dpu` is newer than Trustee's protocol document, and `sev` (SEV pre-attestation) appears
 * in kbs-types' test data. The broker verifies only those in `KBS_TEE_PLATFORMS`.
 */
export const KBS_TEES = [
  'az-snp-vtpm',
  'az-tdx-vtpm',
  'nvidia',
  'sgx',
  'snp',
  'tdx',
  'cca',
  'csv',
  'se',
  'hygondcu',
  'dpu',
  'tpm',
  'sample',
  'sampledevice',
  'sev',
  'sim',
] as const

/** A TEE name of `KBS_TEES`. */
export type KbsTee = (typeof KBS_TEES)[number]

/** The first message: the client's protocol version and TEE. */
export interface KbsRequest {
  readonly version: string
  readonly tee: KbsTee
  /** TEE-specific parameters; an empty string or object for run-time attestation. */
  readonly 'extra-params': unknown
}

/** The broker's response to a `Request`. */
export interface KbsChallenge {
  /** The freshness value the evidence must bind, as a string the client uses verbatim. */
  readonly nonce: string
  readonly 'extra-params': unknown
}

/** The TEE's public key (JWK), RSA or EC, to which resources are encrypted. */
export type KbsTeePubkey =
  | { readonly kty: 'RSA'; readonly alg: string; readonly n: string; readonly e: string }
  | {
      readonly kty: 'EC'
      readonly crv: string
      readonly alg: string
      readonly x: string
      readonly y: string
    }

/** Runtime data: the challenge nonce and the TEE key, whose digest the evidence must carry. */
export interface KbsRuntimeData {
  readonly nonce: string
  readonly 'tee-pubkey': KbsTeePubkey
}

/** Init data: a configuration document measured into the TEE. */
export interface KbsInitData {
  readonly format: string
  readonly body: string
}

/** The evidence of the primary TEE and, as a JSON string, of further devices. */
export interface KbsCompositeEvidence {
  /** The primary TEE's evidence, in the JSON form its verifier reads. */
  readonly primary_evidence: unknown
  /** JSON text mapping TEE names to evidence; the empty string when there is none. */
  readonly additional_evidence: string
}

/** The client's response to a `Challenge`: evidence bound to the nonce and its key. */
export interface KbsAttestation {
  readonly 'init-data'?: KbsInitData
  readonly 'runtime-data': KbsRuntimeData
  readonly 'tee-evidence': KbsCompositeEvidence
}

/** A resource encrypted to the TEE key: a JWE in flattened JSON serialization. */
export interface KbsResponse {
  readonly protected: string
  readonly encrypted_key: string
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
  /** Additional authenticated data. The broker never sends one; kbs-types accepts it. */
  readonly aad?: string
}

/** The broker's response to an `Attestation`: the attestation result token. */
export interface KbsAttestationToken {
  readonly token: string
}

type JsonObject = { readonly [key: string]: unknown }

function malformed(structure: string, field: string, message: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `KBS ${structure}: ${message}`, {
    structure,
    field,
  })
}

function objectOf(value: unknown, structure: string, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(structure, field, `${field} must be a JSON object`)
  return value as JsonObject
}

function stringOf(object: JsonObject, name: string, structure: string): string {
  const value = object[name]
  if (typeof value !== 'string') throw malformed(structure, name, `${name} must be a string`)
  return value
}

/**
 * Checks that a value is a KBS `Request`: `version` and a known `tee` as strings, and
 * `extra-params` of any JSON type (absent reads as the empty string).
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` naming the first field that does not fit.
 */
export function parseKbsRequest(json: unknown): KbsRequest {
  const structure = 'Request'
  const object = objectOf(json, structure, 'Request')
  const version = stringOf(object, 'version', structure)
  const tee = stringOf(object, 'tee', structure)
  if (!(KBS_TEES as readonly string[]).includes(tee))
    throw malformed(structure, 'tee', `tee ${JSON.stringify(tee)} is not a known TEE name`)

  return { version, tee: tee as KbsTee, 'extra-params': object['extra-params'] ?? '' }
}

/**
 * Checks that a value is a KBS `Challenge`: a string `nonce` and `extra-params` of any type.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` naming the first field that does not fit.
 */
export function parseKbsChallenge(json: unknown): KbsChallenge {
  const object = objectOf(json, 'Challenge', 'Challenge')
  const nonce = stringOf(object, 'nonce', 'Challenge')

  return { nonce, 'extra-params': object['extra-params'] ?? '' }
}

/** JWK members of private keys (RFC 7518 §6.2.2, §6.3.2): a TEE never sends them. */
const PRIVATE_JWK_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth']

/**
 * Checks that a value is a TEE public key JWK of the form kbs-types accepts: `kty` RSA with
 * string `alg`, `n` and `e`, or `kty` EC with string `crv`, `alg`, `x` and `y`, and no private
 * member. Values are not checked as key material here; `checkTeeKey` does that.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` naming the first field that does not fit.
 */
export function parseKbsTeePubkey(json: unknown): KbsTeePubkey {
  const structure = 'TeePubKey'
  const object = objectOf(json, structure, 'tee-pubkey')
  const secret = PRIVATE_JWK_MEMBERS.find((name) => Object.hasOwn(object, name))
  if (secret !== undefined)
    throw malformed(structure, secret, `tee-pubkey carries the private key member ${secret}`)
  const kty = stringOf(object, 'kty', structure)
  if (kty === 'RSA') {
    const [alg, n, e] = ['alg', 'n', 'e'].map((name) => stringOf(object, name, structure))
    return { kty, alg: alg!, n: n!, e: e! }
  }
  if (kty === 'EC') {
    const names = ['crv', 'alg', 'x', 'y']
    const [crv, alg, x, y] = names.map((name) => stringOf(object, name, structure))
    return { kty, crv: crv!, alg: alg!, x: x!, y: y! }
  }

  throw malformed(structure, 'kty', `kty ${JSON.stringify(kty)} is not RSA or EC`)
}

function parseInitData(json: unknown): KbsInitData {
  const object = objectOf(json, 'InitData', 'init-data')

  return {
    format: stringOf(object, 'format', 'InitData'),
    body: stringOf(object, 'body', 'InitData'),
  }
}

function parseCompositeEvidence(json: unknown): KbsCompositeEvidence {
  const object = objectOf(json, 'CompositeEvidence', 'tee-evidence')
  if (!('primary_evidence' in object) || object.primary_evidence === null)
    throw malformed('CompositeEvidence', 'primary_evidence', 'primary_evidence is missing')
  const additional = object.additional_evidence ?? ''
  if (typeof additional !== 'string')
    throw malformed(
      'CompositeEvidence',
      'additional_evidence',
      'additional_evidence must be a string of JSON text',
    )

  return { primary_evidence: object.primary_evidence, additional_evidence: additional }
}

/**
 * Checks that a value is a KBS `Attestation`: `runtime-data` with a string `nonce` and a
 * `tee-pubkey` JWK, `tee-evidence` with a `primary_evidence` and a string
 * `additional_evidence` (absent reads as the empty string), and, when present, `init-data`
 * with string `format` and `body`. The evidence itself is not looked at.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` naming the first field that does not fit.
 */
export function parseKbsAttestation(json: unknown): KbsAttestation {
  const structure = 'Attestation'
  const object = objectOf(json, structure, 'Attestation')
  const runtime = objectOf(object['runtime-data'], 'RuntimeData', 'runtime-data')
  const nonce = stringOf(runtime, 'nonce', 'RuntimeData')
  const teePubkey = parseKbsTeePubkey(runtime['tee-pubkey'])
  const evidence = parseCompositeEvidence(object['tee-evidence'])
  const initData = object['init-data']

  return {
    ...(initData === undefined || initData === null
      ? {}
      : { 'init-data': parseInitData(initData) }),
    'runtime-data': { nonce, 'tee-pubkey': teePubkey },
    'tee-evidence': evidence,
  }
}

/**
 * Checks that a value is a KBS `Response` (flattened JWE JSON): string `protected`,
 * `encrypted_key`, `iv`, `ciphertext` and `tag`, and `aad` when present.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` naming the first field that does not fit.
 */
export function parseKbsResponse(json: unknown): KbsResponse {
  const structure = 'Response'
  const object = objectOf(json, structure, 'Response')
  const names = ['protected', 'encrypted_key', 'iv', 'ciphertext', 'tag'] as const
  const [protectedHeader, encryptedKey, iv, ciphertext, tag] = names.map((name) =>
    stringOf(object, name, structure),
  )
  const aad = object.aad
  if (aad !== undefined && typeof aad !== 'string')
    throw malformed(structure, 'aad', 'aad must be a string')

  return {
    protected: protectedHeader!,
    encrypted_key: encryptedKey!,
    iv: iv!,
    ciphertext: ciphertext!,
    tag: tag!,
    ...(aad === undefined ? {} : { aad }),
  }
}
