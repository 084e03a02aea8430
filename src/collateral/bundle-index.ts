/**
 * An index of collateral bundles by the values the vendor services' URLs name: TCB info by TEE
 * and FMSPC, QE identities by TEE, CRLs by issuing CA, VCEKs by product, hwID and TCB. With it,
 * `confide collateral serve` serves the PCS and KDS paths.
 *
 * @module
 */
import { decodePem, toHex } from '../core/bytes.js'
import type { CollateralBundle } from '../core/collateral-bundle.js'
import { ParseError } from '../core/errors.js'
import { parseCertificate } from '../pki/certificate.js'
import { parseCrl } from '../pki/crl.js'
import { parseQeIdentity } from '../platforms/dcap/qe-identity.js'
import { parseTcbInfo } from '../platforms/dcap/tcb-info.js'
import { SNP_COLLATERAL_FILES, SNP_CRL_FILE_PATTERN } from '../platforms/snp/collateral.js'
import { readKeyExtensions } from '../platforms/snp/key-extensions.js'
import { productFromName, type SnpProduct, tcbLayout } from '../platforms/snp/product.js'
import type { AmdKeyKind } from './kds.js'
import { type IntelTee, type PckCa, pckCaOf } from './pcs.js'

/** One servable file, with the issuer chain its response header carries. */
export interface IndexedDocument {
  readonly body: Uint8Array
  readonly issuerChain?: Uint8Array
  /** Bundle path it came from. */
  readonly source: string
  /** Issue time, so the newest of several copies is served. */
  readonly issued: Date
}

/** A VCEK with the values its KDS URL names. */
export interface IndexedVcek {
  readonly product: SnpProduct
  /** hwID extension as lower-case hex. */
  readonly hwId: string
  /** SPL values by their KDS query names (`blSPL`, `teeSPL`, ...). */
  readonly spl: ReadonlyMap<string, number>
  readonly der: Uint8Array
  readonly source: string
}

/** Servable items of a directory of bundles. */
export interface CollateralIndex {
  /** By `${tee}/${fmspc}`, such as `tdx/50806f000000`. */
  readonly tcbInfo: ReadonlyMap<string, IndexedDocument>
  readonly qeIdentity: ReadonlyMap<IntelTee, IndexedDocument>
  /** DER bodies. */
  readonly pckCrl: ReadonlyMap<PckCa, IndexedDocument>
  readonly rootCaCrl: IndexedDocument | undefined
  readonly vceks: readonly IndexedVcek[]
  /** PEM chains by `${key}/${product}`, such as `vcek/Milan`. */
  readonly amdChains: ReadonlyMap<string, IndexedDocument>
  /** DER CRLs by product. */
  readonly amdCrls: ReadonlyMap<SnpProduct, IndexedDocument>
  /** Files that looked like collateral but could not be read, with the reason. */
  readonly problems: readonly string[]
}

const PCK_CRL_FILE = /^pck_crl(?!.*issuer_chain).*\.(der|pem|crl|hex)$/
const ROOT_CA_CRL_FILE = /^root_ca_crl\.(der|pem|hex)$/
const AMD_CHAIN_FILES: readonly string[] = [
  ...SNP_COLLATERAL_FILES.vcekChain,
  ...SNP_COLLATERAL_FILES.vlekChain,
]

