/**
 * The checks of a TPM quote itself, shared by bare quotes and Azure vTPM quotes: the signature
 * with a given attestation key, the nonce in extraData, and the PCR digest recomputed from PCR
 * values.
 *
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import { ConfigError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import type { CheckList } from '../../core/result.js'
import type { DigestAlgorithm, PublicKey, SignatureAlgorithm } from '../../crypto/port.js'
import { MAX_DATA_SIZE, TPM_HASHES, type TpmHash } from './constants.js'
import type { TpmsAttest, TpmtSignature } from './format.js'
import { type PcrValues, selectedPcrValues } from './pcrs.js'
import type { AttestationKey } from './public-key.js'

/** Names of the TPM checks. */
export const TPM_CHECKS = {
  hardwareReport: 'hardware-report',
  runtimeData: 'runtime-data',
  akCertificate: 'ak-certificate',
  signature: 'quote-signature',
  attestationKey: 'attestation-key',
  akAttributes: 'ak-attributes',
  nonce: 'nonce',
  reportData: 'report-data',
  pcrDigest: 'pcr-digest',
} as const

// Tag for memoPair: an attestation key imported from its SubjectPublicKeyInfo.
const IMPORTED_KEY = {}

/** The curve size of a port EC key, for padding r and s. */
const CURVE_SIZES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const

function importKey(key: AttestationKey, context: VerifyContext): Promise<PublicKey> {
  return context.cache.memoPair(key.spki, IMPORTED_KEY, () => context.crypto.importSpki(key.spki))
}

function padTo(bytes: Uint8Array, size: number): Uint8Array | undefined {
  if (bytes.length > size) return undefined
  const out = new Uint8Array(size)
  out.set(bytes, size - bytes.length)
  return out
}

/** Returns the byte size of an RSA key's modulus, from its identity `rsa:<n>:<e>`. */
function rsaModulusSize(key: AttestationKey): number {
  return (key.identity.split(':')[1]?.length ?? 0) / 2
}

/** Verifies the signature with one key; returns false for a key of the wrong type. */
async function verifiesWith(
  signature: TpmtSignature,
  digest: DigestAlgorithm,
  key: AttestationKey,
  message: Uint8Array,
  context: VerifyContext,
): Promise<boolean> {
  const imported = await importKey(key, context)
  const verify = (algorithm: SignatureAlgorithm, value: Uint8Array) =>
    context.crypto.verify(algorithm, imported, value, message)
  if (signature.sigAlg === 'ecdsa') {
    if (imported.algorithm !== 'EC' || imported.curve === undefined) return false
    const size = CURVE_SIZES[imported.curve]
    const r = padTo(signature.signatureR, size)
    const s = padTo(signature.signatureS, size)
    if (r === undefined || s === undefined) return false
    const raw = new Uint8Array(size * 2)
    raw.set(r)
    raw.set(s, size)
    return verify({ name: 'ECDSA', hash: digest }, raw)
  }
  if (imported.algorithm !== 'RSA') return false
  if (signature.sigAlg === 'rsassa')
    return verify({ name: 'RSASSA-PKCS1-v1_5', hash: digest }, signature.sig)
  // TPM implementations differ in the RSAPSS salt: the digest size, or the largest salt the key
  // allows. Both are tried, because either is a signature by the key holder.
  const hashSize = TPM_HASHES.get(signature.hash)?.size ?? 0
  const largest = rsaModulusSize(key) - hashSize - 2
  for (const saltLength of [hashSize, largest]) {
    if (
      saltLength >= 0 &&
      (await verify({ name: 'RSA-PSS', hash: digest, saltLength }, signature.sig))
    )
      return true
  }
  return false
}

/** As verifiesWith, but a key the port cannot import or use does not verify. */
async function verifiesWithoutThrowing(...args: Parameters<typeof verifiesWith>): Promise<boolean> {
  try {
    return await verifiesWith(...args)
  } catch {
    // The port rejects a key or signature it cannot use; that is a signature that does not verify.
    return false
  }
}

/** Describes a signature scheme for details, such as `RSASSA/sha256`. */
export function schemeName(signature: TpmtSignature): string {
  const hash = TPM_HASHES.get(signature.hash)?.name ?? `0x${signature.hash.toString(16)}`
  return `${signature.sigAlg.toUpperCase()}/${hash}`
}

/**
 * Checks the quote signature with each candidate key in turn and returns the one it verifies
 * with. Adds `quote-signature`, skipped when there is no signature or no key.
 */
