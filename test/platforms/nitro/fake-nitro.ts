/**
 * Generated Nitro attestation documents: a P-384 test PKI in the shape of the AWS one (root,
 * intermediate, per-document leaf) and COSE_Sign1 documents signed by the leaf, with every part
 * open to override for negative cases. Test-only: the private keys here protect nothing.
 */
import { sign } from 'node:crypto'
import { Encoder } from 'cbor-x'
import { concatBytes } from '../../../src/core/bytes.js'
import { type Issued, issue } from '../../helpers/fake-pki.js'

/** The instant the generated documents are verified at. */
export const AT = new Date('2030-01-01T00:00:00Z')

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false })

/** Encodes a value as CBOR. Pass integers of 2^32 and above as BigInt, or they become floats. */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value))
}

export interface NitroPki {
  readonly root: Issued
  readonly intermediate: Issued
}

/** Creates a root and an intermediate CA, both P-384. */
export function createNitroPki(rootName = 'Test Nitro Root'): NitroPki {
  const root = issue({ commonName: rootName, isCa: true, kind: 'P-384' })
  const intermediate = issue({ commonName: 'Test Nitro Zone', isCa: true, serial: 2 }, root)
  return { root, intermediate }
}

/** Issues a leaf the way the Nitro hypervisor does for each document. */
export function issueLeaf(
  issuer: Issued,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Issued {
  return issue(
    { commonName: 'i-0123456789abcdef0-enc0123456789abcdef', serial: 3, ...validity },
    issuer,
  )
}

export interface DocumentSpec {
  /** Signs the document, and is the payload's `certificate` unless that is overridden. */
  readonly leaf: Issued
  readonly cabundle: readonly Uint8Array[]
  readonly timestamp?: number
  readonly pcrs?: ReadonlyMap<number, Uint8Array>
  readonly publicKey?: Uint8Array | null
  readonly userData?: Uint8Array | null
  readonly nonce?: Uint8Array | null
  readonly certificate?: Uint8Array
  /** Fields added to the payload, or replacing the standard ones. */
  readonly extraFields?: readonly (readonly [unknown, unknown])[]
  readonly tagged?: boolean
  /** The protected header as CBOR bytes. Default `{1: -35}`. */
  readonly protectedHeader?: Uint8Array
  /** The payload as bytes, replacing the map built from the fields above. */
  readonly payload?: Uint8Array
}

/** PCRs 0 to 4 and 8 with distinct non-zero values, as a production enclave reports them. */
export function productionPcrs(): Map<number, Uint8Array> {
  return new Map([0, 1, 2, 3, 4, 8].map((index) => [index, new Uint8Array(48).fill(index + 1)]))
}

/** PCRs of a debug-mode enclave: 0, 1 and 2 are zero. */
export function debugPcrs(): Map<number, Uint8Array> {
  const pcrs = productionPcrs()
  for (const index of [0, 1, 2]) pcrs.set(index, new Uint8Array(48))
  return pcrs
}

/** Builds the payload map of a document, before encoding. */
export function payloadMap(spec: DocumentSpec): Map<unknown, unknown> {
  const timestamp = spec.timestamp ?? AT.getTime() - 1000
  const fields = new Map<unknown, unknown>([
    ['module_id', 'i-0123456789abcdef0-enc0123456789abcdef'],
    ['digest', 'SHA384'],
    ['timestamp', timestamp >= 2 ** 32 ? BigInt(timestamp) : timestamp],
    ['pcrs', spec.pcrs ?? productionPcrs()],
    ['certificate', spec.certificate ?? spec.leaf.der],
    ['cabundle', [...spec.cabundle]],
    ['public_key', spec.publicKey === undefined ? null : spec.publicKey],
    ['user_data', spec.userData === undefined ? null : spec.userData],
    ['nonce', spec.nonce === undefined ? null : spec.nonce],
  ])
  for (const [key, value] of spec.extraFields ?? []) fields.set(key, value)
  return fields
}

/** Builds the encoded payload of a document. */
export function payloadOf(spec: DocumentSpec): Uint8Array {
  return encodeCbor(payloadMap(spec))
}

/** Encodes the Sig_structure a COSE_Sign1 signature covers (RFC 9052, §4.4). */
export function sigStructureOf(protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedHeader, new Uint8Array(0), payload])
}

/** Builds and signs a COSE_Sign1 document. */
export function buildDocument(spec: DocumentSpec): Uint8Array {
  const protectedHeader = spec.protectedHeader ?? encodeCbor(new Map([[1, -35]]))
  const payload = spec.payload ?? payloadOf(spec)
  const signature = new Uint8Array(
    sign('sha384', sigStructureOf(protectedHeader, payload), {
      key: spec.leaf.privateKey,
      dsaEncoding: 'ieee-p1363',
    }),
  )
  const untagged = encodeCbor([protectedHeader, new Map(), payload, signature])
  return spec.tagged === true ? concatBytes(Uint8Array.of(0xd2), untagged) : untagged
}

/** Creates a PKI, a fresh leaf and a valid document, the starting point of most tests. */
export function validDocument(overrides: Partial<DocumentSpec> = {}): {
  pki: NitroPki
  leaf: Issued
  bytes: Uint8Array
} {
  const pki = createNitroPki()
  const leaf = overrides.leaf ?? issueLeaf(pki.intermediate)
  const bytes = buildDocument({
    leaf,
    cabundle: [pki.root.der, pki.intermediate.der],
    ...overrides,
  })
  return { pki, leaf, bytes }
}
