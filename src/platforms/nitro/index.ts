/**
 * AWS Nitro Enclaves: attestation documents (COSE_Sign1, ES384) signed through the AWS Nitro
 * Attestation PKI, as raw bytes, base64 text, or inside a TLS certificate.
 *
 * @module
 */
import type { Platform } from '../../core/platform.js'
import { type NitroEvidence, parseNitroEvidence } from './evidence.js'
import { sniffNitro } from './sniff.js'
import { verifyNitro } from './verify.js'

/** Creates the AWS Nitro Enclaves platform. */
export function nitroPlatform(): Platform<NitroEvidence> {
  return {
    name: 'nitro',
    title: 'AWS Nitro Enclaves',
    expectations: ['expectedNonce', 'expectedUserData'],
    sniff: sniffNitro,
    parse: parseNitroEvidence,
    verify: verifyNitro,
  }
}

export { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './anchors.js'
export type { CarrierCertificate } from './carrier.js'
export { isDebugEnclave, nitroClaims } from './claims.js'
export type { NitroEvidence, NitroInputForm } from './evidence.js'
export { parseNitroEvidence } from './evidence.js'
export type { AttestationDocument, CoseSign1 } from './format.js'
export { parseAttestationDocument, parseCoseSign1 } from './format.js'
export { sniffNitro } from './sniff.js'
export { TIMESTAMP_SKEW_MS, verifyNitro } from './verify.js'