export async function checkQuoteSignature(
  attest: TpmsAttest,
  signature: TpmtSignature | undefined,
  candidates: readonly AttestationKey[],
  context: VerifyContext,
  checks: CheckList,
): Promise<AttestationKey | undefined> {
  const name = TPM_CHECKS.signature
  if (signature === undefined) {
    checks.skip(
      name,
      'no TPMT_SIGNATURE was given: add tpmt_signature.bin to the collateral (--signature)',
    )
    return undefined
  }
  if (candidates.length === 0) {
    checks.skip(
      name,
      'no attestation key was given to verify the signature with (trustedKeys, --trust ak.pem)',
    )
    return undefined
  }
  const scheme = schemeName(signature)
  const digest = TPM_HASHES.get(signature.hash)?.digest
  if (digest === undefined) {
    checks.fail(
      name,
      'ERR_VERIFY_SIGNATURE',
      `${scheme} is not accepted: the hash must be SHA-256, SHA-384 or SHA-512`,
    )
    return undefined
  }
  for (const key of candidates) {
    if (await verifiesWithoutThrowing(signature, digest, key, attest.bytes, context)) {
      const keyName =
        candidates.length === 1
          ? 'the attestation key'
          : `candidate key ${candidates.indexOf(key) + 1} of ${candidates.length}`
      checks.pass(name, `${scheme} signature over the TPMS_ATTEST verifies with ${keyName}`)
      return key
    }
  }
  const keys =
    candidates.length === 1
      ? 'the attestation key'
      : `any of the ${candidates.length} candidate keys`
  checks.fail(
    name,
    'ERR_VERIFY_SIGNATURE',
    `${scheme} signature over the TPMS_ATTEST does not verify with ${keys}`,
  )
  return undefined
}

/**
 * Checks extraData against the expected nonce (byte for byte) and the expected report data
 * (zero-padded on the right to the length of extraData), when given.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the expected report data is longer than 66
 *   bytes, the most extraData can hold.
 */
export function checkExpectedValues(
  attest: TpmsAttest,
  context: VerifyContext,
  checks: CheckList,
): void {
  const extraData = attest.extraData
  const nonce = context.expectedNonce
  if (nonce !== undefined) {
    if (bytesEqual(extraData, nonce))
      checks.pass(TPM_CHECKS.nonce, `extraData equals the expected ${nonce.length}-byte nonce`)
    else
      checks.fail(
        TPM_CHECKS.nonce,
        'ERR_VERIFY_BINDING',
        `extraData (${extraData.length} bytes) differs from the expected nonce (${nonce.length} bytes), so the quote may be replayed`,
      )
  }
  const reportData = context.expectedReportData
  if (reportData === undefined) return
  if (reportData.length > MAX_DATA_SIZE) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `expected report data is ${reportData.length} bytes, more than the ${MAX_DATA_SIZE} extraData can hold`,
    )
  }
  const padded = new Uint8Array(Math.max(extraData.length, reportData.length))
  padded.set(reportData)
  if (bytesEqual(extraData, padded))
    checks.pass(TPM_CHECKS.reportData, 'extraData equals the expected report data')
  else
    checks.fail(
      TPM_CHECKS.reportData,
      'ERR_VERIFY_REPORT_DATA',
      `extraData ${toHex(extraData).slice(0, 16)}... is not the expected report data`,
    )
}

/** Picks the hash of the PCR digest: the signature's, or else the one whose size it has. */
function digestHash(attest: TpmsAttest, signature: TpmtSignature | undefined): TpmHash | undefined {
  if (signature !== undefined) return TPM_HASHES.get(signature.hash)
  return [...TPM_HASHES.values()].find(
    (hash) => hash.digest !== undefined && hash.size === attest.pcrDigest.length,
  )
}

/**
 * Recomputes pcrDigest from the PCR values: the digest, with the signing scheme's hash, of the
 * selected values in selection order. Adds `pcr-digest`, skipped when values are missing.
 */
export async function checkPcrDigest(
  attest: TpmsAttest,
  signature: TpmtSignature | undefined,
  values: PcrValues | undefined,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const name = TPM_CHECKS.pcrDigest
  if (values === undefined) {
    checks.skip(name, 'no PCR values were given: add pcrs_sha256.json to the collateral (--pcrs)')
    return
  }

  const { ordered, missing } = selectedPcrValues(values, attest.pcrSelect)
  if (missing.length > 0) {
    checks.skip(name, `no value was given for the selected PCRs ${missing.join(', ')}`)
    return
  }

  // Each value has the size of its bank's digest.
  for (const bank of attest.pcrSelect) {
    const size = TPM_HASHES.get(bank.hash)?.size
    const wrong = bank.pcrs.find((index) => values.get(bank.hash)?.get(index)?.length !== size)
    if (size === undefined || wrong !== undefined) {
      const problem =
        size === undefined
          ? `bank 0x${bank.hash.toString(16)} is not a known hash`
          : `PCR ${wrong} is not ${size} bytes`
      checks.fail(name, 'ERR_VERIFY_BINDING', `the PCR values do not fit the selection: ${problem}`)
      return
    }
  }

  const hash = digestHash(attest, signature)
  if (hash?.digest === undefined) {
    checks.skip(
      name,
      `pcrDigest uses ${hash?.name ?? 'an unknown hash'}, which confide cannot compute`,
    )
    return
  }

  const total = ordered.reduce((sum, value) => sum + value.length, 0)
  const joined = new Uint8Array(total)
  let offset = 0
  for (const value of ordered) {
    joined.set(value, offset)
    offset += value.length
  }

  const digest = await context.crypto.digest(hash.digest, joined)
  if (bytesEqual(digest, attest.pcrDigest)) {
    checks.pass(name, `pcrDigest is the ${hash.name} of the ${ordered.length} selected PCR values`)
  } else {
    checks.fail(
      name,
      'ERR_VERIFY_BINDING',
      `pcrDigest ${toHex(attest.pcrDigest).slice(0, 16)}... is not the ${hash.name} of the ${ordered.length} given PCR values (${toHex(digest).slice(0, 16)}...)`,
    )
  }
}
