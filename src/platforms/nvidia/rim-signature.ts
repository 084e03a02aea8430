/**
 * Verification of a RIM's XML signature and of the certificate chain in its KeyInfo, through the
 * crypto port.
 *
 * @module
 */
import { bytesEqual } from '../../core/bytes.js'
import type { ErrorCode } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { publicKeyOf, verifyChain } from '../../pki/chain.js'
import type { NvidiaRim } from './rim.js'

/** Outcome of verifying one RIM. */
export interface RimVerification {
  readonly ok: boolean
  /** The code of the reason the RIM was rejected. Absent when `ok`. */
  readonly code?: ErrorCode
  readonly detail: string
  /** The path from the signer to the anchor, when the chain verified. */
  readonly path: readonly Certificate[]
}

// Tag for memoPair: a certificate decoded from the DER bytes of a RIM's KeyInfo.
const PARSED_CERTIFICATE = {}

function failure(code: ErrorCode, detail: string): RimVerification {
  return { ok: false, code, detail, path: [] }
}

/**
 * Verifies a RIM: the digest of its canonical content, its ECDSA signature over the canonical
 * SignedInfo with the key of the first KeyInfo certificate, and that certificate's chain through
 * the others to one of `anchors` at `context.at`.
 *
 * Does not check revocation (see revocation.ts) nor which driver or VBIOS the RIM is for.
 */
export async function verifyRimSignature(
  rim: NvidiaRim,
  anchors: readonly Certificate[],
  context: VerifyContext,
): Promise<RimVerification> {
  const signature = rim.signature
  const digest = await context.crypto.digest(signature.digestAlgorithm, signature.reference)
  if (!bytesEqual(digest, signature.digestValue)) {
    const what = `${signature.digestAlgorithm} of the canonical document differs from its DigestValue`
    return failure('ERR_VERIFY_SIGNATURE', `${what}: the RIM was changed after signing`)
  }
  const certificates = await Promise.all(
    signature.certificates.map((der) =>
      context.cache.memoPair(der, PARSED_CERTIFICATE, () => parseCertificate(der)),
    ),
  )
  const [signer, ...rest] = certificates
  if (signer === undefined) return failure('ERR_VERIFY_CHAIN', 'KeyInfo holds no certificate')
  const key = await publicKeyOf(signer, context.crypto, context.cache)
  if (key.algorithm !== 'EC') {
    return failure('ERR_VERIFY_SIGNATURE', `the key of "${signer.commonName}" is not an EC key`)
  }
  const algorithm = { name: 'ECDSA', hash: signature.signatureHash } as const
  const valid = await context.crypto.verify(
    algorithm,
    key,
    signature.signatureValue,
    signature.signedInfo,
  )
  if (!valid) {
    const what = `ECDSA/${signature.signatureHash} SignatureValue does not verify`
    return failure('ERR_VERIFY_SIGNATURE', `${what} with the key of "${signer.commonName}"`)
  }

  const chain = await verifyChain(signer, rest, {
    at: context.at,
    anchors,
    crypto: context.crypto,
    cache: context.cache,
  })
  if (!chain.ok) return failure(chain.code ?? 'ERR_VERIFY_CHAIN', `signing chain: ${chain.detail}`)

  return {
    ok: true,
    detail: `XML signature verifies; signed by ${chain.detail}, valid at ${context.at.toISOString()}`,
    path: chain.path,
  }
}
