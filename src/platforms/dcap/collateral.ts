/**
 * The collateral a DCAP quote needs, where it comes from, and how it is decoded once and
 * remembered by content.
 *
 * @module
 */
import { decodePem, toHex } from '../../core/bytes.js'
import type { VerificationCache } from '../../core/cache.js'
import type { CollateralBundle } from '../../core/collateral-bundle.js'
import { ParseError } from '../../core/errors.js'
import type { CryptoPort } from '../../crypto/port.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { type Crl, parseCrl } from '../../pki/crl.js'
import { parseQeIdentity, type SignedQeIdentity } from './qe-identity.js'
import { parseTcbInfo, type SignedTcbInfo } from './tcb-info.js'

/** Collateral files in Intel PCS form, as raw bytes. */
export interface DcapCollateral {
  /** `{"tcbInfo":...,"signature":...}` for the platform's FMSPC. */
  readonly tcbInfo?: Uint8Array
  /** PEM chain of the TCB signing certificate, leaf first (PCS header TCB-Info-Issuer-Chain). */
  readonly tcbInfoIssuerChain?: Uint8Array
  /** `{"enclaveIdentity":...,"signature":...}` of the QE (SGX) or TD QE (TDX). */
  readonly qeIdentity?: Uint8Array
  readonly qeIdentityIssuerChain?: Uint8Array
  /** PCK CRLs of the Processor and/or Platform CA; the one whose issuer issued the PCK applies. */
  readonly pckCrls: readonly Uint8Array[]
  /** CRL of the Intel SGX Root CA. */
  readonly rootCaCrl?: Uint8Array
}

/** File names of a collateral directory, as laid out by `confide collateral fetch`. */
export const COLLATERAL_FILES = {
  tcbInfo: 'tcb_info.json',
  tcbInfoIssuerChain: 'tcb_info_issuer_chain.pem',
  qeIdentity: 'qe_identity.json',
  qeIdentityIssuerChain: 'qe_identity_issuer_chain.pem',
  rootCaCrl: 'root_ca_crl.der',
} as const

const PCK_CRL_FILE = /^pck_crl(?!.*issuer_chain).*\.(der|pem|crl|hex)$/

/** Reads DCAP collateral from a bundle laid out as a collateral directory. */
export function collateralFromBundle(bundle: CollateralBundle): DcapCollateral {
  const file = (name: string) => bundle.get(name)
  const optional = <K extends string>(key: K, bytes: Uint8Array | undefined) =>
    (bytes === undefined ? {} : { [key]: bytes }) as Partial<Record<K, Uint8Array>>
  return {
    ...optional('tcbInfo', file(COLLATERAL_FILES.tcbInfo)),
    ...optional('tcbInfoIssuerChain', file(COLLATERAL_FILES.tcbInfoIssuerChain)),
    ...optional('qeIdentity', file(COLLATERAL_FILES.qeIdentity)),
    ...optional('qeIdentityIssuerChain', file(COLLATERAL_FILES.qeIdentityIssuerChain)),
    ...optional('rootCaCrl', file(COLLATERAL_FILES.rootCaCrl)),
    pckCrls: bundle
      .find(PCK_CRL_FILE)
      .map((path) => bundle.get(path))
      .filter((bytes): bytes is Uint8Array => bytes !== undefined),
  }
}

/**
 * Decodes the PEM issuer-chain header of a PCS response (`SGX-TCB-Info-Issuer-Chain`,
 * `SGX-PCK-CRL-Issuer-Chain`, ...), which PCS sends URL-encoded.
 */
export function decodeIssuerChainHeader(value: string): Uint8Array {
  return new TextEncoder().encode(decodeURIComponent(value))
}

/** Collateral after decoding: parsed documents, certificates and CRLs. */
export interface ParsedCollateral {
  readonly tcbInfo?: SignedTcbInfo
  readonly tcbInfoChain?: readonly Certificate[]
  readonly qeIdentity?: SignedQeIdentity
  readonly qeIdentityChain?: readonly Certificate[]
  readonly pckCrls: readonly Crl[]
  readonly rootCaCrl?: Crl
}

/** Decodes a PEM certificate chain, leaf first. */
export function parseCertificateChain(pem: Uint8Array, structure: string): Certificate[] {
  const text = new TextDecoder().decode(pem)
  const blocks = decodePem(text).filter((block) => block.label === 'CERTIFICATE')
  if (blocks.length === 0) {
    throw new ParseError('ERR_PARSE_CERTIFICATE', `${structure} contains no PEM certificate`, {
      structure,
    })
  }
  return blocks.map((block) => parseCertificate(block.der))
}

