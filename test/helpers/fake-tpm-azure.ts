/**
 * Generated Azure confidential VM evidence, in the JSON forms of Trustee's az-snp-vtpm and
 * az-tdx-vtpm attesters. Each contains a vTPM quote signed by an RSA AK and an HCL report. The HCL
 * runtime data carries that AK as the HCLAkPub JWK, and the hardware report binds it. The
 * SEV-SNP side chains to a fake AMD PKI; the TDX side is a DCAP quote from the fake Intel PKI.
 * Test-only: the private keys protect nothing, and no real Azure capture is reproduced here.
 */
import { createHash, sign } from 'node:crypto'
import { encodePem } from '../../src/core/bytes.js'
import { CollateralBundle } from '../../src/core/collateral-bundle.js'
import {
  chipIdFor,
  type FakeAmdPki,
  fakeAmdPki,
  fakeVcek,
  hclReport,
  MILAN_TCB,
  signReport,
  writeReport,
} from '../platforms/snp/fake-snp.js'
import {
  enclaveIdentityJson,
  issuePck,
  pckChainOf,
  TEST_PCE_SVN,
  TEST_SGX_COMPONENTS,
  type TestIntelPki,
  tcbInfoJson,
  tdxModuleIdentityJson,
  testQeReport,
  writeCollateral,
  writeQuote,
} from './fake-dcap.js'
import type { Issued } from './fake-pki.js'
import { type AttestSpec, createAk, type FakeAk, selectedValues, writeAttest } from './fake-tpm.js'

/** Options of generated Azure evidence. */
export interface AzureSpec {
  readonly attest?: AttestSpec
  /** The AK that signs the quote. Default: a fresh RSA key. */
  readonly ak?: FakeAk
  /** The AK the runtime data names, when it is not the signing AK. Null leaves HCLAkPub out. */
  readonly runtimeAk?: FakeAk | null
  /** Replaces the runtime data JSON text. */
  readonly runtimeData?: Uint8Array
  /** Replaces the report data the hardware report carries. Default: SHA-256 of the runtime data. */
  readonly reportData?: Uint8Array
  /** The PCR values the evidence carries. Default: the ones the digest was made of. */
  readonly pcrs?: readonly Uint8Array[]
  /** Changes the JSON object before it is encoded. */
  readonly edit?: (json: Record<string, unknown>) => void
}

/** The shared fake AMD PKI and VCEK of generated SEV-SNP evidence. */
export interface AzureSnpPki {
  readonly amd: FakeAmdPki
  readonly vcek: Issued
}

export function createAzureSnpPki(): AzureSnpPki {
  const amd = fakeAmdPki('Milan')
  const vcek = fakeVcek(amd.ask, {
    product: 'Milan',
    productName: 'Milan-B0',
    tcb: MILAN_TCB,
    hwId: chipIdFor('Milan'),
  })
  return { amd, vcek }
}

/** Builds the collateral of SEV-SNP evidence: the ASK and ARK (the VCEK travels in the evidence). */
export function azureSnpCollateral(pki: AzureSnpPki): CollateralBundle {
  const chain =
    encodePem('CERTIFICATE', pki.amd.ask.der) + encodePem('CERTIFICATE', pki.amd.ark.der)
  return new CollateralBundle([['ask_ark.pem', new TextEncoder().encode(chain)]])
}

/** Builds the HCL runtime data JSON with the AK as its HCLAkPub JWK. */
export function runtimeDataFor(ak: FakeAk | null): Uint8Array {
  const keys = []
  if (ak !== null) {
    const jwk = ak.publicKey.export({ format: 'jwk' })
    keys.push({ kid: 'HCLAkPub', key_ops: ['sign'], kty: 'RSA', e: jwk.e, n: jwk.n })
  }
  keys.push({ kid: 'HCLEkPub', key_ops: ['encrypt'], kty: 'RSA', e: 'AQAB', n: 'AQAB' })
  const json = {
    keys,
    'vm-configuration': { 'secure-boot': true, 'tpm-enabled': true },
    'user-data': '',
  }
  return new TextEncoder().encode(JSON.stringify(json))
}

