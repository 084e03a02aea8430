/**
 * Finds the certificates an SEV-SNP verification uses, in the collateral bundle first and then in
 * the certificate table that came with the report, and decodes each once per content.
 *
 * @module
 */
import { decodePem, toHex } from '../../core/bytes.js'
import type { VerificationCache } from '../../core/cache.js'
import type { CollateralBundle } from '../../core/collateral-bundle.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { type Crl, parseCrl } from '../../pki/crl.js'
import { parseCertificateTable, type SnpTableEntry } from './certificate-table.js'
import { SNP_COLLATERAL_FILES, SNP_CRL_FILE_PATTERN } from './collateral.js'
import type { SnpEvidence } from './format.js'
import { type AmdKeyExtensions, readKeyExtensions } from './key-extensions.js'

/** The certificate of the key that signs reports, with where it came from. */
export interface SigningCertificate {
  readonly certificate: Certificate
  /** Kind named by the certificate's subject: CN=SEV-VCEK or CN=SEV-VLEK. */
  readonly kind: 'vcek' | 'vlek' | undefined
  readonly extensions: AmdKeyExtensions
  /** File name or table entry it came from, for check details. */
  readonly source: string
}

/** Everything found for one verification. */
export interface KeyMaterial {
  /** The VCEK or VLEK, picked by the report's SIGNING_KEY when both are given. */
  readonly signing: SigningCertificate | undefined
  /** ASK or ASVK and ARK, as given. The chain check picks its path from these. */
  readonly intermediates: readonly Certificate[]
  /** Sources of `intermediates` (file names, table entries) for check details. */
  readonly chainSources: readonly string[]
  readonly crls: readonly Crl[]
}

// Tags for memoPair: results keyed by the input object and what was made of it.
const PARSED_CERTIFICATE = {}
const PARSED_PEM = {}
const PARSED_CRL = {}
const PARSED_TABLE = {}
const KEY_EXTENSIONS = {}

/** Decodes a DER or PEM certificate once per content. */
function certificateOf(bytes: Uint8Array, cache: VerificationCache): Promise<Certificate> {
  return cache.memoPair(bytes, PARSED_CERTIFICATE, () =>
    cache.memo(`snp:certificate:${toHex(bytes)}`, () => {
      if (bytes[0] === 0x30) return parseCertificate(bytes)
      const block = decodePem(new TextDecoder().decode(bytes)).find(
        (b) => b.label === 'CERTIFICATE',
      )
      return parseCertificate(block?.der ?? bytes)
    }),
  )
}

/** Decodes every certificate of a PEM file once per content. */
function pemCertificatesOf(bytes: Uint8Array, cache: VerificationCache): Promise<Certificate[]> {
  return cache.memoPair(bytes, PARSED_PEM, () =>
    cache.memo(`snp:pem:${toHex(bytes)}`, () =>
      decodePem(new TextDecoder().decode(bytes))
        .filter((block) => block.label === 'CERTIFICATE')
        .map((block) => parseCertificate(block.der)),
    ),
  )
}

function crlOf(bytes: Uint8Array, cache: VerificationCache): Promise<Crl> {
  return cache.memoPair(bytes, PARSED_CRL, () =>
    cache.memo(`snp:crl:${toHex(bytes)}`, () => parseCrl(bytes)),
  )
}

/** Returns the decoded AMD extensions of a certificate, once per certificate object. */
export function extensionsOf(
  certificate: Certificate,
  cache: VerificationCache,
): Promise<AmdKeyExtensions> {
  return cache.memoPair(certificate, KEY_EXTENSIONS, () => readKeyExtensions(certificate))
}

function commonName(certificate: Certificate): string | undefined {
  return /(?:^|,)CN=([^,]*)/.exec(certificate.subject)?.[1]
}

function kindOf(certificate: Certificate): SigningCertificate['kind'] {
  const name = commonName(certificate)
  if (name === 'SEV-VCEK') return 'vcek'
  if (name === 'SEV-VLEK') return 'vlek'
  return undefined
}

function firstFile(
  bundle: CollateralBundle | undefined,
  names: readonly string[],
): { name: string; bytes: Uint8Array } | undefined {
  for (const name of names) {
    const bytes = bundle?.get(name)
    if (bytes !== undefined) return { name, bytes }
  }
  return undefined
}

/** Returns the certificate table of the evidence, or else of an `auxblob` file in the bundle. */
async function tableEntries(
  evidence: SnpEvidence,
  bundle: CollateralBundle | undefined,
  cache: VerificationCache,
): Promise<readonly SnpTableEntry[]> {
  if (evidence.certificates.length > 0) return evidence.certificates
  const file = firstFile(bundle, SNP_COLLATERAL_FILES.certificateTable)
  if (file === undefined) return []
  return cache.memoPair(file.bytes, PARSED_TABLE, () => parseCertificateTable(file.bytes))
}

type RawSource = { name: string; bytes: Uint8Array }

async function signingCertificate(
  evidence: SnpEvidence,
  bundle: CollateralBundle | undefined,
  table: readonly SnpTableEntry[],
  cache: VerificationCache,
): Promise<SigningCertificate | undefined> {
  const fromTable = (kind: 'vcek' | 'vlek'): RawSource | undefined => {
    const entry = table.find((e) => e.kind === kind)
    return entry === undefined
      ? undefined
      : { name: `${kind.toUpperCase()} table entry`, bytes: entry.data }
  }
  const vcek = firstFile(bundle, SNP_COLLATERAL_FILES.vcek) ?? fromTable('vcek')
  const vlek = firstFile(bundle, SNP_COLLATERAL_FILES.vlek) ?? fromTable('vlek')
  const chosen = evidence.report.signingKey === 'vlek' ? (vlek ?? vcek) : (vcek ?? vlek)
  if (chosen === undefined) return undefined
  const certificate = await certificateOf(chosen.bytes, cache)

  return {
    certificate,
    kind: kindOf(certificate),
    extensions: await extensionsOf(certificate, cache),
    source: chosen.name,
  }
}

/**
 * Collects the signing certificate, the ASK/ASVK/ARK certificates and any CRLs for a report.
 * Bundle files win over certificate table entries.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE`, `ERR_PARSE_CRL` or a certificate table error when
 *   a given file cannot be decoded.
 */
export async function loadKeyMaterial(
  evidence: SnpEvidence,
  bundle: CollateralBundle | undefined,
  cache: VerificationCache,
): Promise<KeyMaterial> {
  const table = await tableEntries(evidence, bundle, cache)
  const signing = await signingCertificate(evidence, bundle, table, cache)
  const chainNames =
    signing?.kind === 'vlek' ? SNP_COLLATERAL_FILES.vlekChain : SNP_COLLATERAL_FILES.vcekChain
  const intermediates: Certificate[] = []
  const chainSources: string[] = []
  const chainFile = firstFile(bundle, chainNames)
  if (chainFile !== undefined) {
    intermediates.push(...(await pemCertificatesOf(chainFile.bytes, cache)))
    chainSources.push(chainFile.name)
  }
  for (const entry of table.filter((e) => e.kind === 'ask' || e.kind === 'ark')) {
    intermediates.push(await certificateOf(entry.data, cache))
    chainSources.push(`${entry.kind?.toUpperCase()} table entry`)
  }
  const crls: Crl[] = []
  for (const path of bundle?.find(SNP_CRL_FILE_PATTERN) ?? []) {
    const bytes = bundle?.get(path)
    if (bytes !== undefined) crls.push(await crlOf(bytes, cache))
  }

  return { signing, intermediates, chainSources, crls }
}
