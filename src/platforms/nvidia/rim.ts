/**
 * NVIDIA Reference Integrity Manifests (RIMs): ISO/IEC 19770-2 SWID tags that list the expected
 * value of each GPU measurement, signed with an enveloped XML signature. This module decodes a
 * RIM and prepares the exact bytes its signature covers, without checking anything (see
 * rim-signature.ts). Pure: no crypto, no I/O.
 *
 * Only the signature profile NVIDIA uses is accepted, and anything else fails closed: one
 * `ds:Signature` as a child of the root, one `Reference` with `URI=""`, the enveloped-signature
 * transform optionally followed by C14N, and ECDSA with SHA-256, SHA-384 or SHA-512. The signed
 * bytes come from xml-crypto's canonicalizer over the parsed document, never from re-serializing
 * it.
 *
 * NVIDIA signs with C14N 1.1 (`http://www.w3.org/2006/12/xml-c14n11`), which xml-crypto lacks.
 * Over a whole document, and over a subset whose ancestors carry no `xml:` attributes, C14N 1.1
 * produces what C14N 1.0 does, so the C14N 1.0 canonicalizer serves for both. A RIM whose root or
 * signature carries an `xml:` attribute is rejected because that equality no longer holds.
 *
 * @see W3C XML Signature Syntax and Processing (enveloped signature, Reference, SignedInfo)
 * @see NVIDIA nvtrust, local_gpu_verifier rim/__init__.py (which elements NVIDIA's verifier reads)
 * @module
 */
import { DOMParser, type Document, type Element, onWarningStopParsing } from '@xmldom/xmldom'
import { C14nCanonicalization, findAncestorNs } from 'xml-crypto'
import { fromBase64 } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import type { DigestAlgorithm } from '../../crypto/port.js'

const STRUCTURE = 'NvidiaRim'

const SWID_NS = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd'
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'
/** Namespace of the `Hash0`, `Hash1`, ... attributes of a measurement. */
const SHA384_NS = 'http://www.w3.org/2001/04/xmlenc#sha384'
const XML_NS = 'http://www.w3.org/XML/1998/namespace'

const ELEMENT = 1
const TEXT = 3
const PROCESSING_INSTRUCTION = 7
const COMMENT = 8

const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'
const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'
const C14N_11 = 'http://www.w3.org/2006/12/xml-c14n11'
const CANONICALIZATIONS = new Set([C14N_10, C14N_11])

/** Signature methods accepted, by URI, with the digest each signs. */
const SIGNATURE_METHODS: Readonly<Record<string, DigestAlgorithm>> = {
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': 'SHA-256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': 'SHA-384',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': 'SHA-512',
}

/** Digest methods accepted, by URI. */
const DIGEST_METHODS: Readonly<Record<string, DigestAlgorithm>> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'SHA-256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'SHA-384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'SHA-512',
}

/** Largest RIM accepted. NVIDIA's GPU RIMs are about 20 KiB. */
export const MAX_RIM_SIZE = 1024 * 1024

/** One measurement of a RIM: the values a block may have. */
export interface RimMeasurement {
  /** The RIM's index, from 0. It names the report's measurement block `index + 1`. */
  readonly index: number
  /** Whether the block must be compared. Inactive entries contain placeholders. */
  readonly active: boolean
  readonly name: string
  /** Size of each value in bytes. */
  readonly size: number
  /** The accepted values (`Hash0`, `Hash1`, ...). */
  readonly values: readonly Uint8Array[]
}

/** The enveloped XML signature of a RIM, with the canonical bytes it covers. */
export interface RimSignature {
  /** Digest that SignatureMethod signs with (ECDSA). */
  readonly signatureHash: DigestAlgorithm
  readonly digestAlgorithm: DigestAlgorithm
  readonly digestValue: Uint8Array
  /** ECDSA r‖s. */
  readonly signatureValue: Uint8Array
  /** The canonical SignedInfo, which SignatureValue signs. */
  readonly signedInfo: Uint8Array
  /** The canonical document without its signature, which DigestValue digests. */
  readonly reference: Uint8Array
  /** DER certificates of KeyInfo, signer first. */
  readonly certificates: readonly Uint8Array[]
}

