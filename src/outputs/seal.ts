/**
 * Inputs sealed to a workload with HPKE (RFC 9180, base mode), so only the code its evidence
 * attests reads them. A sealed input is UTF-8 JSON:
 *
 * ```
 * {"format":"confide-sealed-input/1","label":"<purpose>","recipient":"<hex SHA-256 of the HPKE public key>",
 *  "enc":"<base64url encapsulated key>","ciphertext":"<base64url>"}
 * ```
 *
 * The HPKE `info` is `"confide-sealed-input/v1" || 0x00 || label`, which names confide, the use
 * and the sender's purpose, so a ciphertext made for one purpose does not open under another. The
 * AEAD's associated data is the 32-byte recipient digest. The suite is fixed by the format:
 * DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
 *
 * @module
 */
import { createHash, type webcrypto } from 'node:crypto'
import { DecapError, DeserializeError, OpenError } from '@hpke/core'
import { bytesEqual, concatBytes, fromHex, toHex } from '../core/bytes.js'
import { ParseError } from '../core/errors.js'
import type { WorkloadPublicKeys } from './binding.js'
import {
  base64urlField,
  malformed,
  onlyKeys,
  parseJsonObject,
  stringField,
  toBase64url,
} from './encoding.js'
import { SealedInputError } from './errors.js'
import { hpkeSuite, X25519_PUBLIC_KEY_SIZE } from './hpke-suite.js'
import type { WorkloadIdentity } from './identity.js'

/** Value of a sealed input's `format` member. */
export const SEALED_INPUT_FORMAT = 'confide-sealed-input/1'
/** The prefix of the HPKE `info`, before the 0x00 separator and the label. */
export const SEALED_INPUT_INFO = 'confide-sealed-input/v1'
/** Maximum label size, in UTF-8 bytes: a label names a purpose, it carries no data. */
export const MAX_LABEL_SIZE = 64

const STRUCTURE = 'SealedInput'
const KEYS = ['format', 'label', 'recipient', 'enc', 'ciphertext'] as const
const LOWER_HEX_DIGEST = /^[0-9a-f]{64}$/

/** A sealed input, decoded but not opened. */
export interface SealedInput {
  /** The sender's purpose, bound into the HPKE `info`. */
  readonly label: string
  /** SHA-256 of the HPKE public key it was sealed to. */
  readonly recipient: Uint8Array
  /** The HPKE encapsulated key. */
  readonly enc: Uint8Array
  readonly ciphertext: Uint8Array
}

/** An input the workload opened. */
export interface OpenedInput {
  readonly plaintext: Uint8Array
  readonly label: string
  /** SHA-256 of the sealed bytes as received: the digest an output lists for this input. */
  readonly digest: Uint8Array
}

function encodeLabel(label: string): Uint8Array {
  const bytes = new TextEncoder().encode(label)
  if (bytes.length === 0 || bytes.length > MAX_LABEL_SIZE)
    throw new RangeError(`a sealed input label must be 1 to ${MAX_LABEL_SIZE} UTF-8 bytes`)

  return bytes
}

