/**
 * Verification of a TPM 2.0 quote, each step a named check:
 *
 * 1. `ak-certificate` (when the collateral contains `ak_cert.der` or `ak_cert.pem`): the AK
 *    certificate chains through `ak_chain.pem` to a `trustAnchors` root at `context.at`.
 * 2. `quote-signature`: the TPMT_SIGNATURE over the TPMS_ATTEST verifies with the attestation
 *    key: the one the evidence names, else the certified one, else each trusted key in turn.
 * 3. `attestation-key`: that key is trusted: a `trustedKeys` entry, or certified by step 1.
 *    Skipped when the caller gave neither, because a TPM has no vendor root to pin.
 * 4. `ak-attributes` (only when the AK is known as a TPM2B_PUBLIC): it is a restricted signing
 *    key fixed to its TPM, so the TPM signs with it only structures it generated itself.
 * 5. `nonce`, `report-data`: extraData equals the caller's expected value, when given. Without
 *    one of them a replayed quote passes; the caller must compare a fresh nonce.
 * 6. `pcr-digest`: pcrDigest is the digest of the PCR values the evidence or the collateral
 *    gives, so those values are the ones the TPM quoted.
 *
 * Azure vTPM evidence is verified by azure.ts instead, which binds the AK through the hardware.
 *
 * Not checked: `qualifiedSigner` (it names the AK's hierarchy position, which needs the parent
 * keys), the clock, and the PCR values against reference values (appraisal).
 *
 * @see TCG, TPM 2.0 Library, Part 3: Commands, §18.4 (TPM2_Quote)
 * @module
 */
