/**
 * Creates RA-TLS certificates: a TLS certificate whose public key the TEE's evidence binds, with
 * the evidence in a non-critical extension. Node only.
 *
 * @module
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Attester } from '../attest/attester.js'
import { decodePem, encodePem } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import { parseCertificate } from '../pki/certificate.js'
import { RATLS_REPORT_DATA_SIZE, SHA256_ALGORITHM_ID } from './binding.js'
import {
  encodeTcgClaims,
  encodeTcgEvidence,
  GRAMINE_QUOTE_OID,
  TCG_DICE_TAGGED_EVIDENCE_OID,
} from './extensions.js'
import { buildCertificate, type CertificateSigner, type ExtensionInput } from './x509-builder.js'

/** A key pair of node:crypto key objects. */
export interface RatlsKeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
}

/** A CA the workload holds, which issues the certificate instead of self-signing it. */
export interface RatlsIssuer {
  /** The CA certificate, PEM. It follows the new certificate in the returned chain. */
  readonly certificate: string
  readonly privateKey: KeyObject
}

/** The inputs of an RA-TLS certificate. */
export interface CreateRatlsCertificateInput {
  /** Produces the evidence. Only `attest` is called. */
  readonly attester: Pick<Attester, 'attest'>
  /**
   * `tcg-dice`: TCG DICE tagged evidence with a `pubkey-hash` claim (interoperable-ra-tls).
   * `gramine`: Gramine's raw quote under its OID, the key's SHA-256 in the report data.
   */
  readonly encoding: 'tcg-dice' | 'gramine'
  /** The certificate's key pair. Default: a new P-256 key. */
  readonly key?: RatlsKeyPair
  /** Days from `at` until the certificate expires. Default: 1. */
  readonly validityDays?: number
  /** The start of the validity period. Default: now. */
  readonly at?: Date
  /** Subject common name. Default: `confide RA-TLS`. */
  readonly commonName?: string
  /** DNS names and IP addresses for subjectAltName. Default: none. */
  readonly hostnames?: readonly string[]
  /** A verifier's nonce, carried as the `nonce` claim (tcg-dice only). Default: none. */
  readonly nonce?: Uint8Array
  /** Absent: self-signed. */
  readonly issuer?: RatlsIssuer
}

/** A created certificate with its key. */
export interface RatlsCertificate {
  /** The certificate PEM, followed by the issuer's when a CA issued it. */
  readonly cert: string
  /** The private key, PKCS#8 PEM. */
  readonly key: string
  /** The DER of the certificate itself. */
  readonly der: Uint8Array
  /** The evidence the attester returned. */
  readonly evidence: Uint8Array
}

const DAY_MS = 86_400_000
/** How far before `at` the validity starts, so a peer whose clock is a little behind accepts it. */
const CLOCK_SKEW_MS = 5 * 60_000

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

function zeroPadded(digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(RATLS_REPORT_DATA_SIZE)
  out.set(digest)

  return out
}

/** Attests to the key and returns the evidence extension. */
async function evidenceExtension(
  input: CreateRatlsCertificateInput,
  spki: Uint8Array,
): Promise<{ extension: ExtensionInput; evidence: Uint8Array }> {
  if (input.encoding === 'gramine') {
    if (input.nonce !== undefined) {
      throw new ConfigError('ERR_CONFIG_INVALID', "Gramine's encoding has no nonce claim")
    }
    const evidence = await input.attester.attest(zeroPadded(sha256(spki)))
    return { extension: { oid: GRAMINE_QUOTE_OID, value: evidence }, evidence }
  }
  const claims = encodeTcgClaims({
    pubkeyHash: { algorithmId: SHA256_ALGORITHM_ID, digest: sha256(spki) },
    ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
  })
  const evidence = await input.attester.attest(zeroPadded(sha256(claims)))
  const value = encodeTcgEvidence(evidence, claims)

  return { extension: { oid: TCG_DICE_TAGGED_EVIDENCE_OID, value }, evidence }
}

function issuerSigner(issuer: RatlsIssuer): CertificateSigner {
  const [block] = decodePem(issuer.certificate).filter((b) => b.label === 'CERTIFICATE')
  if (block === undefined) {
    throw new ConfigError('ERR_CONFIG_INVALID', 'the issuer certificate is not a PEM certificate')
  }
  const certificate = parseCertificate(block.der)
  const keyIdentifier = certificate.extensions.find((e) => e.extnID === '2.5.29.14')
  const signer: CertificateSigner = {
    privateKey: issuer.privateKey,
    subjectDer: certificate.subjectDer,
  }
  if (keyIdentifier === undefined) return signer
  // The subjectKeyIdentifier value is an OCTET STRING: skip its two-byte header.
  const value = new Uint8Array(keyIdentifier.extnValue.buffer)

  return { ...signer, keyIdentifier: value.subarray(2) }
}

/**
 * Creates an RA-TLS certificate: generates (or takes) a key pair, requests evidence from the attester
 * that binds the public key, and issues a certificate with the evidence in a non-critical
 * extension, self-signed or signed by `issuer`.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a key type confide cannot sign with, a bad
 *   validity or issuer; whatever the attester throws (AttestError).
 */
export async function createRatlsCertificate(
  input: CreateRatlsCertificateInput,
): Promise<RatlsCertificate> {
  const days = input.validityDays ?? 1
  if (!(days > 0)) {
    throw new ConfigError('ERR_CONFIG_INVALID', `validityDays must be positive, not ${days}`)
  }
  const key = input.key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' }))
  const { extension, evidence } = await evidenceExtension(input, spki)
  const at = input.at ?? new Date()
  const der = buildCertificate({
    publicKey: key.publicKey,
    commonName: input.commonName ?? 'confide RA-TLS',
    notBefore: new Date(at.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(at.getTime() + days * DAY_MS),
    ...(input.hostnames === undefined ? {} : { hostnames: input.hostnames }),
    extensions: [extension],
    ...(input.issuer === undefined
      ? { selfKey: key.privateKey }
      : { signer: issuerSigner(input.issuer) }),
  })
  const chain = input.issuer === undefined ? '' : input.issuer.certificate
  const privatePem = key.privateKey.export({ type: 'pkcs8', format: 'pem' })

  return {
    cert: encodePem('CERTIFICATE', der) + chain,
    key: privatePem.toString(),
    der,
    evidence,
  }
}
