/**
 * Collateral planning. DCAP items follow the FMSPC, TEE and PCK CA of the quote, and SEV-SNP items
 * the product, chip, TCB and key kind of the report. Nothing the caller or the evidence already
 * has is planned.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { planDcapCollateral } from '../../src/collateral/dcap-plan.js'
import { planSnpCollateral } from '../../src/collateral/snp-plan.js'
import { toHex } from '../../src/core/bytes.js'
import { CollateralBundle } from '../../src/core/collateral-bundle.js'
import { parseSnpReport } from '../../src/platforms/snp/format.js'
import { bundleFromDir, corpusRoot } from '../helpers/corpus.js'
import {
  SGX_EXTENSIONS_OID,
  sgxExtensionsDer,
  TEST_FMSPC,
  writeQuote,
} from '../helpers/fake-dcap.js'
import { issue } from '../helpers/fake-pki.js'

const empty = new CollateralBundle([])

function corpusFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(corpusRoot, path)))
}

function keys(items: readonly { key: string }[]): string[] {
  return items.map((item) => item.key)
}

function only(bundle: CollateralBundle, names: readonly string[]): CollateralBundle {
  return new CollateralBundle(
    names
      .map((name) => [name, bundle.get(name)] as [string, Uint8Array | undefined])
      .filter((entry): entry is [string, Uint8Array] => entry[1] !== undefined),
  )
}

describe('planDcapCollateral', () => {
  const tinfoil = 'intel-tdx/tdx-v4-tinfoil-full-collateral-uptodate'
  const tinfoilFmspc = JSON.parse(
    new TextDecoder().decode(corpusFile(`${tinfoil}/collateral/tcb_info.json`)),
  ).tcbInfo.fmspc

  it('lists the four PCS items of a TDX quote', () => {
    const items = planDcapCollateral(corpusFile(`${tinfoil}/quote.bin`), empty)
    assert.deepEqual(keys(items), [
      `intel/tcb-info/tdx/${tinfoilFmspc}`,
      'intel/qe-identity/tdx',
      'intel/pck-crl/platform',
      'intel/root-ca-crl',
    ])
    assert.ok(items.every((item) => !item.optional && item.unavailable === undefined))
  })

  it('takes the FMSPC of an SGX quote from its PCK certificate', () => {
    const name = 'intel-sgx/sgx-v3-dcapqvl-config-swhardening'
    const fmspc = JSON.parse(new TextDecoder().decode(corpusFile(`${name}/expect.json`))).claims
      .fmspc
    const items = planDcapCollateral(corpusFile(`${name}/quote.bin`), empty)
    assert.deepEqual(keys(items).slice(0, 2), [
      `intel/tcb-info/sgx/${fmspc}`,
      'intel/qe-identity/sgx',
    ])
  })

  it('needs nothing when the bundle is complete', () => {
    const bundle = bundleFromDir(join(corpusRoot, tinfoil, 'collateral'))
    assert.deepEqual(planDcapCollateral(corpusFile(`${tinfoil}/quote.bin`), bundle), [])
  })

  it('fetches only what a partial bundle lacks', () => {
    const name = 'intel-tdx/tdx-v5-gotdxguest-sample-uptodate'
    const bundle = bundleFromDir(join(corpusRoot, name, 'collateral'))
    assert.deepEqual(keys(planDcapCollateral(corpusFile(`${name}/quote.bin`), bundle)), [
      'intel/qe-identity/tdx',
      'intel/pck-crl/platform',
      'intel/root-ca-crl',
    ])
  })

  it('fetches TCB info again when its issuer chain is missing', () => {
    const full = bundleFromDir(join(corpusRoot, tinfoil, 'collateral'))
    const bundle = only(full, [
      'tcb_info.json',
      'qe_identity.json',
      'qe_identity_issuer_chain.pem',
      'pck_crl.der',
      'root_ca_crl.der',
    ])
    assert.deepEqual(keys(planDcapCollateral(corpusFile(`${tinfoil}/quote.bin`), bundle)), [
      `intel/tcb-info/tdx/${tinfoilFmspc}`,
    ])
  })

  it('files TCB info under the names the verifier reads', () => {
    const [tcbInfo] = planDcapCollateral(corpusFile(`${tinfoil}/quote.bin`), empty)
    const body = new Uint8Array([1])
    const chain = new Uint8Array([2])
    assert.deepEqual(tcbInfo?.files({ body, issuerChain: chain }), [
      ['tcb_info.json', body],
      ['tcb_info_issuer_chain.pem', chain],
    ])
  })

  it('asks for the Processor CA CRL of a PCK issued by the Processor CA', () => {
    const root = issue({ commonName: 'Test SGX Root CA', isCa: true, serial: 1 })
    const ca = issue({ commonName: 'Test SGX PCK Processor CA', isCa: true, serial: 2 }, root)
    const pck = issue(
      {
        commonName: 'Test SGX PCK Certificate',
        serial: 4,
        extensions: [{ oid: SGX_EXTENSIONS_OID, value: sgxExtensionsDer() }],
      },
      ca,
    )
    const quote = writeQuote({
      version: 3,
      body: { type: 'sgx' },
      pck,
      pckChain: [pck.der, ca.der, root.der],
    })
    assert.deepEqual(keys(planDcapCollateral(quote, empty)), [
      `intel/tcb-info/sgx/${TEST_FMSPC}`,
      'intel/qe-identity/sgx',
      'intel/pck-crl/processor',
      'intel/root-ca-crl',
    ])
  })

  it('marks FMSPC-bound items unavailable when the PCK has no SGX extensions', () => {
    const root = issue({ commonName: 'Test SGX Root CA', isCa: true, serial: 1 })
    const ca = issue({ commonName: 'Test SGX PCK Platform CA', isCa: true, serial: 2 }, root)
    const pck = issue({ commonName: 'Not a PCK', serial: 4 }, ca)
    const quote = writeQuote({
      version: 4,
      body: { type: 'td10' },
      pck,
      pckChain: [pck.der, ca.der, root.der],
    })
    const items = planDcapCollateral(quote, empty)
    const unavailable = items.filter((item) => item.unavailable !== undefined)
    assert.deepEqual(keys(unavailable), ['intel/tcb-info/tdx', 'intel/pck-crl'])
    assert.match(unavailable[0]?.unavailable ?? '', /PCK certificate cannot be read/)
  })

  it('rejects bytes that are no quote', () => {
    assert.throws(() => planDcapCollateral(new Uint8Array(16), empty), { name: 'ParseError' })
  })
})

describe('planSnpCollateral', () => {
  const snp = 'amd-sev-snp'

  it('lists VCEK, chain and CRL of a version 3 report', () => {
    const name = `${snp}/snp-v3-milan-vcek-msft`
    const report = parseSnpReport(corpusFile(`${name}/report.bin`))
    const items = planSnpCollateral(corpusFile(`${name}/report.bin`), empty)
    assert.deepEqual(keys(items), [
      `amd/vcek/${toHex(report.chipId)}/${toHex(report.reportedTcb)}`,
      'amd/cert-chain/Milan/vcek',
      'amd/crl/Milan/vcek',
    ])
    assert.deepEqual(
      items.map((item) => item.optional),
      [false, false, true],
    )
  })

  it('needs only the optional CRL when the certificates are given', () => {
    const name = `${snp}/snp-v5-turin-vcek-msft`
    const items = planSnpCollateral(
      corpusFile(`${name}/report.bin`),
      bundleFromDir(join(corpusRoot, name, 'certs')),
    )
    assert.deepEqual(keys(items), ['amd/crl/Turin/vcek'])
  })

  it('asks only for the VCEK of a version 2 report, then for its product', () => {
    const name = `${snp}/snp-v2-milan-vcek-trustee`
    const bytes = corpusFile(`${name}/report.bin`)
    assert.deepEqual(
      keys(planSnpCollateral(bytes, empty)).map((key) => key.split('/')[1]),
      ['vcek'],
    )
    const withVcek = new CollateralBundle([['vcek.der', corpusFile(`${name}/certs/vcek.der`)]])
    assert.deepEqual(keys(planSnpCollateral(bytes, withVcek)), [
      'amd/cert-chain/Milan/vcek',
      'amd/crl/Milan/vcek',
    ])
  })

  it('marks the VLEK unavailable, since KDS serves it to cloud providers only', () => {
    const name = `${snp}/snp-v3-milan-vlek-trustee`
    const items = planSnpCollateral(corpusFile(`${name}/report.bin`), empty)
    assert.deepEqual(keys(items), ['amd/vlek', 'amd/cert-chain/Milan/vlek', 'amd/crl/Milan/vlek'])
    assert.ok(items[0]?.unavailable !== undefined)
  })

  it('asks for the ASVK chain when the VLEK is given', () => {
    const name = `${snp}/snp-v3-milan-vlek-trustee`
    const bundle = new CollateralBundle([['vlek.der', corpusFile(`${name}/certs/vlek.der`)]])
    const items = planSnpCollateral(corpusFile(`${name}/report.bin`), bundle)
    assert.deepEqual(keys(items), ['amd/cert-chain/Milan/vlek', 'amd/crl/Milan/vlek'])
    assert.deepEqual(
      items[0]?.files({ body: new Uint8Array([1]) }).map(([path]) => path),
      ['asvk_ark.pem'],
    )
  })

  it('marks the VCEK unavailable when the report masks CHIP_ID', () => {
    const bytes = corpusFile(`${snp}/snp-v3-genoa-vcek-azure/report.bin`)
    bytes[0x48] = (bytes[0x48] ?? 0) | 0x02
    const items = planSnpCollateral(bytes, empty)
    assert.deepEqual(keys(items), ['amd/vcek', 'amd/cert-chain/Genoa/vcek', 'amd/crl/Genoa/vcek'])
    assert.match(items[0]?.unavailable ?? '', /MASK_CHIP_KEY/)
  })
})