/** A decoded RIM. */
export interface NvidiaRim {
  readonly tagId: string
  /** `Meta` `colloquialVersion`: the driver version, or the VBIOS version in dotted form. */
  readonly version: string
  readonly product: string | undefined
  readonly edition: string | undefined
  readonly measurements: readonly RimMeasurement[]
  readonly signature: RimSignature
}

function malformed(message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_COLLATERAL', `RIM: ${message}`, {
    structure: STRUCTURE,
    ...(field === undefined ? {} : { field }),
  })
}

function childElements(parent: Element, namespace: string, localName: string): Element[] {
  const found: Element[] = []
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    const element = node as Element
    if (
      node.nodeType === ELEMENT &&
      element.namespaceURI === namespace &&
      element.localName === localName
    ) {
      found.push(element)
    }
  }
  return found
}

function onlyChild(parent: Element, namespace: string, localName: string): Element {
  const [first, second] = childElements(parent, namespace, localName)
  if (first === undefined) throw malformed(`${parent.localName} has no ${localName}`, localName)
  if (second !== undefined)
    throw malformed(`${parent.localName} has more than one ${localName}`, localName)

  return first
}

function requiredAttribute(element: Element, name: string): string {
  if (!element.hasAttribute(name)) throw malformed(`${element.localName} has no ${name}`, name)
  return element.getAttribute(name) ?? ''
}

function integerAttribute(element: Element, name: string): number {
  const text = requiredAttribute(element, name)
  if (!/^\d{1,6}$/.test(text)) throw malformed(`${name} "${text}" is not a small integer`, name)

  return Number(text)
}

function parseDocument(text: string): Document {
  let document: Document
  try {
    document = new DOMParser({ onError: onWarningStopParsing }).parseFromString(text, 'text/xml')
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ParseError(
      'ERR_PARSE_COLLATERAL',
      `RIM: not well-formed XML: ${reason}`,
      { structure: STRUCTURE },
      { cause: error },
    )
  }
  if (document.doctype !== null) throw malformed('a document type declaration is not allowed')
  const root = document.documentElement
  if (root === null || root.namespaceURI !== SWID_NS || root.localName !== 'SoftwareIdentity') {
    throw malformed('the root element is not a SWID SoftwareIdentity')
  }
  for (let node = document.firstChild; node !== null; node = node.nextSibling) {
    // xmldom keeps the XML declaration as a processing instruction named xml, and whitespace
    // around the root as text. Neither is part of the document that C14N signs.
    const declaration = node.nodeType === PROCESSING_INSTRUCTION && node.nodeName === 'xml'
    const whitespace = node.nodeType === TEXT && /^\s*$/.test(node.nodeValue ?? '')
    if (node !== root && node.nodeType !== COMMENT && !declaration && !whitespace) {
      throw malformed('only the XML declaration, comments and whitespace may surround the root')
    }
  }

  return document
}

function readMeasurement(resource: Element): RimMeasurement {
  if (resource.getAttribute('type') !== 'Measurement') {
    throw malformed('a Payload Resource is not of type Measurement', 'type')
  }
  const active = requiredAttribute(resource, 'active')
  if (active !== 'True' && active !== 'False') {
    throw malformed(`active "${active}" is neither True nor False`, 'active')
  }
  const index = integerAttribute(resource, 'index')
  const size = integerAttribute(resource, 'size')
  const alternatives = integerAttribute(resource, 'alternatives')
  if (alternatives === 0)
    throw malformed(`measurement ${index} has no alternatives`, 'alternatives')
  const values: Uint8Array[] = []
  for (let i = 0; i < alternatives; i++) {
    const hex = resource.getAttributeNS(SHA384_NS, `Hash${i}`)
    if (hex === null || hex.length !== size * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
      throw malformed(`measurement ${index} has no ${size}-byte hex Hash${i}`, `Hash${i}`)
    }
    values.push(
      Uint8Array.from({ length: size }, (_, j) => Number.parseInt(hex.slice(j * 2, j * 2 + 2), 16)),
    )
  }

  return {
    index,
    active: active === 'True',
    name: resource.getAttribute('name') ?? '',
    size,
    values,
  }
}