function baseName(path: string): string {
  return path.replace(/^.*\//, '')
}

/** Returns the path of a file's issuer chain: `x.json` or `x.der` gives `x_issuer_chain.pem`. */
function chainPathOf(path: string): string {
  return path.replace(/\.[^./]+$/, '_issuer_chain.pem')
}

function keepNewest<K>(map: Map<K, IndexedDocument>, key: K, document: IndexedDocument): void {
  const current = map.get(key)
  if (current === undefined || document.issued > current.issued) map.set(key, document)
}

/** TEEs of the enclave identities PCS serves, by the identity's `id`. */
const QE_IDENTITY_TEES: Readonly<Record<string, IntelTee>> = { QE: 'sgx', TD_QE: 'tdx' }

/** Builds the index of PCS and KDS collateral over a bundle. */
class IndexBuilder {
  readonly tcbInfo = new Map<string, IndexedDocument>()
  readonly qeIdentity = new Map<IntelTee, IndexedDocument>()
  readonly pckCrl = new Map<PckCa, IndexedDocument>()
  readonly rootCaCrls = new Map<'root', IndexedDocument>()
  readonly vceks: IndexedVcek[] = []
  readonly amdChains = new Map<string, IndexedDocument>()
  readonly amdCrls = new Map<SnpProduct, IndexedDocument>()
  readonly problems: string[] = []
  readonly #bundle: CollateralBundle

  constructor(bundle: CollateralBundle) {
    this.#bundle = bundle
  }

  #document(path: string, body: Uint8Array, issued: Date, withChain: boolean): IndexedDocument {
    const issuerChain = withChain ? this.#bundle.get(chainPathOf(path)) : undefined
    return { body, source: path, issued, ...(issuerChain === undefined ? {} : { issuerChain }) }
  }

  add(path: string, body: Uint8Array): void {
    const name = baseName(path)
    try {
      if (name === 'tcb_info.json') this.#tcbInfo(path, body)
      else if (name === 'qe_identity.json') this.#qeIdentity(path, body)
      else if (PCK_CRL_FILE.test(name)) this.#pckCrl(path, body)
      else if (ROOT_CA_CRL_FILE.test(name)) {
        const crl = parseCrl(body)
        keepNewest(this.rootCaCrls, 'root', this.#document(path, crl.der, crl.thisUpdate, false))
      } else if ((SNP_COLLATERAL_FILES.vcek as readonly string[]).includes(name))
        this.#vcek(path, body)
      else if (AMD_CHAIN_FILES.includes(name)) this.#amdChain(path, body)
      else if (SNP_CRL_FILE_PATTERN.test(name)) this.#amdCrl(path, body)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      this.problems.push(`${path}: ${error.message}`)
    }
  }

  #tcbInfo(path: string, body: Uint8Array): void {
    const { tcbInfo } = parseTcbInfo(body)
    const key = `${tcbInfo.id.toLowerCase()}/${toHex(tcbInfo.fmspc)}`
    keepNewest(this.tcbInfo, key, this.#document(path, body, tcbInfo.issueDate, true))
  }

  #qeIdentity(path: string, body: Uint8Array): void {
    const { qeIdentity } = parseQeIdentity(body)
    const tee = QE_IDENTITY_TEES[qeIdentity.id]
    if (tee === undefined) {
      this.problems.push(`${path}: enclave identity ${qeIdentity.id} is not a QE or TD QE`)
      return
    }
    keepNewest(this.qeIdentity, tee, this.#document(path, body, qeIdentity.issueDate, true))
  }

  #pckCrl(path: string, body: Uint8Array): void {
    const crl = parseCrl(body)
    const ca = pckCaOf(crl.issuer)
    if (ca === undefined) {
      this.problems.push(`${path}: CRL issuer "${crl.issuer}" is no PCK CA`)
      return
    }
    keepNewest(this.pckCrl, ca, this.#document(path, crl.der, crl.thisUpdate, true))
  }

  #vcek(path: string, body: Uint8Array): void {
    const der =
      body[0] === 0x30
        ? body
        : decodePem(new TextDecoder().decode(body)).find((b) => b.label === 'CERTIFICATE')?.der
    if (der === undefined) {
      this.problems.push(`${path}: no certificate in the file`)
      return
    }
    const extensions = readKeyExtensions(parseCertificate(der))
    const product =
      extensions.productName === undefined ? undefined : productFromName(extensions.productName)
    if (product === undefined || extensions.hwId === undefined) {
      this.problems.push(`${path}: the VCEK names no known product or no hwID`)
      return
    }
    const spl = new Map<string, number>()
    for (const entry of tcbLayout(product)) {
      const value = extensions.spl.get(entry.oid)
      if (entry.name !== 'reserved' && value !== undefined) spl.set(entry.extension, value)
    }
    this.vceks.push({ product, hwId: toHex(extensions.hwId), spl, der, source: path })
  }

  #amdChain(path: string, body: Uint8Array): void {
    const certificates = decodePem(new TextDecoder().decode(body))
      .filter((block) => block.label === 'CERTIFICATE')
      .map((block) => parseCertificate(block.der))
    const first = certificates[0]
    const match = first === undefined ? null : /^SEV-(VLEK-)?(.+)$/.exec(first.commonName)
    const product = match?.[2] === undefined ? undefined : productFromName(match[2])
    if (first === undefined || product === undefined) {
      this.problems.push(`${path}: the first certificate is no ASK or ASVK of a known product`)
      return
    }
    const key: AmdKeyKind = match?.[1] === undefined ? 'vcek' : 'vlek'
    keepNewest(
      this.amdChains,
      `${key}/${product}`,
      this.#document(path, body, first.notBefore, false),
    )
  }

  #amdCrl(path: string, body: Uint8Array): void {
    const crl = parseCrl(body)
    const match = /(?:^|,)CN=ARK-([^,]+)/.exec(crl.issuer)
    const product = match?.[1] === undefined ? undefined : productFromName(match[1])
    if (product === undefined) {
      this.problems.push(`${path}: CRL issuer "${crl.issuer}" is no AMD root key`)
      return
    }
    keepNewest(this.amdCrls, product, this.#document(path, crl.der, crl.thisUpdate, false))
  }
}

/**
 * Indexes every collateral file of a bundle, whatever folder it is in. Of several copies of one
 * item, the newest (by issue date or thisUpdate) is served. Files that fail to decode are listed
 * in `problems` and left out.
 */
export function indexCollateral(bundle: CollateralBundle): CollateralIndex {
  const builder = new IndexBuilder(bundle)
  for (const path of bundle.find(/(?:)/).sort()) {
    const bytes = bundle.get(path)
    if (bytes !== undefined) builder.add(path, bytes)
  }
  return {
    tcbInfo: builder.tcbInfo,
    qeIdentity: builder.qeIdentity,
    pckCrl: builder.pckCrl,
    rootCaCrl: builder.rootCaCrls.get('root'),
    vceks: builder.vceks,
    amdChains: builder.amdChains,
    amdCrls: builder.amdCrls,
    problems: builder.problems,
  }
}

/** Counts the servable items of an index. */
export function indexSize(index: CollateralIndex): number {
  return (
    index.tcbInfo.size +
    index.qeIdentity.size +
    index.pckCrl.size +
    (index.rootCaCrl === undefined ? 0 : 1) +
    index.vceks.length +
    index.amdChains.size +
    index.amdCrls.size
  )
}
