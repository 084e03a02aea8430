/**
 * Generated TPM 2.0 quotes: attestation keys (RSA or ECC), TPMS_ATTEST structures marshalled
 * field by field, TPMT_SIGNATUREs of each scheme, TPM2B_PUBLIC areas and Trustee's JSON form,
 * every part open to override for negative cases. Test-only: the private keys protect nothing.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { concatBytes, toBase64, toHex } from '../../src/core/bytes.js'

export type AkKind = 'rsa' | 'p256' | 'p384'

/** An attestation key with its public forms. */
export interface FakeAk {
  readonly kind: AkKind
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array
}

const TPM_ALG = {
  RSA: 0x0001,
  SHA256: 0x000b,
  SHA384: 0x000c,
  NULL: 0x0010,
  RSASSA: 0x0014,
  RSAPSS: 0x0016,
  ECDSA: 0x0018,
  ECC: 0x0023,
}
/** fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign: an AK's attributes. */
export const AK_ATTRIBUTES = 0x00050072

/** Creates an attestation key. */
export function createAk(kind: AkKind = 'rsa'): FakeAk {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: kind === 'p256' ? 'prime256v1' : 'secp384r1' })
  const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }))
  return { kind, privateKey: pair.privateKey, publicKey: pair.publicKey, spki }
}

export function u16(value: number): Uint8Array {
  return Uint8Array.of(value >> 8, value & 0xff)
}

export function u32(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff)
}

export function u64(value: bigint): Uint8Array {
  return concatBytes(u32(Number(value >> 32n)), u32(Number(value & 0xffffffffn)))
}

/** Marshals bytes as a TPM2B: a u16 size and the bytes. */
export function tpm2b(bytes: Uint8Array): Uint8Array {
  return concatBytes(u16(bytes.length), bytes)
}

/** Builds the `pcrSelect` bitmap of a list of PCR indexes. */
export function selectBitmap(pcrs: readonly number[], size = 3): Uint8Array {
  const bitmap = new Uint8Array(size)
  for (const index of pcrs) bitmap[index >> 3]! |= 1 << (index & 7)
  return bitmap
}

/** PCR values of one SHA-256 bank: PCR i filled with byte i+1. */
export function pcrValues(count = 24, size = 32): Uint8Array[] {
  return Array.from({ length: count }, (_, index) => new Uint8Array(size).fill(index + 1))
}

function sha(hash: 'sha256' | 'sha384', data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash).update(data).digest())
}

/** Fields of a TPMS_ATTEST. Anything left out has a sensible value. */
export interface AttestSpec {
  readonly magic?: number
  readonly type?: number
  readonly qualifiedSigner?: Uint8Array
  readonly extraData?: Uint8Array
  readonly clock?: bigint
  readonly resetCount?: number
  readonly restartCount?: number
  readonly safe?: number
  readonly firmwareVersion?: bigint
  /** Banks and their selected PCRs. Default: SHA-256 PCRs 0 to 23. */
  readonly banks?: readonly {
    readonly hash: number
    readonly pcrs: readonly number[]
    readonly size?: number
  }[]
  /** The PCR values the digest is made of, in selection order. Default: `pcrValues()` of the selection. */
  readonly pcrs?: readonly Uint8Array[]
  /** Replaces the digest computed from `pcrs`. */
  readonly pcrDigest?: Uint8Array
  /** The hash of the digest. Default: SHA-256. */
  readonly digestHash?: 'sha256' | 'sha384'
  /** Bytes appended after the structure. */
  readonly trailing?: Uint8Array
}

export const DEFAULT_NONCE = new Uint8Array(32).map((_, i) => 0xa0 + i)
export const ALL_PCRS = Array.from({ length: 24 }, (_, i) => i)

/** Lists the PCR values a spec digests, in selection order. */
export function selectedValues(spec: AttestSpec): Uint8Array[] {
  const banks = spec.banks ?? [{ hash: TPM_ALG.SHA256, pcrs: ALL_PCRS }]
  const all = pcrValues()
  return spec.pcrs ? [...spec.pcrs] : banks.flatMap((bank) => bank.pcrs.map((index) => all[index]!))
}

/** Marshals a TPMS_ATTEST of a quote. */
export function writeAttest(spec: AttestSpec = {}): Uint8Array {
  const banks = spec.banks ?? [{ hash: TPM_ALG.SHA256, pcrs: ALL_PCRS }]
  const digest =
    spec.pcrDigest ?? sha(spec.digestHash ?? 'sha256', concatBytes(...selectedValues(spec)))
  const selection = concatBytes(
    u32(banks.length),
    ...banks.map((bank) => {
      const bitmap = selectBitmap(bank.pcrs, bank.size ?? 3)
      return concatBytes(u16(bank.hash), Uint8Array.of(bitmap.length), bitmap)
    }),
  )
  return concatBytes(
    u32(spec.magic ?? 0xff544347),
    u16(spec.type ?? 0x8018),
    tpm2b(spec.qualifiedSigner ?? concatBytes(u16(TPM_ALG.SHA256), new Uint8Array(32).fill(0x5a))),
    tpm2b(spec.extraData ?? DEFAULT_NONCE),
    u64(spec.clock ?? 0x1234_5678n),
    u32(spec.resetCount ?? 3),
    u32(spec.restartCount ?? 1),
    Uint8Array.of(spec.safe ?? 1),
    u64(spec.firmwareVersion ?? 0x2019_1023_0016_3636n),
    selection,
    tpm2b(digest),
    spec.trailing ?? new Uint8Array(0),
  )
}

