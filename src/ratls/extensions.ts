/**
 * The X.509 extensions that carry attestation evidence in an RA-TLS certificate, read and written
 * byte for byte as the projects that define them do.
 *
 * - TCG DICE tagged evidence (OID 2.23.133.5.4.9), the interoperable encoding of the Confidential
 *   Computing Consortium's interoperable-ra-tls project: the extension value is CBOR tag 60000
 *   over `[bstr evidence, bstr claims]`, definite lengths. `claims` is a CBOR map of text names to
 *   byte strings, with `"pubkey-hash"` = bstr(CBOR `[hash-alg-id, digest]`) over the certificate's
 *   DER SubjectPublicKeyInfo (alg-id 1 = SHA-256, 7 = SHA-384, 8 = SHA-512, from IANA's Named
 *   Information Hash Algorithm registry) and an optional `"nonce"`.
 * - Gramine's raw SGX quote: the extension value is the quote itself.
 * - The Intel SGX SDK's raw quote (read only), the same quote as its TCG extension carries.
 *
 * Pure: no crypto and no I/O. The digests that bind the key are compared in verify.ts.
 *
 * @module
 */
import { Encoder, Tag } from 'cbor-x'
import { ParseError } from '../core/errors.js'
import type { DigestAlgorithm } from '../crypto/port.js'
import { type Certificate, parseCertificate } from '../pki/certificate.js'
import { decodeStrictCbor } from '../platforms/cose/cbor.js'

/** TCG DICE `tcg-dice-tagged-evidence`. */
export const TCG_DICE_TAGGED_EVIDENCE_OID = '2.23.133.5.4.9'

/**
 * The OID under which Gramine writes its raw SGX quote. Gramine meant 1.2.840.113741.1337.6, but
 * it passes the whole DER of that OID (tag 06 and length 09 included) as the OID's content, so
 * every DER reader decodes 0.6.9.42.840.113741.1337.6. Gramine keeps this encoding on purpose for
 * backward compatibility (the comment on `NON_STANDARD_INTEL_SGX_QUOTE_OID` in Gramine's
 * tools/sgx/ra-tls/ra_tls_common.h, 2024), so confide writes it too: a Gramine verifier searches
 * for exactly these bytes and would not find the intended OID.
 */
export const GRAMINE_QUOTE_OID = '0.6.9.42.840.113741.1337.6'

/** The OID Gramine intended for its raw quote. Read, never written, since Gramine never writes it. */
export const GRAMINE_QUOTE_OID_INTENDED = '1.2.840.113741.1337.6'

/** The Intel SGX SDK's (DCAP RA-TLS sample's) raw quote. Read only. */
export const INTEL_SGX_SDK_QUOTE_OID = '1.2.840.113741.1.13.1'

/**
 * The CBOR tag over TEE evidence that Gramine, the Intel SGX SDK and RATS-TLS write. The
 * interoperable-ra-tls documents leave the registered tag open (`<tag1>`), and these
 * implementations use 60000 in its place.
 */
export const TCG_EVIDENCE_CBOR_TAG = 60000

/** Name of the claim that contains the hash of the certificate's public key. */
export const PUBKEY_HASH_CLAIM = 'pubkey-hash'

/** Name of the claim that contains a verifier's nonce, for freshness before the session. */
export const NONCE_CLAIM = 'nonce'

/** Encoding of the evidence in a certificate extension. */
export type RatlsEncoding = 'tcg-dice' | 'gramine' | 'intel-sgx-sdk'

/** IANA Named Information hash algorithm IDs that the interoperable-ra-tls documents require. */
export const HASH_ALGORITHM_IDS: Readonly<Record<number, DigestAlgorithm>> = {
  1: 'SHA-256',
  7: 'SHA-384',
  8: 'SHA-512',
}

/** A CoSWID `hash-entry`: the hash of the certificate's DER SubjectPublicKeyInfo. */
export interface PublicKeyHash {
  /** IANA Named Information ID: 1, 7 or 8. */
  readonly algorithmId: number
  readonly algorithm: DigestAlgorithm
  readonly digest: Uint8Array
}

