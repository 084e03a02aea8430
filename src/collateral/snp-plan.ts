/**
 * Collateral planning for SEV-SNP reports. A report needs from AMD KDS the VCEK of its chip at
 * REPORTED_TCB, the ASK+ARK (or ASVK+ARK) chain of its product, and the product's CRL. Certificates the report already
 * carries in its certificate table, or that the caller gave, are not fetched.
 *
 * @module
 */
import { decodePem, toHex } from '../core/bytes.js'
import type { CollateralBundle } from '../core/collateral-bundle.js'
import { ParseError } from '../core/errors.js'
import { type Certificate, parseCertificate } from '../pki/certificate.js'
import { SNP_COLLATERAL_FILES, SNP_CRL_FILE_PATTERN } from '../platforms/snp/collateral.js'
import { parseSnpEvidence, type SnpEvidence, type SnpReport } from '../platforms/snp/format.js'
import { readKeyExtensions } from '../platforms/snp/key-extensions.js'
import { productFromName, SNP_PRODUCTS, type SnpProduct } from '../platforms/snp/product.js'
import { CollateralFetchError } from './fetch-error.js'
import type { AmdKeyKind } from './kds.js'
import { type CollateralPlanner, type PlannedItem, unavailableItem } from './plan.js'

/** Bundle file names of what this planner fetches. */
export const SNP_FETCHED_FILES = {
  vcek: 'vcek.der',
  vcekChain: 'ask_ark.pem',
  vlekChain: 'asvk_ark.pem',
  crl: 'ark_crl.der',
} as const

/** The VCEK or VLEK the caller or the report already has. */
interface ProvidedKey {
  readonly kind: AmdKeyKind
  /** Undefined when the certificate does not decode or names no known product. */
  readonly product: SnpProduct | undefined
}

function decodeCertificate(bytes: Uint8Array): Certificate | undefined {
  try {
    if (bytes[0] === 0x30) return parseCertificate(bytes)
    const block = decodePem(new TextDecoder().decode(bytes)).find((b) => b.label === 'CERTIFICATE')
    return block === undefined ? undefined : parseCertificate(block.der)
  } catch (error) {
    if (error instanceof ParseError) return undefined
    throw error
  }
}

function productOf(bytes: Uint8Array): SnpProduct | undefined {
  const certificate = decodeCertificate(bytes)
  if (certificate === undefined) return undefined
  const name = readKeyExtensions(certificate).productName
  return name === undefined ? undefined : productFromName(name)
}

/** Finds the signing certificate in the bundle, then in the report's certificate table. */
function providedKey(evidence: SnpEvidence, have: CollateralBundle): ProvidedKey | undefined {
  const named: AmdKeyKind = evidence.report.signingKey === 'vlek' ? 'vlek' : 'vcek'
  for (const kind of [named, named === 'vlek' ? 'vcek' : 'vlek'] as const) {
    const file = SNP_COLLATERAL_FILES[kind]
      .map((name) => have.get(name))
      .find((bytes) => bytes !== undefined)
    const bytes = file ?? evidence.certificates.find((entry) => entry.kind === kind)?.data
    if (bytes !== undefined) return { kind, product: productOf(bytes) }
  }
  return undefined
}

function hasChain(evidence: SnpEvidence, have: CollateralBundle, kind: AmdKeyKind): boolean {
  const names = kind === 'vlek' ? SNP_COLLATERAL_FILES.vlekChain : SNP_COLLATERAL_FILES.vcekChain
  if (names.some((name) => have.get(name) !== undefined)) return true
  const kinds = new Set(evidence.certificates.map((entry) => entry.kind))
  return kinds.has('ark') && kinds.has('ask')
}

