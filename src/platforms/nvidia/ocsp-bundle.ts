/**
 * An OCSP client that reads responses from the collateral bundle instead of the network. The
 * collateral fetcher stores each response as `ocsp_<serial>.der`, with the certificate's serial in
 * lower-case hex. This client checks a response as the network client does (signature, signer,
 * CertID and freshness), at the verification time.
 *
 * @module
 */
import type { VerificationCache } from '../../core/cache.js'
import type { CollateralBundle } from '../../core/collateral-bundle.js'
import { ParseError } from '../../core/errors.js'
import type { CryptoPort, DigestAlgorithm } from '../../crypto/port.js'
import type { Certificate } from '../../pki/certificate.js'
import { parseOcspResponse } from './ocsp.js'
import type { OcspClient, OcspOutcome } from './ocsp-client.js'
import { createCertId } from './ocsp-request.js'
import { acceptOcspResponse } from './ocsp-validate.js'

/** Base names of OCSP responses in a bundle. */
export const NVIDIA_OCSP_FILE_PATTERN = /^ocsp_[0-9a-f]+\.der$/

/** Tolerated difference between the responder's clock and the verification time. */
const CLOCK_SKEW_MS = 5 * 60 * 1000

/** CertID hash algorithms by OID, for computing the CertID a response names. */
const HASHES_BY_OID: Readonly<Record<string, DigestAlgorithm>> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
}

/** Returns the bundle file name of the OCSP response about the certificate with `serial` (hex). */
export function ocspFileName(serial: string): string {
  return `ocsp_${serial.toLowerCase()}.der`
}

/** Returns whether the bundle contains any OCSP response. */
export function hasOcspResponses(collateral: CollateralBundle | undefined): boolean {
  return collateral !== undefined && collateral.find(NVIDIA_OCSP_FILE_PATTERN).length > 0
}

function unavailable(detail: string): OcspOutcome {
  return { status: 'unavailable', url: undefined, detail }
}

/**
 * Creates a client that reads the responses in `collateral` and judges them at `at`. A certificate
 * without a response, or whose response is not current at `at`, comes back `unavailable`, so its
 * check is skipped rather than failed: a stale response cannot tell whether the certificate was
 * revoked since.
 */
export function bundleOcspClient(
  collateral: CollateralBundle,
  at: Date,
  cache: VerificationCache,
): OcspClient {
  return {
    async check(certificate: Certificate, issuer: Certificate, crypto: CryptoPort) {
      const file = ocspFileName(certificate.serialNumber)
      const bytes = collateral.get(file)
      if (bytes === undefined) return unavailable(`${file} is missing from the collateral`)

      let decoded: ReturnType<typeof parseOcspResponse>
      try {
        decoded = parseOcspResponse(bytes)
      } catch (error) {
        if (!(error instanceof ParseError)) throw error
        return unavailable(`${file} could not be decoded: ${error.message}`)
      }
      if (decoded.basic === undefined) {
        return unavailable(`${file} contains the responder status ${decoded.status}`)
      }
      const named = decoded.basic.responses.find(
        (entry) => entry.certId.serialNumber === certificate.serialNumber,
      )
      const hash = named === undefined ? undefined : HASHES_BY_OID[named.certId.hashAlgorithm]
      if (named === undefined || hash === undefined) {
        return unavailable(`${file} has no status for serial ${certificate.serialNumber}`)
      }
      const earliest = named.thisUpdate.getTime() - CLOCK_SKEW_MS
      const latest = (named.nextUpdate ?? named.thisUpdate).getTime() + CLOCK_SKEW_MS
      if (at.getTime() < earliest || at.getTime() > latest) {
        const window = `${named.thisUpdate.toISOString()} to ${(named.nextUpdate ?? named.thisUpdate).toISOString()}`
        return unavailable(`${file} is current from ${window}, not at ${at.toISOString()}`)
      }

      const certId = await createCertId(certificate, issuer, crypto, hash)
      const acceptance = await acceptOcspResponse(decoded.basic, {
        certId,
        issuer,
        nonce: undefined,
        now: at,
        clockSkewMs: CLOCK_SKEW_MS,
        crypto,
        cache,
      })
      if (!acceptance.ok) return { status: 'rejected', url: file, detail: acceptance.detail }

      const { status, thisUpdate, nextUpdate } = acceptance.single
      if (status.kind === 'good') {
        const signer = acceptance.signer
        return { status: 'good', url: file, signer, thisUpdate, nextUpdate, cached: false }
      }
      if (status.kind === 'revoked') {
        const { revocationTime, reason } = status
        return { status: 'revoked', url: file, revocationTime, reason, cached: false }
      }
      return { status: 'unknown', url: file, cached: false }
    },
  }
}