async function contentKey(prefix: string, bytes: Uint8Array, crypto: CryptoPort): Promise<string> {
  return `${prefix}:${toHex(await crypto.digest('SHA-256', bytes))}`
}

/** Decodes one collateral item once per content and remembers it. */
/** Wraps a decoder so that its parse errors name the collateral file they are about. */
function naming<T>(file: string, decode: (bytes: Uint8Array) => T): (bytes: Uint8Array) => T {
  return (bytes) => {
    try {
      return decode(bytes)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      const location = {
        structure: error.structure,
        ...(error.field === undefined ? {} : { field: error.field }),
        ...(error.offset === undefined ? {} : { offset: error.offset }),
      }
      throw new ParseError(error.code, `${file}: ${error.message}`, location, { cause: error })
    }
  }
}

async function decodeOnce<T>(
  prefix: string,
  bytes: Uint8Array,
  decode: (bytes: Uint8Array) => T,
  crypto: CryptoPort,
  cache: VerificationCache,
): Promise<T> {
  return cache.memo(await contentKey(prefix, bytes, crypto), () => decode(bytes))
}

/**
 * Decodes all collateral, remembering each item by content so that the next verification with the
 * same collateral reuses the decoded objects (and the signature checks tied to them).
 *
 * @throws ParseError when an item cannot be decoded: a CRL (`ERR_PARSE_CRL`), a document
 *   (`ERR_PARSE_COLLATERAL`) or a certificate (`ERR_PARSE_CERTIFICATE`).
 */
export async function decodeCollateral(
  collateral: DcapCollateral,
  crypto: CryptoPort,
  cache: VerificationCache,
): Promise<ParsedCollateral> {
  const once = <T>(
    prefix: string,
    bytes: Uint8Array | undefined,
    decode: (bytes: Uint8Array) => T,
  ) =>
    bytes === undefined
      ? Promise.resolve(undefined)
      : decodeOnce(prefix, bytes, decode, crypto, cache)

  const [tcbInfo, tcbInfoChain, qeIdentity, qeIdentityChain, rootCaCrl] = await Promise.all([
    once('dcap:tcb-info', collateral.tcbInfo, naming(COLLATERAL_FILES.tcbInfo, parseTcbInfo)),
    once(
      'dcap:chain',
      collateral.tcbInfoIssuerChain,
      naming(COLLATERAL_FILES.tcbInfoIssuerChain, (b) => parseCertificateChain(b, 'IssuerChain')),
    ),
    once(
      'dcap:qe-identity',
      collateral.qeIdentity,
      naming(COLLATERAL_FILES.qeIdentity, parseQeIdentity),
    ),
    once(
      'dcap:chain',
      collateral.qeIdentityIssuerChain,
      naming(COLLATERAL_FILES.qeIdentityIssuerChain, (b) =>
        parseCertificateChain(b, 'IssuerChain'),
      ),
    ),
    once(
      'dcap:crl',
      collateral.rootCaCrl,
      naming(COLLATERAL_FILES.rootCaCrl, (b) => parseCrl(b)),
    ),
  ])
  const pckCrls = await Promise.all(
    collateral.pckCrls.map((bytes) =>
      decodeOnce(
        'dcap:crl',
        bytes,
        naming('the PCK CRL', (b) => parseCrl(b)),
        crypto,
        cache,
      ),
    ),
  )
  return {
    ...(tcbInfo === undefined ? {} : { tcbInfo }),
    ...(tcbInfoChain === undefined ? {} : { tcbInfoChain }),
    ...(qeIdentity === undefined ? {} : { qeIdentity }),
    ...(qeIdentityChain === undefined ? {} : { qeIdentityChain }),
    ...(rootCaCrl === undefined ? {} : { rootCaCrl }),
    pckCrls,
  }
}

const BUNDLE_TOKEN = {}

/**
 * Decodes the collateral of a bundle, remembered for the bundle object itself so a stream of
 * quotes verified against one bundle skips even the content digests.
 */
export async function decodeBundle(
  bundle: CollateralBundle,
  crypto: CryptoPort,
  cache: VerificationCache,
): Promise<ParsedCollateral> {
  return cache.memoPair(bundle, BUNDLE_TOKEN, () =>
    decodeCollateral(collateralFromBundle(bundle), crypto, cache),
  )
}