/** The decoded claims buffer of TCG DICE tagged evidence. */
export interface TcgClaims {
  /** The exact claims bytes, whose SHA-256 the evidence's report data carries. */
  readonly bytes: Uint8Array
  readonly pubkeyHash: PublicKeyHash
  readonly nonce?: Uint8Array
  /** Every claim, `pubkey-hash` and `nonce` included, by name. */
  readonly all: ReadonlyMap<string, Uint8Array>
}

/** Evidence found in one extension of a certificate. */
export interface RatlsEvidence {
  readonly encoding: RatlsEncoding
  readonly oid: string
  readonly critical: boolean
  /** The evidence bytes as `confide verify` reads them (for SGX, the quote). */
  readonly evidence: Uint8Array
  /** The CBOR tag around TCG DICE evidence. */
  readonly cborTag?: number
  /** Claims of TCG DICE evidence; absent for the raw-quote encodings. */
  readonly claims?: TcgClaims
}

/** Evidence extension OIDs and their encodings, in the order a verifier prefers them. */
const EVIDENCE_OIDS: readonly (readonly [string, RatlsEncoding])[] = [
  [TCG_DICE_TAGGED_EVIDENCE_OID, 'tcg-dice'],
  [GRAMINE_QUOTE_OID, 'gramine'],
  [GRAMINE_QUOTE_OID_INTENDED, 'gramine'],
  [INTEL_SGX_SDK_QUOTE_OID, 'intel-sgx-sdk'],
]

/** Every OID confide reads evidence from. */
export const RATLS_EVIDENCE_OIDS: readonly string[] = EVIDENCE_OIDS.map(([oid]) => oid)

const STRUCTURE = 'TaggedEvidence'
const CLAIMS = 'RatlsClaims'

/**
 * cbor-x writes definite lengths in the shortest form, as the readers of these extensions expect.
 * `tagUint8Array: false` keeps byte strings untagged.
 */
const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false })

function malformed(structure: string, message: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', message, { structure })
}

/**
 * Encodes a claims buffer: `pubkey-hash` first, then `nonce` when given, then any other claims in
 * the order given.
 */
export function encodeTcgClaims(input: {
  readonly pubkeyHash: { readonly algorithmId: number; readonly digest: Uint8Array }
  readonly nonce?: Uint8Array
  readonly other?: ReadonlyMap<string, Uint8Array>
}): Uint8Array {
  const hashEntry = encoder.encode([input.pubkeyHash.algorithmId, input.pubkeyHash.digest])
  const claims = new Map<string, Uint8Array>([[PUBKEY_HASH_CLAIM, hashEntry]])
  if (input.nonce !== undefined) claims.set(NONCE_CLAIM, input.nonce)
  for (const [name, value] of input.other ?? []) {
    if (!claims.has(name)) claims.set(name, value)
  }

  return new Uint8Array(encoder.encode(claims))
}

/** Encodes the value of a TCG DICE tagged evidence extension: tag 60000 over `[evidence, claims]`. */
export function encodeTcgEvidence(evidence: Uint8Array, claims: Uint8Array): Uint8Array {
  return new Uint8Array(encoder.encode(new Tag([evidence, claims], TCG_EVIDENCE_CBOR_TAG)))
}

function decodePubkeyHash(bytes: Uint8Array): PublicKeyHash {
  const entry = decodeStrictCbor(bytes, CLAIMS)
  if (!Array.isArray(entry) || entry.length !== 2) {
    throw malformed(CLAIMS, 'pubkey-hash is not a CBOR array [hash-alg-id, hash-value]')
  }
  const [algorithmId, digest] = entry as [unknown, unknown]
  if (typeof algorithmId !== 'number' || !(digest instanceof Uint8Array)) {
    throw malformed(CLAIMS, 'pubkey-hash must hold an unsigned integer and a byte string')
  }
  const algorithm = HASH_ALGORITHM_IDS[algorithmId]
  if (algorithm === undefined) {
    const message = `pubkey-hash uses hash algorithm ${algorithmId}; confide reads 1 (SHA-256), 7 (SHA-384) and 8 (SHA-512)`
    throw malformed(CLAIMS, message)
  }

  return { algorithmId, algorithm, digest: digest.slice() }
}

/**
 * Decodes a claims buffer: a map of text names to byte strings that must hold `pubkey-hash`.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` or `ERR_PARSE_TRUNCATED`
 */
