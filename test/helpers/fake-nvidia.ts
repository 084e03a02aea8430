/**
 * A fake NVIDIA GPU for tests. It issues a device certificate chain in NVIDIA's shape (root,
 * identity CA, provisioner CA, BROM CA, FMC leaf with an FWID) and SPDM 1.1 reports signed by the
 * leaf. A fake RIM PKI signs RIMs with an enveloped XML signature. Test-only: the keys protect
 * nothing.
 */
import { createHash, sign } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  ExtendedKeyUsage,
  GeneralName,
  id_kp_OCSPSigning,
} from '@peculiar/asn1-x509'
import { DOMParser } from '@xmldom/xmldom'
import { C14nCanonicalization, findAncestorNs } from 'xml-crypto'
import { concatBytes, encodePem, toBase64 } from '../../src/core/bytes.js'
import { type Issued, issue } from './fake-pki.js'

/** Encodes one DER element (test-side writer, independent of the library's). */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  const body = concatBytes(...parts)
  const length =
    body.length < 0x80
      ? Uint8Array.of(body.length)
      : body.length < 0x100
        ? Uint8Array.of(0x81, body.length)
        : Uint8Array.of(0x82, body.length >> 8, body.length & 0xff)
  return concatBytes(Uint8Array.of(tag), length, body)
}

/** DER of the OID 2.16.840.1.101.3.4.2.2 (SHA-384). */
const SHA384_OID = Uint8Array.of(0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02)

/** Encodes extension 2.23.133.5.4.1 in the CompositeDeviceID shape that NVIDIA's leaves use. */
export function fwidExtension(spki: Uint8Array, fwid: Uint8Array): Uint8Array {
  return tlv(0x30, tlv(0x02, Uint8Array.of(1)), spki, tlv(0x30, SHA384_OID, tlv(0x04, fwid)))
}

/** Encodes an authority information access extension that names one OCSP responder. */
export function aiaExtension(url: string): Uint8Array {
  const access = new AuthorityInfoAccessSyntax([
    new AccessDescription({
      accessMethod: '1.3.6.1.5.5.7.48.1',
      accessLocation: new GeneralName({ uniformResourceIdentifier: url }),
    }),
  ])
  return new Uint8Array(AsnConvert.serialize(access))
}

/** Encodes an extended key usage extension with id-kp-OCSPSigning. */
export function ocspSigningExtension(): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(new ExtendedKeyUsage([id_kp_OCSPSigning])))
}

export const FAKE_FWID = new Uint8Array(48).fill(0xf5)

export interface FakeDeviceSpec {
  /** FWID of the leaf's extension. Null leaves the extension out. Default: FAKE_FWID. */
  readonly fwid?: Uint8Array | null
  /** OCSP responder named in the CA certificates below the root. Absent: none. */
  readonly ocspUrl?: string
  /** Common name of the root, so a second fake device can have another root. */
  readonly rootName?: string
}

/** A device chain: leaf (FMC), BROM, provisioner CA, identity CA and root. */
export interface FakeDevice {
  readonly root: Issued
  readonly identity: Issued
  readonly provisioner: Issued
  readonly brom: Issued
  readonly leaf: Issued
}

/** Issues a device chain shaped like a Hopper GPU's. Serial numbers: leaf 5, BROM 4, ... root 1. */
export function createFakeDevice(spec: FakeDeviceSpec = {}): FakeDevice {
  const aia =
    spec.ocspUrl === undefined
      ? []
      : [{ oid: '1.3.6.1.5.5.7.1.1', value: aiaExtension(spec.ocspUrl) }]
  const root = issue({
    commonName: spec.rootName ?? 'Fake Device Identity CA',
    kind: 'P-384',
    isCa: true,
    serial: 1,
  })
  const identity = issue(
    { commonName: 'Fake GH100 Identity', isCa: true, serial: 2, extensions: aia },
    root,
  )
  const provisioner = issue(
    { commonName: 'Fake GH100 Provisioner ICA 1', isCa: true, serial: 3, extensions: aia },
    identity,
  )
  const brom = issue(
    { commonName: 'Fake GH100 GSP BROM', isCa: true, serial: 4, extensions: aia },
    provisioner,
  )
  const leafKeys = issue({ commonName: 'key holder', kind: 'P-384' })
  const spki = new Uint8Array(leafKeys.publicKey.export({ type: 'spki', format: 'der' }))
  const fwid = spec.fwid === undefined ? FAKE_FWID : spec.fwid
  const extensions =
    fwid === null ? [] : [{ oid: '2.23.133.5.4.1', value: fwidExtension(spki, fwid) }]
  const leaf = issue(
    {
      commonName: 'Fake GH100 GSP FMC LF',
      serial: 5,
      extensions,
      keyPair: { privateKey: leafKeys.privateKey, publicKey: leafKeys.publicKey },
    },
    brom,
  )
  return { root, identity, provisioner, brom, leaf }
}

