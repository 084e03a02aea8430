/**
 * The file form of an attested output: the document bytes, their signature and the evidence, in
 * one UTF-8 JSON object that `confide verify-output` reads.
 *
 * ```
 * {"format":"confide-output-bundle/1","document":"<base64url of the exact document bytes>",
 *  "signature":"<base64url>","evidence":"<base64url of the evidence bytes>"}
 * ```
 *
 * @module
 */
import { ParseError } from '../core/errors.js'
import { base64urlField, onlyKeys, parseJsonObject, stringField, toBase64url } from './encoding.js'

/** Value of a bundle's `format` member. */
export const OUTPUT_BUNDLE_FORMAT = 'confide-output-bundle/1'

/** An output document as signed, its signature, and the evidence that binds the signing key. */
export interface OutputBundle {
  /** The exact bytes the signature covers. */
  readonly document: Uint8Array
  /** Ed25519 (64 bytes), or ECDSA P-256 SHA-256 as raw r‖s (64 bytes). */
  readonly signature: Uint8Array
  /** The workload's evidence, in any form `verifyEvidence` reads. */
  readonly evidence: Uint8Array
}

const STRUCTURE = 'OutputBundle'
const KEYS = ['format', 'document', 'signature', 'evidence'] as const

/** Encodes a bundle as UTF-8 JSON. */
export function encodeOutputBundle(bundle: OutputBundle): Uint8Array {
  const json = {
    format: OUTPUT_BUNDLE_FORMAT,
    document: toBase64url(bundle.document),
    signature: toBase64url(bundle.signature),
    evidence: toBase64url(bundle.evidence),
  }

  return new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`)
}

/**
 * Decodes a bundle. Pure: it checks the shape, not the contents.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for anything but the shape above;
 *   `ERR_PARSE_UNSUPPORTED_VERSION` for another `format`.
 */
export function parseOutputBundle(bytes: Uint8Array): OutputBundle {
  const object = parseJsonObject(bytes, STRUCTURE)
  onlyKeys(object, KEYS, STRUCTURE)
  const format = stringField(object, 'format', STRUCTURE)
  if (format !== OUTPUT_BUNDLE_FORMAT) {
    const message = `${STRUCTURE}: format ${JSON.stringify(format)} is not ${OUTPUT_BUNDLE_FORMAT}`
    throw new ParseError('ERR_PARSE_UNSUPPORTED_VERSION', message, { structure: STRUCTURE })
  }

  return {
    document: base64urlField(object, 'document', STRUCTURE),
    signature: base64urlField(object, 'signature', STRUCTURE),
    evidence: base64urlField(object, 'evidence', STRUCTURE),
  }
}