import { decodePem } from '../../core/bytes.js'
import { ConfigError, ParseError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { VerificationResult } from '../../core/types.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { verifyChain } from '../../pki/chain.js'
import { tpmClaims } from './claims.js'
import { TPM_COLLATERAL_FILES } from './collateral.js'
import { TPMA_OBJECT } from './constants.js'
import type { TpmEvidence } from './evidence.js'
import { parseTpmtSignature, type TpmtPublic, type TpmtSignature } from './format.js'
import { pcrValuesFromBundle } from './pcrs.js'
import { type AttestationKey, keyIdentity, readAttestationKey } from './public-key.js'
import {
  checkExpectedValues,
  checkPcrDigest,
  checkQuoteSignature,
  TPM_CHECKS,
} from './quote-checks.js'

/** An AK certificate's key and the outcome of its chain check. */
interface CertifiedKey {
  readonly key: AttestationKey
  readonly chain: 'pass' | 'fail' | 'skipped'
}

/** The attributes an attestation key must have. */
const REQUIRED_AK_ATTRIBUTES = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.restricted | TPMA_OBJECT.sign

function firstFile(
  context: VerifyContext,
  names: readonly string[],
): { name: string; bytes: Uint8Array } | undefined {
  for (const name of names) {
    const bytes = context.collateral?.get(name)
    if (bytes !== undefined) return { name, bytes }
  }
  return undefined
}

/** Reads the caller's trusted keys. @throws ConfigError when one is not a key. */
function trustedKeys(context: VerifyContext): AttestationKey[] {
  return (context.trustedKeys ?? []).map((bytes, index) => {
    try {
      return readAttestationKey(bytes)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      const message = `trusted key ${index + 1} is not a DER SubjectPublicKeyInfo, PEM public key or TPM2B_PUBLIC: ${error.message}`
      throw new ConfigError('ERR_CONFIG_INVALID', message, { cause: error })
    }
  })
}

function certificatesOf(bytes: Uint8Array): Certificate[] {
  if (bytes[0] === 0x30) return [parseCertificate(bytes)]
  const blocks = decodePem(new TextDecoder().decode(bytes)).filter((b) => b.label === 'CERTIFICATE')
  return blocks.map((block) => parseCertificate(block.der))
}

/** Decodes the trust anchors. @throws ConfigError when one is not a DER certificate. */
function rootsOf(context: VerifyContext): Certificate[] {
  return (context.trustAnchors ?? []).map((der, index) => {
    try {
      return parseCertificate(der)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      const message = `trust anchor ${index + 1} is not a DER certificate: ${error.message}`
      throw new ConfigError('ERR_CONFIG_INVALID', message, { cause: error })
    }
  })
}

/** Checks the AK certificate's chain, when the collateral contains one, and returns its key. */
async function checkAkCertificate(
  context: VerifyContext,
  checks: CheckList,
): Promise<CertifiedKey | undefined> {
  const file = firstFile(context, TPM_COLLATERAL_FILES.akCertificate)
  if (file === undefined) return undefined
  const [certificate] = certificatesOf(file.bytes)
  if (certificate === undefined) {
    throw new ParseError('ERR_PARSE_CERTIFICATE', `${file.name} contains no certificate`, {
      structure: 'AkCertificate',
      field: file.name,
    })
  }
  const key = {
    spki: certificate.spki,
    identity: keyIdentity(certificate.spki),
    tpmtPublic: undefined,
  }
  const name = TPM_CHECKS.akCertificate
  const anchors = rootsOf(context)
  if (anchors.length === 0) {
    checks.skip(
      name,
      `${file.name} was given, but no root to check it against (trustAnchors, --trust ca.pem)`,
    )
    return { key, chain: 'skipped' }
  }
  const chainFile = firstFile(context, TPM_COLLATERAL_FILES.akChain)
  const intermediates = chainFile === undefined ? [] : certificatesOf(chainFile.bytes)
  const result = await verifyChain(certificate, intermediates, {
    at: context.at,
    anchors,
    crypto: context.crypto,
    cache: context.cache,
  })
  if (result.ok)
    checks.pass(
      name,
      `the AK certificate chains to a trusted root at ${context.at.toISOString()}: ${result.detail}`,
    )
  else checks.fail(name, result.code ?? 'ERR_VERIFY_CHAIN', result.detail)

  return { key, chain: result.ok ? 'pass' : 'fail' }
}

/** Returns the signature of the quote: the evidence's, or else the collateral's. */
function signatureOf(evidence: TpmEvidence, context: VerifyContext): TpmtSignature | undefined {
  if (evidence.signature !== undefined) return evidence.signature
  const file = firstFile(context, TPM_COLLATERAL_FILES.signature)
  return file === undefined ? undefined : parseTpmtSignature(file.bytes)
}

/** Judges whether the AK is trusted and adds `attestation-key`. */
function checkAttestationKey(
  ak: AttestationKey | undefined,
  trusted: readonly AttestationKey[],
  certified: CertifiedKey | undefined,
  signed: boolean,
  checks: CheckList,
): void {
  const name = TPM_CHECKS.attestationKey
  if (ak === undefined && trusted.length > 0 && signed) {
    checks.fail(
      name,
      'ERR_VERIFY_UNTRUSTED_KEY',
      `the quote is signed by none of the ${trusted.length} trusted keys`,
    )
    return
  }

  if (ak === undefined) {
    const reason =
      trusted.length > 0
        ? 'without a signature, no trusted key can be matched to the quote'
        : 'no attestation key is known: pass it (trustedKeys, --trust ak.pem) or its certificate (ak_cert.pem)'
    checks.skip(name, reason)
    return
  }

  const index = trusted.findIndex((key) => key.identity === ak.identity)
  if (index >= 0) {
    checks.pass(
      name,
      trusted.length === 1
        ? 'the AK is the trusted key'
        : `the AK is trusted key ${index + 1} of ${trusted.length}`,
    )
    return
  }

  if (certified !== undefined && certified.key.identity !== ak.identity) {
    checks.fail(
      name,
      'ERR_VERIFY_UNTRUSTED_KEY',
      'the AK the evidence names is not the key of the AK certificate',
    )
    return
  }

  if (certified?.chain === 'pass') {
    checks.pass(name, 'the AK is the key of the AK certificate, which chains to a trusted root')
    return
  }

  if (trusted.length === 0 && certified === undefined) {
    checks.skip(
      name,
      'no trusted key or AK certificate was given, so the AK is not known to be trusted',
    )
    return
  }

  if (trusted.length === 0 && certified?.chain === 'skipped') {
    checks.skip(
      name,
      'the AK certificate could not be checked, so the AK is not known to be trusted',
    )
    return
  }

  const reasons: string[] = []
  if (trusted.length > 0) reasons.push(`is none of the ${trusted.length} trusted keys`)
  if (certified?.chain === 'fail')
    reasons.push('has a certificate that does not chain to a trusted root')
  if (certified?.chain === 'skipped')
    reasons.push('has a certificate that no root was given to check')
  checks.fail(name, 'ERR_VERIFY_UNTRUSTED_KEY', `the AK ${reasons.join(', and ')}`)
}

/** Checks the attributes of an AK known as a TPM2B_PUBLIC. */
function checkAkAttributes(publicArea: TpmtPublic | undefined, checks: CheckList): void {
  if (publicArea === undefined) return
  const attributes = publicArea.objectAttributes
  const missing = Object.entries({
    fixedTPM: TPMA_OBJECT.fixedTPM,
    restricted: TPMA_OBJECT.restricted,
    sign: TPMA_OBJECT.sign,
  })
    .filter(([, bit]) => (attributes & bit) === 0)
    .map(([label]) => label)
  const hex = `0x${attributes.toString(16).padStart(8, '0')}`
  if (
    (attributes & REQUIRED_AK_ATTRIBUTES) === REQUIRED_AK_ATTRIBUTES &&
    (attributes & TPMA_OBJECT.decrypt) === 0
  ) {
    checks.pass(
      TPM_CHECKS.akAttributes,
      `objectAttributes ${hex}: a restricted signing key fixed to its TPM`,
    )
    return
  }
  const reason = missing.length > 0 ? `lacks ${missing.join(', ')}` : 'is also a decryption key'
  checks.fail(
    TPM_CHECKS.akAttributes,
    'ERR_VERIFY_UNTRUSTED_KEY',
    `objectAttributes ${hex} ${reason}, so the key could sign data that imitates a quote`,
  )
}

/**
 * Verifies a TPM quote at `context.at` (see the module comment for the steps). Returns a result
 * for any verdict.
 *
 * @throws ConfigError for a trusted key that cannot be read or an over-long expected report data;
 *   ParseError for a malformed collateral file (signature, PCR values, AK certificate).
 */
export async function verifyTpmQuote(
  evidence: TpmEvidence,
  context: VerifyContext,
): Promise<VerificationResult> {
  const checks = new CheckList()
  const trusted = trustedKeys(context)
  const certified = await checkAkCertificate(context, checks)
  const signature = signatureOf(evidence, context)

  // 2. The key to verify with: the evidence's, else the certified one, else every trusted key.
  const named = evidence.akPublic ?? certified?.key
  const candidates = named === undefined ? trusted : [named]
  const signer = await checkQuoteSignature(evidence.attest, signature, candidates, context, checks)
  const ak = signer ?? named
  checkAttestationKey(ak, trusted, certified, signature !== undefined, checks)
  const publicArea =
    ak?.tpmtPublic ?? trusted.find((key) => key.identity === ak?.identity)?.tpmtPublic
  checkAkAttributes(publicArea, checks)
  checkExpectedValues(evidence.attest, context, checks)
  const values = evidence.pcrs ?? pcrValuesFromBundle(context.collateral, evidence.attest.pcrSelect)
  await checkPcrDigest(evidence.attest, signature, values, context, checks)

  return {
    platform: 'tpm',
    verdict: checks.verdict(),
    advisories: [],
    claims: tpmClaims(evidence, signature, values, signer),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
  }
}