/** PEM text of certificates in the order given. */
export function chainPem(certificates: readonly Issued[]): Uint8Array {
  return new TextEncoder().encode(certificates.map((c) => encodePem('CERTIFICATE', c.der)).join(''))
}

/** Encodes the device chain in the order of `cert_chain.pem`: leaf first, root last. */
export function deviceChainPem(device: FakeDevice): Uint8Array {
  return chainPem([device.leaf, device.brom, device.provisioner, device.identity, device.root])
}

// ---------------------------------------------------------------------------------------------
// Reports

export interface OpaqueEntry {
  readonly type: number
  readonly value: Uint8Array
}

/** Creates an opaque data field of NUL-terminated ASCII text. */
export function textField(type: number, text: string): OpaqueEntry {
  return { type, value: concatBytes(new TextEncoder().encode(text), Uint8Array.of(0)) }
}

/** VBIOS_VERSION bytes for a dotted version `b3.b2.b1.b0.b4`. */
export function vbiosField(version: string): OpaqueEntry {
  const [p0, p1, p2, p3, p4] = version.split('.').map((part) => Number.parseInt(part, 16))
  return { type: 6, value: Uint8Array.of(p3 ?? 0, p2 ?? 0, p1 ?? 0, p0 ?? 0, p4 ?? 0, 0, 0, 0) }
}

export const FAKE_DRIVER_VERSION = '550.90.07'
export const FAKE_VBIOS_VERSION = '96.00.9f.00.01'

/** Default opaque data: driver and VBIOS versions, chip SKU, project, FWID and NVDEC0 disabled. */
export function defaultOpaque(fwid: Uint8Array = FAKE_FWID): OpaqueEntry[] {
  return [
    vbiosField(FAKE_VBIOS_VERSION),
    textField(15, '882'),
    textField(17, '1010'),
    textField(18, '0200'),
    textField(3, FAKE_DRIVER_VERSION),
    { type: 20, value: fwid },
    { type: 11, value: Uint8Array.of(0x55) },
  ]
}

/** Value of measurement block `index` in a fake report: 48 bytes of the index. */
export function blockValue(index: number): Uint8Array {
  return new Uint8Array(48).fill(index)
}

export interface ReportSpec {
  readonly signer: Issued
  readonly nonce?: Uint8Array
  /** Block indexes, each with the value blockValue(index) unless `values` has one. */
  readonly blocks?: readonly number[]
  readonly values?: ReadonlyMap<number, Uint8Array>
  readonly opaque?: readonly OpaqueEntry[]
  /** Bytes appended after the signature. */
  readonly trailing?: Uint8Array
}

export const FAKE_NONCE = new Uint8Array(32).fill(0x31)

function u16(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, value >> 8)
}

/** Builds the request and the response up to its signature. */
export function unsignedReport(spec: Omit<ReportSpec, 'signer' | 'trailing'>): Uint8Array {
  const request = concatBytes(
    Uint8Array.of(0x11, 0xe0, 0x01, 0xff),
    spec.nonce ?? FAKE_NONCE,
    Uint8Array.of(0),
  )
  const indexes = spec.blocks ?? [1, 2, 3, 4, 5, 6, 7, 8]
  const record = concatBytes(
    ...indexes.map((index) => {
      const value = spec.values?.get(index) ?? blockValue(index)
      const measurement = concatBytes(Uint8Array.of(0x01), u16(value.length), value)
      return concatBytes(Uint8Array.of(index, 0x01), u16(measurement.length), measurement)
    }),
  )
  const opaque = concatBytes(
    ...(spec.opaque ?? defaultOpaque()).map((f) =>
      concatBytes(u16(f.type), u16(f.value.length), f.value),
    ),
  )
  const header = Uint8Array.of(
    0x11,
    0x60,
    0,
    0,
    indexes.length,
    record.length & 0xff,
    (record.length >> 8) & 0xff,
    record.length >> 16,
  )
  return concatBytes(
    request,
    header,
    record,
    new Uint8Array(32).fill(0x52),
    u16(opaque.length),
    opaque,
  )
}

/** Builds a binary report signed by `spec.signer` (ECDSA P-384/SHA-384, r‖s). */
export function buildReport(spec: ReportSpec): Uint8Array {
  const signed = unsignedReport(spec)
  const signature = sign('sha384', signed, {
    key: spec.signer.privateKey,
    dsaEncoding: 'ieee-p1363',
  })
  return concatBytes(signed, new Uint8Array(signature), spec.trailing ?? new Uint8Array())
}

/** Encodes bytes as hex text with a final newline, the form of `attestation_report.hex`. */
export function hexText(bytes: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`${Buffer.from(bytes).toString('hex')}\n`)
}

// ---------------------------------------------------------------------------------------------
// RIMs

