/**
 * Resources at rest: an AES-256-GCM envelope under a master key that never enters the store.
 * Layout of a sealed value: version byte 1, 12-byte IV, ciphertext, 16-byte tag. The caller's
 * additional data (the resource path) is authenticated, so a sealed value moved to another path
 * does not open.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../core/errors.js'
import { KbsError } from './errors.js'

const VERSION = 1
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

/** Environment variable the master key is read from by default. */
export const MASTER_KEY_ENV = 'CONFIDE_MASTER_KEY'

/** Returns a new random master key as 64 hex digits, the form `ResourceSealer` reads. */
export function generateMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('hex')
}

/** Decodes a master key written as 64 hex digits or as base64 of 32 bytes. */
function decodeMasterKey(text: string, source: string): Uint8Array {
  const trimmed = text.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64')
  if (bytes.length !== KEY_BYTES)
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `master key from ${source} must be 32 bytes as 64 hex digits or base64; generate one with: openssl rand -hex 32`,
    )

  return new Uint8Array(bytes)
}

function envelopeError(message: string, cause?: unknown): KbsError {
  return new KbsError('ERR_KBS_ENVELOPE', message, cause === undefined ? {} : { cause })
}

/** Seals and opens resources under one master key. */
export class ResourceSealer {
  readonly #key: Uint8Array

  /** Takes a copy of a 32-byte key. */
  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES)
      throw new ConfigError('ERR_CONFIG_INVALID', `master key must be 32 bytes, not ${key.length}`)
    this.#key = new Uint8Array(key)
  }

  /**
   * Reads the master key from a file: 64 hex digits or base64 text, or exactly 32 raw bytes.
   *
   * @throws ConfigError `ERR_CONFIG_INVALID` when the file is unreadable or contains no valid key.
   */
  static fromFile(path: string): ResourceSealer {
    let content: Buffer
    try {
      content = readFileSync(path)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new ConfigError(
        'ERR_CONFIG_INVALID',
        `cannot read master key file ${path}: ${reason}`,
        {
          cause: error,
        },
      )
    }
    if (content.length === KEY_BYTES) return new ResourceSealer(new Uint8Array(content))

    return new ResourceSealer(decodeMasterKey(content.toString('utf8'), `file ${path}`))
  }

  /**
   * Reads the master key from an environment variable: 64 hex digits or base64.
   *
   * @throws ConfigError `ERR_CONFIG_INVALID` when the variable is unset or contains no valid key.
   */
  static fromEnv(name = MASTER_KEY_ENV, env: NodeJS.ProcessEnv = process.env): ResourceSealer {
    const value = env[name]
    if (value === undefined || value.trim() === '')
      throw new ConfigError('ERR_CONFIG_INVALID', `environment variable ${name} is not set`)

    return new ResourceSealer(decodeMasterKey(value, `environment variable ${name}`))
  }

  /** Encrypts bytes, authenticating `aad` with them. Each call uses a fresh random IV. */
  seal(plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(aad)
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])

    return new Uint8Array(Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]))
  }

  /**
   * Decrypts a sealed value.
   *
   * @throws KbsError `ERR_KBS_ENVELOPE` when the value is truncated, of another version, or does
   *   not authenticate: another master key, a changed byte, or other additional data.
   */
  open(sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES)
      throw envelopeError(`sealed resource is truncated (${sealed.length} bytes)`)
    if (sealed[0] !== VERSION)
      throw envelopeError(`sealed resource has envelope version ${sealed[0]}, not ${VERSION}`)
    const iv = sealed.subarray(1, 1 + IV_BYTES)
    const body = sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)
    const tag = sealed.subarray(sealed.length - TAG_BYTES)
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv)
      decipher.setAAD(aad)
      decipher.setAuthTag(tag)
      return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]))
    } catch (error) {
      throw envelopeError(
        'sealed resource failed authentication: the master key, the stored bytes or the path differ from when it was sealed',
        error,
      )
    }
  }
}
