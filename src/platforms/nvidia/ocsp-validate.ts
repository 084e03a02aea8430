/**
 * Acceptance of a decoded OCSP response for one certificate: it must be about that certificate,
 * be signed by the issuing CA or by a responder the CA authorized, echo the request's nonce, and
 * be current.
 *
 * @see RFC 6960, §3.2 (what a client checks) and §4.2.2.2 (authorized responders)
 * @module
 */
import { AsnConvert } from '@peculiar/asn1-schema'
import { ExtendedKeyUsage, id_ce_extKeyUsage } from '@peculiar/asn1-x509'
import { bytesEqual } from '../../core/bytes.js'
import type { VerificationCache } from '../../core/cache.js'
import type { CryptoPort } from '../../crypto/port.js'
import { type Certificate, findExtension, parseCertificate } from '../../pki/certificate.js'
import { signedBy } from '../../pki/chain.js'
import {
  type BasicOcspResponse,
  type OcspCertId,
  type OcspSingleResponse,
  OID_OCSP_SIGNING,
} from './ocsp.js'

/** The certificate, nonce and clock a response is judged against. */
export interface OcspExpectation {
  readonly certId: OcspCertId
  readonly issuer: Certificate
  /** The nonce sent with the request, or undefined when none was sent. */
  readonly nonce: Uint8Array | undefined
  /** The instant the response is judged at. */
  readonly now: Date
  /** How far thisUpdate may lie ahead of `now`, and nextUpdate behind it, in milliseconds. */
  readonly clockSkewMs: number
  readonly crypto: CryptoPort
  readonly cache: VerificationCache
}

/** A response accepted for a certificate, or the reason it was rejected. */
export type OcspAcceptance =
  | { readonly ok: true; readonly single: OcspSingleResponse; readonly signer: string }
  | { readonly ok: false; readonly detail: string }

function sameCertId(a: OcspCertId, b: OcspCertId): boolean {
  return (
    a.hashAlgorithm === b.hashAlgorithm &&
    a.serialNumber === b.serialNumber &&
    bytesEqual(a.issuerNameHash, b.issuerNameHash) &&
    bytesEqual(a.issuerKeyHash, b.issuerKeyHash)
  )
}

function hasOcspSigning(certificate: Certificate): boolean {
  const extension = findExtension(certificate, id_ce_extKeyUsage)
  if (extension === undefined) return false

  return AsnConvert.parse(extension.extnValue.buffer, ExtendedKeyUsage).includes(OID_OCSP_SIGNING)
}

/**
 * Returns why a certificate the response carries cannot sign for `issuer`, or undefined when it
 * can: it must be signed by the issuer, carry id-kp-OCSPSigning and be valid at `now`.
 */
async function delegationProblem(
  candidate: Certificate,
  expectation: OcspExpectation,
): Promise<string | undefined> {
  const { issuer, now } = expectation
  if (!(await signedBy(candidate, issuer, expectation.crypto, expectation.cache))) {
    return `"${candidate.commonName}" is not issued by "${issuer.commonName}"`
  }
  if (!hasOcspSigning(candidate)) return `"${candidate.commonName}" lacks id-kp-OCSPSigning`
  if (now < candidate.notBefore || now > candidate.notAfter) {
    return `"${candidate.commonName}" is not valid at ${now.toISOString()}`
  }
  return undefined
}

/** Finds the certificate whose key signed the response: the issuer, or an authorized responder. */
async function findSigner(
  basic: BasicOcspResponse,
  expectation: OcspExpectation,
): Promise<{ signer?: Certificate; problems: string[] }> {
  const { issuer, crypto, cache } = expectation
  if (await signedBy(basic, issuer, crypto, cache)) return { signer: issuer, problems: [] }
  const problems: string[] = []
  for (const der of basic.certificates) {
    const candidate = parseCertificate(der)
    if (!(await signedBy(basic, candidate, crypto, cache))) continue
    const problem = await delegationProblem(candidate, expectation)
    if (problem === undefined) return { signer: candidate, problems }
    problems.push(problem)
  }
  return { problems }
}

function checkFreshness(
  single: OcspSingleResponse,
  expectation: OcspExpectation,
): string | undefined {
  const { now, clockSkewMs } = expectation
  const earliest = new Date(now.getTime() - clockSkewMs)
  const latest = new Date(now.getTime() + clockSkewMs)
  if (single.thisUpdate > latest) {
    return `thisUpdate ${single.thisUpdate.toISOString()} is after ${now.toISOString()}`
  }
  // Without nextUpdate the responder always has newer information (RFC 6960, §4.2.2.1), so the
  // response is current only while thisUpdate is within the allowed clock skew.
  const end = single.nextUpdate ?? single.thisUpdate
  if (end < earliest) {
    const what = single.nextUpdate === undefined ? 'thisUpdate (no nextUpdate)' : 'nextUpdate'
    return `the response is stale: ${what} ${end.toISOString()} is before ${now.toISOString()}`
  }
  return undefined
}

/**
 * Accepts a BasicOCSPResponse for the certificate in `expectation`, or returns the reason it does
 * not. A SingleResponse must name the certificate's CertID. The signature must verify with the
 * issuer's key, or with a certificate in the response that the issuer signed for OCSP signing and
 * that is valid at `now`. A byName ResponderID must name that signer, the nonce sent must come
 * back, and thisUpdate and nextUpdate must bracket `now` within the clock skew.
 *
 * Does not judge the certificate status itself; the caller reads it from `single.status`.
 */
export async function acceptOcspResponse(
  basic: BasicOcspResponse,
  expectation: OcspExpectation,
): Promise<OcspAcceptance> {
  const serial = expectation.certId.serialNumber
  const single = basic.responses.find((entry) => sameCertId(entry.certId, expectation.certId))
  if (single === undefined) {
    return { ok: false, detail: `the response has no status for serial ${serial}` }
  }
  if (basic.signatureAlgorithm === undefined) {
    return { ok: false, detail: 'the response is signed with an algorithm confide does not accept' }
  }
  const { signer, problems } = await findSigner(basic, expectation)
  if (signer === undefined) {
    const why = problems.length === 0 ? '' : ` (${problems.join('; ')})`
    const detail = `the response signature verifies with neither the issuer's key nor an authorized responder's${why}`
    return { ok: false, detail }
  }
  if (basic.responderName !== undefined && !bytesEqual(basic.responderName, signer.subjectDer)) {
    return { ok: false, detail: `the ResponderID does not name the signer "${signer.commonName}"` }
  }
  if (expectation.nonce !== undefined) {
    if (basic.nonce === undefined)
      return { ok: false, detail: 'the response does not echo the request nonce' }
    if (!bytesEqual(basic.nonce, expectation.nonce)) {
      return { ok: false, detail: 'the response nonce differs from the request nonce' }
    }
  }
  const stale = checkFreshness(single, expectation)
  if (stale !== undefined) return { ok: false, detail: stale }

  return { ok: true, single, signer: signer.commonName }
}
