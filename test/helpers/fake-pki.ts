/**
 * A test PKI: roots, intermediates and leaves with chosen names, validity, keys and extensions,
 * plus CRLs. Test-only: the private keys here protect nothing.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { id_RSASSA_PSS, id_sha384, RsaSaPssParams } from '@peculiar/asn1-rsa'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  CertificateList,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  Name,
  RelativeDistinguishedName,
  RevokedCertificate,
  SubjectPublicKeyInfo,
  TBSCertificate,
  TBSCertList,
  Time,
  Validity,
  Version,
} from '@peculiar/asn1-x509'

export type KeyKind = 'P-256' | 'P-384' | 'RSA-PSS'

/** A certificate with the private key of its subject. */
export interface Issued {
  readonly der: Uint8Array
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly kind: KeyKind
  readonly subject: Name
}

export interface CertificateSpec {
  /** Common name of the subject; other attributes may be added with `subjectAttributes`. */
  readonly commonName: string
  readonly notBefore?: Date
  readonly notAfter?: Date
  readonly serial?: number
  readonly isCa?: boolean
  readonly kind?: KeyKind
  /** Extra extensions, as OID and DER value. */
  readonly extensions?: readonly { oid: string; value: Uint8Array; critical?: boolean }[]
  /** Reuse this key pair instead of generating one. */
  readonly keyPair?: { privateKey: KeyObject; publicKey: KeyObject }
}

const ECDSA_SHA256 = '1.2.840.10045.4.3.2'
const ECDSA_SHA384 = '1.2.840.10045.4.3.3'

/** Creates the Name `O=confide test, CN=<commonName>`. */
export function nameOf(commonName: string): Name {
  const attribute = (type: string, text: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: text }) }),
    ])
  return new Name([attribute('2.5.4.10', 'confide test'), attribute('2.5.4.3', commonName)])
}

function generate(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === 'RSA-PSS') return generateKeyPairSync('rsa', { modulusLength: 2048 })
  return generateKeyPairSync('ec', { namedCurve: kind === 'P-256' ? 'prime256v1' : 'secp384r1' })
}

function signatureAlgorithm(kind: KeyKind): AlgorithmIdentifier {
  if (kind === 'RSA-PSS') {
    const params = new RsaSaPssParams({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: id_sha384 }),
      maskGenAlgorithm: new AlgorithmIdentifier({
        algorithm: '1.2.840.113549.1.1.8',
        parameters: AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: id_sha384 })),
      }),
      saltLength: 48,
    })
    return new AlgorithmIdentifier({
      algorithm: id_RSASSA_PSS,
      parameters: AsnConvert.serialize(params),
    })
  }
  return new AlgorithmIdentifier({ algorithm: kind === 'P-256' ? ECDSA_SHA256 : ECDSA_SHA384 })
}

/** Signs bytes the way a certificate of `kind` does (DER ECDSA, or RSA-PSS SHA-384). */
export function signAs(kind: KeyKind, privateKey: KeyObject, data: Uint8Array): Uint8Array {
  if (kind === 'RSA-PSS') {
    return new Uint8Array(sign('sha384', data, { key: privateKey, padding: 6, saltLength: 48 }))
  }
  return new Uint8Array(sign(kind === 'P-256' ? 'sha256' : 'sha384', data, privateKey))
}

/**
 * Issues a certificate. With no issuer the certificate is self-signed.
 */
export function issue(spec: CertificateSpec, issuer?: Issued): Issued {
  const kind = spec.kind ?? issuer?.kind ?? 'P-256'
  const keys = spec.keyPair ?? generate(kind)
  const subject = nameOf(spec.commonName)
  const signerKind = issuer?.kind ?? kind
  const extensions = new Extensions()
  if (spec.isCa ?? false) {
    extensions.push(
      new Extension({
        extnID: id_ce_basicConstraints,
        critical: true,
        extnValue: new OctetString(AsnConvert.serialize(new BasicConstraints({ cA: true }))),
      }),
    )
  }
  for (const extra of spec.extensions ?? []) {
    extensions.push(
      new Extension({
        extnID: extra.oid,
        critical: extra.critical ?? false,
        extnValue: new OctetString(extra.value),
      }),
    )
  }
  const spki = AsnConvert.parse(
    keys.publicKey.export({ type: 'spki', format: 'der' }),
    SubjectPublicKeyInfo,
  )
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: Uint8Array.of(0x01, (spec.serial ?? 1) & 0xff).buffer,
    signature: signatureAlgorithm(signerKind),
    issuer: issuer?.subject ?? subject,
    validity: new Validity({
      notBefore: spec.notBefore ?? new Date('2020-01-01T00:00:00Z'),
      notAfter: spec.notAfter ?? new Date('2040-01-01T00:00:00Z'),
    }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions,
  })
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs))
  const signature = signAs(signerKind, issuer?.privateKey ?? keys.privateKey, tbsDer)
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: signatureAlgorithm(signerKind),
    signatureValue: signature.buffer as ArrayBuffer,
  })
  return {
    der: new Uint8Array(AsnConvert.serialize(certificate)),
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    kind,
    subject,
  }
}

export interface CrlSpec {
  readonly thisUpdate?: Date
  readonly nextUpdate?: Date
  /** Serial numbers (as given to `issue`) to revoke. */
  readonly revoked?: readonly number[]
}

/** Issues a CRL signed by `issuer`. */
export function issueCrl(issuer: Issued, spec: CrlSpec = {}): Uint8Array {
  const revoked = (spec.revoked ?? []).map(
    (serial) =>
      new RevokedCertificate({
        userCertificate: Uint8Array.of(0x01, serial & 0xff).buffer,
        revocationDate: new Time(new Date('2021-01-01T00:00:00Z')),
      }),
  )
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: signatureAlgorithm(issuer.kind),
    issuer: issuer.subject,
    thisUpdate: new Time(spec.thisUpdate ?? new Date('2020-01-01T00:00:00Z')),
    nextUpdate: new Time(spec.nextUpdate ?? new Date('2040-01-01T00:00:00Z')),
    ...(revoked.length > 0 ? { revokedCertificates: revoked } : {}),
  })
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs))
  const signature = signAs(issuer.kind, issuer.privateKey, tbsDer)
  const crl = new CertificateList({
    tbsCertList: tbs,
    signatureAlgorithm: signatureAlgorithm(issuer.kind),
    signature: signature.buffer as ArrayBuffer,
  })
  return new Uint8Array(AsnConvert.serialize(crl))
}

/** Imports a PEM or DER private key (for fixtures that ship one). */
export function privateKeyFrom(pem: string): KeyObject {
  return createPrivateKey(pem)
}
