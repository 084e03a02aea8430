/**
 * Builds and signs X.509 certificates: DER through @peculiar/asn1-x509, signatures through
 * node:crypto. Node only. RA-TLS certificates and tests that need a certificate with chosen
 * extensions use it.
 *
 * @module
 */
import { createHash, type KeyObject, randomBytes, sign } from 'node:crypto'
import { isIP } from 'node:net'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509'
import { ConfigError } from '../core/errors.js'

/** An extension to add: its OID, DER value and criticality. */
export interface ExtensionInput {
  readonly oid: string
  readonly value: Uint8Array
  readonly critical?: boolean
}

/** The signer of a certificate: a private key and the DER Name of its certificate's subject. */
export interface CertificateSigner {
  readonly privateKey: KeyObject
  /** DER of the issuer Name. Absent: the certificate is self-signed. */
  readonly subjectDer?: Uint8Array
  /** The issuer's subject key identifier, copied into authorityKeyIdentifier. */
  readonly keyIdentifier?: Uint8Array
}

/** The contents of a certificate. */
export interface CertificateInput {
  readonly publicKey: KeyObject
  /** The subject's common name. */
  readonly commonName: string
  readonly notBefore: Date
  readonly notAfter: Date
  /** DNS names and IP addresses for subjectAltName. Absent or empty: no subjectAltName. */
  readonly hostnames?: readonly string[]
  /** Extensions after the standard ones, in this order. */
  readonly extensions?: readonly ExtensionInput[]
  /** Absent: self-signed with the private key of `publicKey`, which `selfKey` gives. */
  readonly signer?: CertificateSigner
  /** The private key of `publicKey`, for a self-signed certificate. */
  readonly selfKey?: KeyObject
}

const ECDSA_SHA256 = '1.2.840.10045.4.3.2'
const ECDSA_SHA384 = '1.2.840.10045.4.3.3'
const ECDSA_SHA512 = '1.2.840.10045.4.3.4'
const ED25519 = '1.3.101.112'
const COMMON_NAME = '2.5.4.3'

/** Returns the signature algorithm OID and node:crypto digest for a private key. */
function signatureAlgorithm(key: KeyObject): { oid: string; digest: string | null } {
  const type = key.asymmetricKeyType
  if (type === 'ed25519') return { oid: ED25519, digest: null }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve === 'prime256v1') return { oid: ECDSA_SHA256, digest: 'sha256' }
    if (curve === 'secp384r1') return { oid: ECDSA_SHA384, digest: 'sha384' }
    if (curve === 'secp521r1') return { oid: ECDSA_SHA512, digest: 'sha512' }
  }
  const message = `a certificate cannot be signed with a ${type ?? 'unknown'} key; use P-256, P-384, P-521 or Ed25519`
  throw new ConfigError('ERR_CONFIG_INVALID', message)
}

function commonNameDer(commonName: string): Uint8Array {
  const attribute = new AttributeTypeAndValue({ type: COMMON_NAME })
  attribute.value.utf8String = commonName
  const name = new Name([new RelativeDistinguishedName([attribute])])

  return new Uint8Array(AsnConvert.serialize(name))
}

function extension(oid: string, critical: boolean, value: ArrayBuffer | Uint8Array): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(value) })
}

function subjectAltName(hostnames: readonly string[]): Extension {
  const names = hostnames.map((host) =>
    isIP(host) === 0 ? new GeneralName({ dNSName: host }) : new GeneralName({ iPAddress: host }),
  )
  return extension(
    id_ce_subjectAltName,
    false,
    AsnConvert.serialize(new SubjectAlternativeName(names)),
  )
}

function standardExtensions(input: CertificateInput, keyId: Uint8Array): Extension[] {
  const usage = new KeyUsage(KeyUsageFlags.digitalSignature)
  const purposes = new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth])
  const authorityKeyId = input.signer?.keyIdentifier ?? keyId
  const list = [
    extension(id_ce_basicConstraints, true, AsnConvert.serialize(new BasicConstraints())),
    extension(id_ce_keyUsage, true, AsnConvert.serialize(usage)),
    extension(id_ce_extKeyUsage, false, AsnConvert.serialize(purposes)),
    extension(
      id_ce_subjectKeyIdentifier,
      false,
      AsnConvert.serialize(new SubjectKeyIdentifier(keyId)),
    ),
    extension(
      id_ce_authorityKeyIdentifier,
      false,
      AsnConvert.serialize(
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(authorityKeyId) }),
      ),
    ),
  ]
  if (input.hostnames !== undefined && input.hostnames.length > 0)
    list.push(subjectAltName(input.hostnames))

  return list
}

/**
 * Returns a random positive 16-byte serial number. RFC 5280 §4.1.2.2 allows at most 20 bytes.
 * The first byte is never zero, so the DER encoding keeps all 16 bytes.
 */
function serialNumber(): ArrayBuffer {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01

  return new Uint8Array(bytes).buffer
}

/**
 * Builds and signs a certificate.
 *
 * @returns the DER certificate.
 * @throws ConfigError `ERR_CONFIG_INVALID` for a key type confide cannot sign with, or a
 *   self-signed certificate without `selfKey`.
 */
export function buildCertificate(input: CertificateInput): Uint8Array {
  const signingKey = input.signer?.privateKey ?? input.selfKey
  if (signingKey === undefined) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      'a self-signed certificate needs its private key (selfKey)',
    )
  }
  const algorithm = signatureAlgorithm(signingKey)
  const spkiDer = new Uint8Array(input.publicKey.export({ type: 'spki', format: 'der' }))
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo)
  // Subject key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1).
  const keyId = new Uint8Array(
    createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest(),
  )
  const subjectDer = commonNameDer(input.commonName)
  const issuerDer = input.signer?.subjectDer ?? subjectDer
  const signatureAlgorithmId = new AlgorithmIdentifier({ algorithm: algorithm.oid })
  const extensions = [
    ...standardExtensions(input, keyId),
    ...(input.extensions ?? []).map((e) => extension(e.oid, e.critical === true, e.value)),
  ]
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: signatureAlgorithmId,
    issuer: AsnConvert.parse(issuerDer, Name),
    validity: new Validity({ notBefore: input.notBefore, notAfter: input.notAfter }),
    subject: AsnConvert.parse(subjectDer, Name),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  })
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs))
  const signature = sign(algorithm.digest, tbsDer, { key: signingKey, dsaEncoding: 'der' })
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: signatureAlgorithmId,
    signatureValue: new Uint8Array(signature).buffer,
  })

  return new Uint8Array(AsnConvert.serialize(certificate))
}