const SWID_NS = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd'
const SHA384_NS = 'http://www.w3.org/2001/04/xmlenc#sha384'
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'
const C14N_11 = 'http://www.w3.org/2006/12/xml-c14n11'

/** A RIM signing chain: root, CA and leaf signer. */
export interface FakeRimPki {
  readonly root: Issued
  readonly ca: Issued
  readonly signer: Issued
}

export function createFakeRimPki(ocspUrl?: string): FakeRimPki {
  const aia =
    ocspUrl === undefined ? [] : [{ oid: '1.3.6.1.5.5.7.1.1', value: aiaExtension(ocspUrl) }]
  const root = issue({
    commonName: 'Fake CoRIM signing Root CA',
    kind: 'P-384',
    isCa: true,
    serial: 11,
  })
  const ca = issue(
    { commonName: 'Fake Reference Value GH100 CA', isCa: true, serial: 12, extensions: aia },
    root,
  )
  const signer = issue({ commonName: 'Fake RIM Signer', serial: 13, extensions: aia }, ca)
  return { root, ca, signer }
}

export interface RimEntry {
  readonly index: number
  readonly active: boolean
  readonly values: readonly Uint8Array[]
}

export interface RimSpec {
  readonly version: string
  readonly entries: readonly RimEntry[]
  readonly pki: FakeRimPki
}

function resource(entry: RimEntry): string {
  const hashes = entry.values
    .map((value, i) => ` ns2:Hash${i}="${Buffer.from(value).toString('hex')}"`)
    .join('')
  const active = entry.active ? 'True' : 'False'
  return `    <ns0:Resource type="Measurement" index="${entry.index}" active="${active}" alternatives="${entry.values.length}"${hashes} name="Measurement_${entry.index}" size="48"/>\n`
}

function canonical(node: unknown, options: object = {}): Uint8Array {
  return new TextEncoder().encode(new C14nCanonicalization().process(node as never, options))
}

/**
 * Builds a RIM signed by `spec.pki.signer` as NVIDIA signs them: enveloped signature over the
 * whole document, C14N 1.1, ECDSA-SHA384, and the signing chain in KeyInfo.
 */
export function buildRim(spec: RimSpec): Uint8Array {
  const body =
    `<SoftwareIdentity xmlns="${SWID_NS}" xmlns:ns0="${SWID_NS}" xmlns:ns2="${SHA384_NS}" name="GH100" tagId="fake-${spec.version}" version="1.0">\n` +
    `  <ns0:Meta colloquialVersion="${spec.version}" edition="GPU" product="GH100"/>\n` +
    `  <ns0:Payload>\n${spec.entries.map(resource).join('')}  </ns0:Payload>\n`
  const unsigned = new DOMParser().parseFromString(`${body}</SoftwareIdentity>`, 'text/xml')
  const digest = createDigest(canonical(unsigned.documentElement))
  const signedInfo =
    `<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${C14N_11}"/>` +
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"/>' +
    '<ds:Reference URI=""><ds:Transforms>' +
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>' +
    `<ds:Transform Algorithm="${C14N_11}"/></ds:Transforms>` +
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#sha384"/>' +
    `<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>`
  const certificates = [spec.pki.signer, spec.pki.ca, spec.pki.root]
    .map((c) => `<ds:X509Certificate>${toBase64(c.der)}</ds:X509Certificate>`)
    .join('')
  const withSignature = (value: string) =>
    `${body}<ds:Signature xmlns:ds="${DSIG_NS}">${signedInfo}<ds:SignatureValue>${value}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data>${certificates}</ds:X509Data></ds:KeyInfo></ds:Signature></SoftwareIdentity>`
  const draft = new DOMParser().parseFromString(withSignature(''), 'text/xml')
  const path = `/*/*[local-name()='Signature']/*[local-name()='SignedInfo']`
  const element = draft.getElementsByTagNameNS(DSIG_NS, 'SignedInfo')[0]
  const signedBytes = canonical(element, {
    ancestorNamespaces: findAncestorNs(draft as never, path),
  })
  const signature = sign('sha384', signedBytes, {
    key: spec.pki.signer.privateKey,
    dsaEncoding: 'ieee-p1363',
  })

  return new TextEncoder().encode(withSignature(toBase64(new Uint8Array(signature))))
}

function createDigest(bytes: Uint8Array): string {
  return createHash('sha384').update(bytes).digest('base64')
}

/** Issues a delegated OCSP responder certificate, with or without id-kp-OCSPSigning. */
export function issueOcspResponder(issuer: Issued, withEku = true, serial = 40): Issued {
  const extensions = withEku ? [{ oid: '2.5.29.37', value: ocspSigningExtension() }] : []
  return issue({ commonName: 'Fake OCSP Responder', kind: 'P-384', serial, extensions }, issuer)
}