function hpkeInfo(label: string): Uint8Array {
  return concatBytes(
    new TextEncoder().encode(SEALED_INPUT_INFO),
    new Uint8Array([0]),
    encodeLabel(label),
  )
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/**
 * Seals plaintext to a workload's HPKE public key. Check the workload's evidence and its binding
 * of that key (`verifyWorkload`) before sealing anything to it.
 *
 * @throws RangeError when the label is empty or longer than `MAX_LABEL_SIZE` bytes.
 */
export async function sealInput(
  workload: Pick<WorkloadPublicKeys, 'hpkePublicKey'>,
  plaintext: Uint8Array,
  options: { readonly label: string },
): Promise<Uint8Array> {
  const suite = hpkeSuite()
  const recipientPublicKey = await suite.kem.deserializePublicKey(workload.hpkePublicKey)
  const recipient = sha256(workload.hpkePublicKey)
  const { enc, ct } = await suite.seal(
    { recipientPublicKey, info: hpkeInfo(options.label) },
    plaintext,
    recipient,
  )
  const sealed = {
    format: SEALED_INPUT_FORMAT,
    label: options.label,
    recipient: toHex(recipient),
    enc: toBase64url(new Uint8Array(enc)),
    ciphertext: toBase64url(new Uint8Array(ct)),
  }

  return new TextEncoder().encode(JSON.stringify(sealed))
}

/**
 * Decodes a sealed input without opening it. Pure.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` for anything but the format above;
 *   `ERR_PARSE_UNSUPPORTED_VERSION` for another `format`.
 */
export function parseSealedInput(bytes: Uint8Array): SealedInput {
  const object = parseJsonObject(bytes, STRUCTURE)
  onlyKeys(object, KEYS, STRUCTURE)
  const format = stringField(object, 'format', STRUCTURE)
  if (format !== SEALED_INPUT_FORMAT) {
    const message = `${STRUCTURE}: format ${JSON.stringify(format)} is not ${SEALED_INPUT_FORMAT}`
    throw new ParseError('ERR_PARSE_UNSUPPORTED_VERSION', message, { structure: STRUCTURE })
  }
  const label = stringField(object, 'label', STRUCTURE)
  try {
    encodeLabel(label)
  } catch {
    throw malformed(STRUCTURE, `label is not 1 to ${MAX_LABEL_SIZE} UTF-8 bytes`, 'label')
  }
  const recipient = stringField(object, 'recipient', STRUCTURE)
  if (!LOWER_HEX_DIGEST.test(recipient))
    throw malformed(STRUCTURE, 'recipient is not a lower-case hex SHA-256 digest', 'recipient')
  const enc = base64urlField(object, 'enc', STRUCTURE)
  if (enc.length !== X25519_PUBLIC_KEY_SIZE)
    throw malformed(STRUCTURE, `enc is ${enc.length} bytes, not ${X25519_PUBLIC_KEY_SIZE}`, 'enc')
  const ciphertext = base64urlField(object, 'ciphertext', STRUCTURE)

  return { label, recipient: fromHex(recipient), enc, ciphertext }
}

/**
 * Opens a sealed input inside the workload. With `options.label`, the input must have been
 * sealed under that label.
 *
 * @throws ParseError when the bytes are not a sealed input; SealedInputError
 *   `ERR_OUTPUT_RECIPIENT` when it was sealed to another HPKE key, `ERR_OUTPUT_DECRYPTION` when it
 *   fails to decrypt (altered, or another label).
 */
export async function openInput(
  identity: Pick<WorkloadIdentity, 'publicKeys' | 'hpkeKeyPair'>,
  bytes: Uint8Array,
  options: { readonly label?: string } = {},
): Promise<OpenedInput> {
  const sealed = parseSealedInput(bytes)
  const recipient = sha256(identity.publicKeys.hpkePublicKey)
  if (!bytesEqual(sealed.recipient, recipient)) {
    const message = `the input was sealed to HPKE key ${toHex(sealed.recipient)}, not to this workload's key ${toHex(recipient)}`
    throw new SealedInputError('ERR_OUTPUT_RECIPIENT', message)
  }
  if (options.label !== undefined && options.label !== sealed.label) {
    const message = `the input was sealed under label ${JSON.stringify(sealed.label)}, not ${JSON.stringify(options.label)}`
    throw new SealedInputError('ERR_OUTPUT_DECRYPTION', message)
  }
  const plaintext = await decrypt(identity.hpkeKeyPair, sealed, recipient)

  return { plaintext, label: sealed.label, digest: sha256(bytes) }
}

async function decrypt(
  keyPair: webcrypto.CryptoKeyPair,
  sealed: SealedInput,
  recipient: Uint8Array,
): Promise<Uint8Array> {
  const params = { recipientKey: keyPair, enc: sealed.enc, info: hpkeInfo(sealed.label) }
  try {
    return new Uint8Array(await hpkeSuite().open(params, sealed.ciphertext, recipient))
  } catch (error) {
    const undecryptable =
      error instanceof OpenError || error instanceof DecapError || error instanceof DeserializeError
    if (!undecryptable) throw error
    const message = `the sealed input labelled ${JSON.stringify(sealed.label)} fails to decrypt: it was altered after sealing`
    throw new SealedInputError('ERR_OUTPUT_DECRYPTION', message, { cause: error })
  }
}