export function decodeTcgClaims(bytes: Uint8Array): TcgClaims {
  const map = decodeStrictCbor(bytes, CLAIMS)
  if (!(map instanceof Map)) throw malformed(CLAIMS, 'the claims buffer is not a CBOR map')
  const all = new Map<string, Uint8Array>()
  for (const [name, value] of map) {
    if (typeof name !== 'string' || !(value instanceof Uint8Array)) {
      throw malformed(CLAIMS, 'each claim must have a text name and a byte-string value')
    }
    all.set(name, value.slice())
  }
  const hashEntry = all.get(PUBKEY_HASH_CLAIM)
  if (hashEntry === undefined) throw malformed(CLAIMS, 'the claims have no pubkey-hash')
  const nonce = all.get(NONCE_CLAIM)

  return {
    bytes: bytes.slice(),
    pubkeyHash: decodePubkeyHash(hashEntry),
    ...(nonce === undefined ? {} : { nonce }),
    all,
  }
}

/**
 * Decodes the value of a TCG DICE tagged evidence extension.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` or `ERR_PARSE_TRUNCATED`, also for a tag other than
 *   60000, since no other evidence tag is in use.
 */
export function decodeTcgEvidence(value: Uint8Array): {
  readonly evidence: Uint8Array
  readonly claims: TcgClaims
  readonly cborTag: number
} {
  const tagged = decodeStrictCbor(value, STRUCTURE, TCG_EVIDENCE_CBOR_TAG)
  if (!(tagged instanceof Tag) || tagged.tag !== TCG_EVIDENCE_CBOR_TAG) {
    throw malformed(STRUCTURE, `tagged evidence must carry CBOR tag ${TCG_EVIDENCE_CBOR_TAG}`)
  }
  const body = tagged.value as unknown
  if (!Array.isArray(body) || body.length !== 2) {
    throw malformed(STRUCTURE, 'tagged evidence must be an array [evidence, claims]')
  }
  const [evidence, claims] = body as [unknown, unknown]
  if (!(evidence instanceof Uint8Array) || !(claims instanceof Uint8Array)) {
    throw malformed(STRUCTURE, 'tagged evidence must hold two byte strings')
  }

  return {
    evidence: evidence.slice(),
    claims: decodeTcgClaims(claims),
    cborTag: TCG_EVIDENCE_CBOR_TAG,
  }
}

/**
 * Reads every evidence extension of a certificate, in the order a verifier prefers them: TCG
 * DICE first, then Gramine's, then the Intel SGX SDK's.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` when an evidence extension is present but malformed,
 *   or when an evidence OID appears more than once: RFC 5280 section 4.2 allows one instance of
 *   each extension in a certificate.
 */
export function findRatlsEvidence(certificate: Certificate): RatlsEvidence[] {
  const found: RatlsEvidence[] = []
  for (const [oid, encoding] of EVIDENCE_OIDS) {
    const matches = certificate.extensions.filter((e) => e.extnID === oid)
    if (matches.length > 1) {
      const message = `the certificate has ${matches.length} extensions with OID ${oid}, but RFC 5280 allows one instance of each extension`
      throw malformed('Extensions', message)
    }
    const [extension] = matches
    if (extension === undefined) continue
    const value = new Uint8Array(extension.extnValue.buffer)
    const critical = extension.critical === true
    if (encoding === 'tcg-dice') {
      found.push({ encoding, oid, critical, ...decodeTcgEvidence(value) })
    } else {
      found.push({ encoding, oid, critical, evidence: value.slice() })
    }
  }

  return found
}

/**
 * Decodes a DER certificate and returns the evidence of its preferred evidence extension.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE` for bytes that are not a certificate,
 *   `ERR_PARSE_UNKNOWN_FORMAT` when no extension carries evidence, `ERR_PARSE_MALFORMED` for a
 *   malformed or repeated evidence extension.
 */
export function readRatlsCertificate(der: Uint8Array): RatlsEvidence {
  const [first] = findRatlsEvidence(parseCertificate(der))
  if (first === undefined) {
    const message = `the certificate has no RA-TLS evidence extension (looked for ${RATLS_EVIDENCE_OIDS.join(', ')})`
    throw new ParseError('ERR_PARSE_UNKNOWN_FORMAT', message, { structure: 'Certificate' })
  }

  return first
}