export type SignatureScheme = 'rsassa' | 'rsapss' | 'rsapss-max-salt' | 'ecdsa'

/** Signs a message as the TPM does and marshals the TPMT_SIGNATURE. */
export function signAttest(
  message: Uint8Array,
  ak: FakeAk,
  scheme: SignatureScheme = ak.kind === 'rsa' ? 'rsassa' : 'ecdsa',
  hash: 'sha256' | 'sha384' = 'sha256',
): Uint8Array {
  const hashAlg = hash === 'sha256' ? TPM_ALG.SHA256 : TPM_ALG.SHA384
  if (scheme === 'ecdsa') {
    const size = ak.kind === 'p256' ? 32 : 48
    const raw = sign(hash, message, { key: ak.privateKey, dsaEncoding: 'ieee-p1363' })
    const r = new Uint8Array(raw.subarray(0, size))
    const s = new Uint8Array(raw.subarray(size))
    return concatBytes(u16(TPM_ALG.ECDSA), u16(hashAlg), tpm2b(r), tpm2b(s))
  }
  if (scheme === 'rsassa') {
    const sig = new Uint8Array(sign(hash, message, ak.privateKey))
    return concatBytes(u16(TPM_ALG.RSASSA), u16(hashAlg), tpm2b(sig))
  }
  const hashSize = hash === 'sha256' ? 32 : 48
  // The largest salt of a 2048-bit key: modulus bytes minus the digest minus two.
  const saltLength = scheme === 'rsapss' ? hashSize : 256 - hashSize - 2
  const sig = new Uint8Array(sign(hash, message, { key: ak.privateKey, padding: 6, saltLength }))
  return concatBytes(u16(TPM_ALG.RSAPSS), u16(hashAlg), tpm2b(sig))
}

function jwkBytes(text: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(text ?? '', 'base64url'))
}

/** Marshals the AK as a TPM2B_PUBLIC with the given object attributes. */
export function writeTpm2bPublic(ak: FakeAk, attributes = AK_ATTRIBUTES): Uint8Array {
  const jwk = ak.publicKey.export({ format: 'jwk' })
  const header = (type: number) =>
    concatBytes(u16(type), u16(TPM_ALG.SHA256), u32(attributes), tpm2b(new Uint8Array(0)))
  if (ak.kind === 'rsa') {
    const parameters = concatBytes(
      u16(TPM_ALG.NULL),
      u16(TPM_ALG.RSASSA),
      u16(TPM_ALG.SHA256),
      u16(2048),
      u32(0),
    )
    return tpm2b(concatBytes(header(TPM_ALG.RSA), parameters, tpm2b(jwkBytes(jwk.n))))
  }
  const curve = ak.kind === 'p256' ? 0x0003 : 0x0004
  const parameters = concatBytes(
    u16(TPM_ALG.NULL),
    u16(TPM_ALG.ECDSA),
    u16(TPM_ALG.SHA256),
    u16(curve),
    u16(TPM_ALG.NULL),
  )
  return tpm2b(
    concatBytes(header(TPM_ALG.ECC), parameters, tpm2b(jwkBytes(jwk.x)), tpm2b(jwkBytes(jwk.y))),
  )
}

/** A quote as its parts. */
export interface FakeQuote {
  readonly ak: FakeAk
  readonly attest: Uint8Array
  readonly signature: Uint8Array
  /** The PCR values of the selection, in selection order. */
  readonly pcrs: readonly Uint8Array[]
}

/** Creates a signed quote. */
export function createQuote(
  spec: AttestSpec = {},
  ak: FakeAk = createAk(),
  scheme?: SignatureScheme,
): FakeQuote {
  const attest = writeAttest(spec)
  return { ak, attest, signature: signAttest(attest, ak, scheme), pcrs: selectedValues(spec) }
}

/** Writes a quote in Trustee's JSON form, with `edit` applied to the object first. */
export function trusteeJson(
  quote: FakeQuote,
  edit?: (json: Record<string, unknown>) => void,
): Uint8Array {
  const json: Record<string, unknown> = {
    ak_public: toBase64(quote.ak.spki),
    tpm_quote: {
      message: toBase64(quote.attest),
      pcrs: quote.pcrs.map((pcr) => toHex(pcr)),
      signature: toBase64(quote.signature),
    },
  }
  edit?.(json)
  return new TextEncoder().encode(JSON.stringify(json))
}

/** Writes PCR values as a `pcrs_sha256.json` collateral file (an array indexed by PCR). */
export function pcrFile(values: readonly Uint8Array[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(values.map((value) => toHex(value))))
}