function vcekItem(report: SnpReport, products: readonly SnpProduct[]): PlannedItem {
  const chip = toHex(report.chipId)
  const tcb = toHex(report.reportedTcb)
  return {
    key: `amd/vcek/${chip}/${tcb}`,
    label: `VCEK of chip ${chip.slice(0, 16)}... at TCB ${tcb}`,
    optional: false,
    async fetch({ kds }) {
      // A version 2 report does not name its product, so each candidate is tried in turn. KDS
      // returns 400 or 404 for a chip it does not have under that product.
      let lastError: unknown
      for (const product of products) {
        try {
          const vcek = await kds.vcek(report, product)
          return { url: vcek.url, body: vcek.der, freshUntil: vcek.certificate.notAfter }
        } catch (error) {
          const unknownChip =
            error instanceof CollateralFetchError && (error.status === 400 || error.status === 404)
          if (!unknownChip) throw error
          lastError = error
        }
      }
      throw lastError
    },
    files: ({ body }) => [[SNP_FETCHED_FILES.vcek, body]],
  }
}

function chainItem(product: SnpProduct, kind: AmdKeyKind): PlannedItem {
  const names = kind === 'vlek' ? 'ASVK and ARK' : 'ASK and ARK'
  return {
    key: `amd/cert-chain/${product}/${kind}`,
    label: `${product} ${names}`,
    optional: false,
    async fetch({ kds }) {
      const chain = await kds.certChain(product, kind)
      const expiry = Math.min(...chain.certificates.map((c) => c.notAfter.getTime()))
      return { url: chain.url, body: chain.pem, freshUntil: new Date(expiry) }
    },
    files: ({ body }) => [
      [kind === 'vlek' ? SNP_FETCHED_FILES.vlekChain : SNP_FETCHED_FILES.vcekChain, body],
    ],
  }
}

function crlItem(product: SnpProduct, kind: AmdKeyKind): PlannedItem {
  return {
    key: `amd/crl/${product}/${kind}`,
    label: `${product} CRL of revoked ${kind === 'vlek' ? 'ASVKs' : 'ASKs'}`,
    // The SEV-SNP verifier checks revocation only when a CRL is given.
    optional: true,
    async fetch({ kds }) {
      const crl = await kds.crl(product, kind)
      return {
        url: crl.url,
        body: crl.der,
        ...(crl.crl.nextUpdate === undefined ? {} : { freshUntil: crl.crl.nextUpdate }),
      }
    },
    files: ({ body }) => [[SNP_FETCHED_FILES.crl, body]],
  }
}

/**
 * Lists the KDS items a report needs that `have` and the report's certificate table lack. The
 * product comes from CPUID (report version 3 and later), else from a given VCEK or VLEK. A
 * version 2 report without either gets a VCEK item that tries every product. Its chain and CRL
 * are planned in the next round, once the fetched VCEK names the product.
 *
 * @throws ParseError when the evidence cannot be decoded.
 */
export function planSnpCollateral(bytes: Uint8Array, have: CollateralBundle): PlannedItem[] {
  const evidence = parseSnpEvidence(bytes)
  const report = evidence.report
  const provided = providedKey(evidence, have)
  const kind: AmdKeyKind = provided?.kind ?? (report.signingKey === 'vlek' ? 'vlek' : 'vcek')
  const product = report.cpuidProduct ?? provided?.product
  const items: PlannedItem[] = []

  if (provided === undefined && report.signingKey === 'vlek') {
    const reason =
      'AMD KDS serves VLEKs only to the cloud provider; give vlek.der, or evidence whose certificate table carries it'
    items.push(unavailableItem('amd/vlek', 'VLEK', reason))
  } else if (provided === undefined && report.signingKey === 'vcek' && report.maskChipKey) {
    const reason =
      'the report masks CHIP_ID (MASK_CHIP_KEY), so AMD KDS cannot be asked for its VCEK'
    items.push(unavailableItem('amd/vcek', 'VCEK', reason))
  } else if (provided === undefined && report.signingKey === 'vcek') {
    items.push(vcekItem(report, product === undefined ? SNP_PRODUCTS : [product]))
  }
  if (product !== undefined) {
    if (!hasChain(evidence, have, kind)) items.push(chainItem(product, kind))
    if (have.find(SNP_CRL_FILE_PATTERN).length === 0) items.push(crlItem(product, kind))
  }

  return items
}

/** Creates the planner of SEV-SNP reports. */
export function snpPlanner(): CollateralPlanner {
  return { platforms: ['snp'], plan: planSnpCollateral }
}
