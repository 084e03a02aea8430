/**
 * Reading `--trust` files: root certificates replace the pinned vendor roots, and bare public
 * keys (a TPM attestation key, an Arm CCA platform key) are trusted directly.
 *
 * @module
 */
import { decodePem } from '../core/bytes.js'
import { ConfigError, ParseError } from '../core/errors.js'
import { parseCertificate } from '../pki/certificate.js'

/** The contents of a set of `--trust` files, sorted by use. */
export interface TrustInputs {
  /** DER certificates: trusted roots. */
  readonly anchors: Uint8Array[]
  /** DER SubjectPublicKeyInfo or TPM2B_PUBLIC: keys trusted directly. */
  readonly keys: Uint8Array[]
}

const PEM_KEY_LABELS = new Set(['PUBLIC KEY'])

/** Tells whether DER bytes decode as a certificate. */
function isCertificate(der: Uint8Array): boolean {
  try {
    parseCertificate(der)
    return true
  } catch (error) {
    if (error instanceof ParseError) return false
    throw error
  }
}

/**
 * Sorts the contents of one `--trust` file: PEM `CERTIFICATE` blocks are roots and PEM
 * `PUBLIC KEY` blocks are keys. A file that is not PEM is a DER certificate, or else a key (DER
 * SubjectPublicKeyInfo or TPM2B_PUBLIC, which the platform that reads it decodes).
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when a PEM file contains neither.
 */
export function sortTrustFile(path: string, bytes: Uint8Array, into: TrustInputs): void {
  const text = new TextDecoder().decode(bytes)
  if (!text.includes('-----BEGIN')) {
    if (isCertificate(bytes)) into.anchors.push(bytes)
    else into.keys.push(bytes)
    return
  }
  const blocks = decodePem(text)
  const anchors = blocks.filter((block) => block.label === 'CERTIFICATE')
  const keys = blocks.filter((block) => PEM_KEY_LABELS.has(block.label))
  if (anchors.length === 0 && keys.length === 0) {
    const message = `--trust ${path} contains no PEM CERTIFICATE or PUBLIC KEY block`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  into.anchors.push(...anchors.map((block) => block.der))
  into.keys.push(...keys.map((block) => block.der))
}