function readMeasurements(root: Element): RimMeasurement[] {
  const payload = onlyChild(root, SWID_NS, 'Payload')
  const measurements: RimMeasurement[] = []
  const seen = new Set<number>()
  for (let node = payload.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType !== ELEMENT) continue
    const element = node as Element
    if (element.namespaceURI !== SWID_NS || element.localName !== 'Resource') {
      throw malformed(`Payload contains a ${element.tagName} element`, element.tagName)
    }
    const measurement = readMeasurement(element)
    if (seen.has(measurement.index)) {
      throw malformed(`measurement index ${measurement.index} appears twice`, 'index')
    }
    seen.add(measurement.index)
    measurements.push(measurement)
  }
  if (measurements.length === 0) throw malformed('Payload lists no measurements', 'Payload')

  return measurements
}

function algorithmOf(element: Element): string {
  return requiredAttribute(element, 'Algorithm')
}

function base64Text(element: Element, field: string): Uint8Array {
  const text = (element.textContent ?? '').replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw malformed(`${field} is not base64`, field)
  }

  return fromBase64(text)
}

/** Reads Reference: URI "", the enveloped transform, optionally C14N, and a known digest. */
function readReference(signedInfo: Element): {
  digestAlgorithm: DigestAlgorithm
  digestValue: Uint8Array
} {
  const reference = onlyChild(signedInfo, DSIG_NS, 'Reference')
  if (reference.getAttribute('URI') !== '') {
    throw malformed('the Reference does not cover the whole document (URI="")', 'URI')
  }
  const transforms = childElements(
    onlyChild(reference, DSIG_NS, 'Transforms'),
    DSIG_NS,
    'Transform',
  )
  const [first, second, third] = transforms.map(algorithmOf)
  const supported =
    first === ENVELOPED &&
    (second === undefined || CANONICALIZATIONS.has(second)) &&
    third === undefined
  if (!supported) {
    throw malformed(
      `transforms ${transforms.map(algorithmOf).join(', ')} are not supported`,
      'Transform',
    )
  }
  const digestMethod = algorithmOf(onlyChild(reference, DSIG_NS, 'DigestMethod'))
  const digestAlgorithm = DIGEST_METHODS[digestMethod]
  if (digestAlgorithm === undefined) {
    throw malformed(`digest method ${digestMethod} is not supported`, 'DigestMethod')
  }

  return {
    digestAlgorithm,
    digestValue: base64Text(onlyChild(reference, DSIG_NS, 'DigestValue'), 'DigestValue'),
  }
}

function readCertificates(signature: Element): Uint8Array[] {
  const keyInfo = onlyChild(signature, DSIG_NS, 'KeyInfo')
  const data = onlyChild(keyInfo, DSIG_NS, 'X509Data')
  const certificates = childElements(data, DSIG_NS, 'X509Certificate').map((element) =>
    base64Text(element, 'X509Certificate'),
  )
  if (certificates.length === 0)
    throw malformed('KeyInfo contains no certificate', 'X509Certificate')

  return certificates
}

function rejectXmlAttributes(element: Element): void {
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i)
    if (attribute?.namespaceURI === XML_NS) {
      throw malformed(
        `${element.localName} carries ${attribute.name}, which C14N 1.0 and 1.1 treat differently`,
      )
    }
  }
}

const utf8 = new TextEncoder()