function bindingReportData(spec: AzureSpec, runtimeData: Uint8Array): Uint8Array {
  if (spec.reportData !== undefined) return spec.reportData
  const reportData = new Uint8Array(64)
  reportData.set(createHash('sha256').update(runtimeData).digest())
  return reportData
}

function quoteJson(spec: AzureSpec, ak: FakeAk): Record<string, unknown> {
  const message = writeAttest(spec.attest)
  const signature = new Uint8Array(sign('sha256', message, ak.privateKey))
  const pcrs = spec.pcrs ?? selectedValues(spec.attest ?? {})
  return { signature: [...signature], message: [...message], pcrs: pcrs.map((pcr) => [...pcr]) }
}

function encode(json: Record<string, unknown>, spec: AzureSpec): Uint8Array {
  spec.edit?.(json)
  return new TextEncoder().encode(JSON.stringify(json))
}

/** Writes Azure SEV-SNP evidence: `{quote, report, vcek}`. */
export function azureSnpEvidence(
  pki: AzureSnpPki,
  spec: AzureSpec = {},
): { bytes: Uint8Array; ak: FakeAk } {
  const ak = spec.ak ?? createAk('rsa')
  const runtimeData =
    spec.runtimeData ?? runtimeDataFor(spec.runtimeAk === undefined ? ak : spec.runtimeAk)
  const report = signReport(
    writeReport({ reportData: bindingReportData(spec, runtimeData) }),
    pki.vcek.privateKey,
  )
  const json = {
    quote: quoteJson(spec, ak),
    report: [...hclReport(report, runtimeData)],
    vcek: encodePem('CERTIFICATE', pki.vcek.der),
  }
  return { bytes: encode(json, spec), ak }
}

/** Wraps a TDREPORT area in an HCL report of type 4 (TDX). */
function tdxHclReport(runtimeData: Uint8Array): Uint8Array {
  const bytes = hclReport(new Uint8Array(1184), runtimeData)
  new DataView(bytes.buffer).setUint32(0x4c8, 4, true)
  return bytes
}

/** TEE_TCB_SVN of the generated TD: module SVN 3, major version 1, microcode SVN 2. */
const TEE_TCB_SVN = Uint8Array.of(3, 1, 2)

/** Intel collateral under which the generated TD quotes are UpToDate at TEST_AT. */
export function azureTdxCollateral(pki: TestIntelPki): CollateralBundle {
  const levels = [
    { sgx: TEST_SGX_COMPONENTS, pceSvn: TEST_PCE_SVN, tdx: [0, 0, 2], status: 'UpToDate' as const },
  ]
  const tcbInfo = tcbInfoJson({
    id: 'TDX',
    levels,
    tdxModuleIdentities: [tdxModuleIdentityJson('TDX_01', [{ isvSvn: 3, status: 'UpToDate' }])],
  })
  return writeCollateral(pki, { tcbInfo, qeIdentity: enclaveIdentityJson({ id: 'TD_QE' }) })
}

/** Writes Azure TDX evidence: `{tpm_quote, hcl_report, td_quote}`, the TD quote signed under `pki`. */
export function azureTdxEvidence(
  pki: TestIntelPki,
  spec: AzureSpec = {},
): { bytes: Uint8Array; ak: FakeAk } {
  const ak = spec.ak ?? createAk('rsa')
  const runtimeData =
    spec.runtimeData ?? runtimeDataFor(spec.runtimeAk === undefined ? ak : spec.runtimeAk)
  const pck = issuePck(pki)
  const fields = {
    teeTcbSvn: TEE_TCB_SVN,
    mrSeam: new Uint8Array(48).fill(0x55),
    mrTd: new Uint8Array(48).fill(0x33),
    xfam: Uint8Array.of(0xe7, 0x02, 0x06),
    reportData: bindingReportData(spec, runtimeData),
  }
  const tdQuote = writeQuote({
    version: 4,
    body: { type: 'td10', fields },
    pck,
    pckChain: pckChainOf(pki, pck),
    qeReport: testQeReport('TD_QE'),
  })
  const json = {
    tpm_quote: quoteJson(spec, ak),
    hcl_report: [...tdxHclReport(runtimeData)],
    td_quote: [...tdQuote],
  }
  return { bytes: encode(json, spec), ak }
}

export { createTestIntelPki, TEST_AT } from './fake-dcap.js'