/** Canonicalizes the document with its signature removed, from a second parse of the text. */
function canonicalReference(text: string): Uint8Array {
  const copy = parseDocument(text)
  const root = copy.documentElement as Element
  root.removeChild(onlyChild(root, DSIG_NS, 'Signature'))

  return utf8.encode(new C14nCanonicalization().process(root, {}))
}

function canonicalSignedInfo(document: Document, signedInfo: Element): Uint8Array {
  const path = `/*/*[local-name()='Signature' and namespace-uri()='${DSIG_NS}']/*[local-name()='SignedInfo' and namespace-uri()='${DSIG_NS}']`
  const ancestorNamespaces = findAncestorNs(document, path)

  return utf8.encode(new C14nCanonicalization().process(signedInfo, { ancestorNamespaces }))
}

function readSignature(document: Document, text: string): RimSignature {
  const root = document.documentElement as Element
  if (document.getElementsByTagNameNS(DSIG_NS, 'Signature').length !== 1) {
    throw malformed('the document must contain exactly one ds:Signature', 'Signature')
  }
  const signature = onlyChild(root, DSIG_NS, 'Signature')
  rejectXmlAttributes(root)
  rejectXmlAttributes(signature)
  const signedInfo = onlyChild(signature, DSIG_NS, 'SignedInfo')
  const canonicalization = algorithmOf(onlyChild(signedInfo, DSIG_NS, 'CanonicalizationMethod'))
  if (!CANONICALIZATIONS.has(canonicalization)) {
    throw malformed(
      `canonicalization ${canonicalization} is not supported`,
      'CanonicalizationMethod',
    )
  }
  const method = algorithmOf(onlyChild(signedInfo, DSIG_NS, 'SignatureMethod'))
  const signatureHash = SIGNATURE_METHODS[method]
  if (signatureHash === undefined) {
    throw malformed(`signature method ${method} is not supported`, 'SignatureMethod')
  }

  return {
    signatureHash,
    ...readReference(signedInfo),
    signatureValue: base64Text(onlyChild(signature, DSIG_NS, 'SignatureValue'), 'SignatureValue'),
    signedInfo: canonicalSignedInfo(document, signedInfo),
    reference: canonicalReference(text),
    certificates: readCertificates(signature),
  }
}

/**
 * Decodes a RIM: its Meta (tagId, colloquialVersion, product, edition), every measurement of its
 * Payload, and its signature with the canonical bytes that the signature and digest cover.
 * Measurement values must be hex of `size` bytes and indexes must be unique. Nothing is verified.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for input over 1 MiB, or `ERR_PARSE_COLLATERAL` for
 *   XML that is not well-formed, declares a document type, is not a SWID tag, or is signed in a
 *   way outside the profile described above.
 */
export function parseNvidiaRim(bytes: Uint8Array): NvidiaRim {
  if (bytes.length > MAX_RIM_SIZE) {
    throw new ParseError(
      'ERR_PARSE_OVERSIZED',
      `RIM is ${bytes.length} bytes, more than ${MAX_RIM_SIZE}`,
      {
        structure: STRUCTURE,
      },
    )
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (error) {
    throw new ParseError(
      'ERR_PARSE_COLLATERAL',
      'RIM: not UTF-8 text',
      { structure: STRUCTURE },
      { cause: error },
    )
  }
  const document = parseDocument(text)
  const root = document.documentElement as Element
  const meta = onlyChild(root, SWID_NS, 'Meta')
  const version = requiredAttribute(meta, 'colloquialVersion')
  if (version === '') throw malformed('colloquialVersion is empty', 'colloquialVersion')

  return {
    tagId: root.getAttribute('tagId') ?? '',
    version,
    product: meta.getAttribute('product') ?? undefined,
    edition: meta.getAttribute('edition') ?? undefined,
    measurements: readMeasurements(root),
    signature: readSignature(document, text),
  }
}
