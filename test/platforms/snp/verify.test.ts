import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { encodePem } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import type { VerifyOptions } from '../../../src/core/platform.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import type { CryptoPort } from '../../../src/crypto/port.js'
import { snpPlatform } from '../../../src/platforms/snp/index.js'
import type { SnpProduct } from '../../../src/platforms/snp/product.js'
import { type Issued, issue, issueCrl } from '../../helpers/fake-pki.js'
import {
  CPUID,
  certificateTable,
  chipIdFor,
  type FakeAmdPki,
  type FakeReport,
  fakeAmdPki,
  fakeVcek,
  hclReport,
  type KeyExtensionSpec,
  MILAN_TCB,
  SNP_TABLE_GUIDS,
  signReport,
  TURIN_TCB,
  tcbBytes,
  writeReport,
} from './fake-snp.js'

const nodeCrypto = createNodeCrypto()
const at = new Date('2030-01-01T00:00:00Z')
const milan = fakeAmdPki('Milan')
const turin = fakeAmdPki('Turin')
const milanSpec: KeyExtensionSpec = {
  product: 'Milan',
  productName: 'Milan-B0',
  tcb: MILAN_TCB,
  hwId: chipIdFor('Milan'),
}
const milanVcek = fakeVcek(milan.ask, milanSpec)

interface Setup {
  readonly pki: FakeAmdPki
  readonly leaf: Issued
  readonly report: FakeReport
  /** File name of the leaf in the bundle. Default: vcek.der. Null leaves it out. */
  readonly leafFile?: string | null
  readonly chainFile?: string
  readonly extra?: readonly [string, Uint8Array][]
  readonly options?: VerifyOptions
  readonly crypto?: CryptoPort
  readonly cache?: VerificationCache
  readonly product?: SnpProduct
  /** Leave out the trust anchor override, so the pinned ARKs apply. */
  readonly pinned?: boolean
  /** Change the report bytes after signing. */
  readonly wrap?: (report: Uint8Array) => Uint8Array
}

function chainPem(pki: FakeAmdPki, intermediate: Issued): Uint8Array {
  const text = encodePem('CERTIFICATE', intermediate.der) + encodePem('CERTIFICATE', pki.ark.der)
  return new TextEncoder().encode(text)
}

async function run(setup: Setup): Promise<VerificationResult> {
  const platform = snpPlatform(setup.product === undefined ? {} : { product: setup.product })
  const signed = signReport(writeReport(setup.report), setup.leaf.privateKey)
  const bytes = setup.wrap === undefined ? signed : setup.wrap(signed)
  const files: [string, Uint8Array][] = [...(setup.extra ?? [])]
  if (setup.leafFile !== null) files.push([setup.leafFile ?? 'vcek.der', setup.leaf.der])
  const intermediate = setup.chainFile === 'asvk_ark.pem' ? setup.pki.asvk : setup.pki.ask
  files.push([setup.chainFile ?? 'ask_ark.pem', chainPem(setup.pki, intermediate)])

  return platform.verify(platform.parse(bytes), {
    at,
    collateral: new CollateralBundle(files),
    ...(setup.pinned === true ? {} : { trustAnchors: [setup.pki.ark.der] }),
    crypto: setup.crypto ?? nodeCrypto,
    cache: setup.cache ?? new VerificationCache(),
    ...setup.options,
  })
}

function check(result: VerificationResult, name: string) {
  const found = result.checks.find((c) => c.name === name)
  assert.ok(found, `no check ${name}: ${JSON.stringify(result.checks)}`)
  return found
}

function failed(result: VerificationResult): string[] {
  return result.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}:${c.code}`)
}

describe('verifySnpEvidence', () => {
  it('accepts a Milan report signed by its VCEK', async () => {
    const result = await run({ pki: milan, leaf: milanVcek, report: {} })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.deepEqual(
      result.checks.map((c) => c.name),
      [
        'product',
        'signing-key',
        'report-signature',
        'certificate-chain',
        'reported-tcb',
        'chip-id',
        'debug',
      ],
    )
    assert.deepEqual(result.claims.tcb, { bootloader: 3, tee: 0, snp: 8, microcode: 115 })
    assert.equal(result.tcbStatus, undefined)
  })

  it('rejects a VCEK signed by an unrelated ASK of the same name', async () => {
    const impostor = fakeAmdPki('Milan')
    const leaf = fakeVcek(impostor.ask, milanSpec)
    const result = await run({ pki: milan, leaf, report: {} })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'certificate-chain').code, 'ERR_VERIFY_SIGNATURE')
    assert.equal(check(result, 'report-signature').status, 'pass')
  })

  it('rejects a VLEK presented as the VCEK', async () => {
    const vlek = fakeVcek(milan.asvk, { ...milanSpec, cspId: 'example.com' }, 'SEV-VLEK')
    const result = await run({ pki: milan, leaf: vlek, report: {} })
    assert.equal(result.verdict, 'invalid')
    assert.equal(check(result, 'signing-key').code, 'ERR_VERIFY_BINDING')
  })

  it('accepts a VLEK report through the ASVK', async () => {
    const spec = {
      product: 'Milan',
      productName: 'Milan',
      tcb: MILAN_TCB,
      cspId: 'example.com',
    } as const
    const vlek = fakeVcek(milan.asvk, spec, 'SEV-VLEK')
    const result = await run({
      pki: milan,
      leaf: vlek,
      report: { keyInfo: 1 << 2 },
      leafFile: 'vlek.der',
      chainFile: 'asvk_ark.pem',
    })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.equal(
      result.checks.some((c) => c.name === 'chip-id'),
      false,
    )
  })

  it('rejects a VCEK whose TCB extensions differ from REPORTED_TCB', async () => {
    const tcb = tcbBytes('Milan', { bootloader: 3, tee: 0, snp: 9, microcode: 115 })
    const leaf = fakeVcek(milan.ask, { ...milanSpec, tcb })
    const result = await run({ pki: milan, leaf, report: {} })
    assert.deepEqual(failed(result), ['reported-tcb:ERR_VERIFY_BINDING'])
    assert.match(check(result, 'reported-tcb').detail, /snp is 8 but the VCEK's snpSPL is 9/)
  })

  it('compares REPORTED_TCB, not CURRENT_TCB', async () => {
    const current = tcbBytes('Milan', { bootloader: 4, tee: 0, snp: 9, microcode: 200 })
    const result = await run({ pki: milan, leaf: milanVcek, report: { currentTcb: current } })
    assert.equal(result.verdict, 'valid')
  })

  it('rejects SPL extensions that are not canonical DER integers', async () => {
    const leaf = fakeVcek(milan.ask, {
      ...milanSpec,
      override: { '1.3.6.1.4.1.3704.1.3.3': Uint8Array.of(0x02, 0x02, 0x00, 0x08) },
    })
    const result = await run({ pki: milan, leaf, report: {} })
    assert.deepEqual(failed(result), ['reported-tcb:ERR_PARSE_CERTIFICATE'])
  })

  it('reads the Turin TCB layout and 8-byte hwID', async () => {
    const leaf = fakeVcek(turin.ask, {
      product: 'Turin',
      tcb: TURIN_TCB,
      hwId: chipIdFor('Turin').subarray(0, 8),
    })
    const report = {
      version: 5,
      cpuid: CPUID.Turin,
      reportedTcb: TURIN_TCB,
      chipId: chipIdFor('Turin'),
    }
    const result = await run({ pki: turin, leaf, report })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.deepEqual(result.claims.tcb, { fmc: 1, bootloader: 1, tee: 1, snp: 4, microcode: 81 })
    assert.match(check(result, 'chip-id').detail, /8-byte hwID/)
  })

  it('rejects a Turin VCEK for a report whose CPUID is Milan', async () => {
    const leaf = fakeVcek(milan.ask, { ...milanSpec, productName: 'Turin' })
    const result = await run({ pki: milan, leaf, report: {} })
    assert.equal(check(result, 'product').code, 'ERR_COLLATERAL_MISMATCH')
  })

  it('rejects a VCEK for another chip', async () => {
    const leaf = fakeVcek(milan.ask, { ...milanSpec, hwId: new Uint8Array(64).fill(9) })
    const result = await run({ pki: milan, leaf, report: {} })
    assert.deepEqual(failed(result), ['chip-id:ERR_VERIFY_BINDING'])
  })

  it('rejects an unsupported report version', () => {
    const bytes = signReport(writeReport({ version: 6 }), milanVcek.privateKey)
    assert.throws(() => snpPlatform().parse(bytes), { code: 'ERR_PARSE_UNSUPPORTED_VERSION' })
    assert.equal(snpPlatform().sniff(bytes), false)
  })

  it('rejects a debug policy unless debug is allowed', async () => {
    const report = { policy: 0x30000n | (1n << 19n) }
    const strict = await run({ pki: milan, leaf: milanVcek, report })
    assert.deepEqual(failed(strict), ['debug:ERR_VERIFY_DEBUG'])
    assert.equal(strict.claims.debug, true)
    const allowed = await run({
      pki: milan,
      leaf: milanVcek,
      report,
      options: { allowDebug: true },
    })
    assert.equal(allowed.verdict, 'valid')
  })

  it('rejects a report that names no signing key', async () => {
    const result = await run({ pki: milan, leaf: milanVcek, report: { keyInfo: 7 << 2 } })
    assert.equal(check(result, 'signing-key').code, 'ERR_VERIFY_SIGNATURE')
    assert.equal(result.verdict, 'invalid')
  })

  it('is indeterminate without the VCEK and names its KDS URL', async () => {
    const result = await run({ pki: milan, leaf: milanVcek, report: {}, leafFile: null })
    assert.equal(result.verdict, 'indeterminate')
    const detail = check(result, 'signing-key').detail
    const hwId = Buffer.from(chipIdFor('Milan')).toString('hex')
    assert.ok(
      detail.includes(
        `https://kdsintf.amd.com/vcek/v1/Milan/${hwId}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115`,
      ),
      detail,
    )
  })

  it('names the Turin KDS URL with the 8-byte hwID and fmcSPL', async () => {
    const report = {
      version: 5,
      cpuid: CPUID.Turin,
      reportedTcb: TURIN_TCB,
      chipId: chipIdFor('Turin'),
    }
    const result = await run({ pki: turin, leaf: milanVcek, report, leafFile: null })
    assert.match(
      check(result, 'signing-key').detail,
      /vcek\/v1\/Turin\/01080f161d242b32\?fmcSPL=1&blSPL=1&teeSPL=1&snpSPL=4&ucodeSPL=81/,
    )
  })

  it('rejects an ASK revoked by the ARK CRL', async () => {
    const crl = issueCrl(milan.ark, { revoked: [2] })
    const result = await run({ pki: milan, leaf: milanVcek, report: {}, extra: [['crl.der', crl]] })
    assert.equal(check(result, 'certificate-chain').code, 'ERR_VERIFY_REVOKED')
    const clean = issueCrl(milan.ark, { revoked: [7] })
    const ok = await run({ pki: milan, leaf: milanVcek, report: {}, extra: [['crl.der', clean]] })
    assert.match(check(ok, 'certificate-chain').detail, /checked against the CRL for SEV-Milan/)
  })

  it('judges certificate validity on every call, even when cached', async () => {
    const cache = new VerificationCache()
    const leaf = fakeVcek(milan.ask, milanSpec)
    const before = await run({ pki: milan, leaf, report: {}, cache })
    assert.equal(before.verdict, 'valid')
    const later = await run({
      pki: milan,
      leaf,
      report: {},
      cache,
      options: { at: new Date('2041-01-01Z') },
    })
    assert.equal(check(later, 'certificate-chain').code, 'ERR_VERIFY_EXPIRED')
  })

  it('costs one signature check per report once the chain is cached', async () => {
    let verifications = 0
    const counting: CryptoPort = {
      ...nodeCrypto,
      verify: (...args) => {
        verifications++
        return nodeCrypto.verify(...args)
      },
    }
    const cache = new VerificationCache()
    const leaf = fakeVcek(milan.ask, milanSpec)
    await run({ pki: milan, leaf, report: {}, crypto: counting, cache })
    verifications = 0
    const second = await run({ pki: milan, leaf, report: { guestSvn: 2 }, crypto: counting, cache })
    assert.equal(second.verdict, 'valid')
    assert.equal(verifications, 1)
  })

  it('rejects a chain to a root that is not pinned', async () => {
    const result = await run({ pki: milan, leaf: milanVcek, report: {}, pinned: true })
    assert.equal(check(result, 'certificate-chain').code, 'ERR_VERIFY_CHAIN')
  })

  it('compares all 64 bytes of the expected report data', async () => {
    const reportData = new Uint8Array(64)
    reportData.set([1, 2, 3])
    const match = await run({
      pki: milan,
      leaf: milanVcek,
      report: { reportData },
      options: { expectedReportData: Uint8Array.of(1, 2, 3) },
    })
    assert.equal(check(match, 'report-data').status, 'pass')
    const other = await run({
      pki: milan,
      leaf: milanVcek,
      report: { reportData },
      options: { expectedReportData: Uint8Array.of(1, 2, 4) },
    })
    assert.equal(check(other, 'report-data').code, 'ERR_VERIFY_REPORT_DATA')
    await assert.rejects(
      run({
        pki: milan,
        leaf: milanVcek,
        report: {},
        options: { expectedReportData: new Uint8Array(65) },
      }),
      { code: 'ERR_CONFIG_INVALID' },
    )
  })

  it('takes a version 2 product from VCEK or option', async () => {
    const fromVcek = await run({ pki: milan, leaf: milanVcek, report: { version: 2 } })
    assert.equal(fromVcek.verdict, 'valid', JSON.stringify(fromVcek.checks, null, 1))
    assert.match(check(fromVcek, 'product').detail, /Milan-B0/)
    const unknown = await run({
      pki: milan,
      leaf: milanVcek,
      report: { version: 2 },
      leafFile: null,
    })
    assert.equal(check(unknown, 'product').status, 'skipped')
    const fromOption = await run({
      pki: milan,
      leaf: milanVcek,
      report: { version: 2 },
      leafFile: null,
      product: 'Milan',
    })
    assert.equal(check(fromOption, 'product').status, 'pass')
    assert.match(check(fromOption, 'signing-key').detail, /kdsintf\.amd\.com\/vcek\/v1\/Milan\//)
  })

  it('uses the certificates of an extended report', async () => {
    const table = certificateTable([
      { guid: SNP_TABLE_GUIDS.vcek, data: milanVcek.der },
      { guid: SNP_TABLE_GUIDS.ask, data: milan.ask.der },
      { guid: SNP_TABLE_GUIDS.ark, data: milan.ark.der },
    ])
    const platform = snpPlatform()
    const report = signReport(writeReport({}), milanVcek.privateKey)
    const bytes = new Uint8Array([...report, ...table])
    assert.equal(platform.sniff(bytes), true)
    const result = await platform.verify(platform.parse(bytes), {
      at,
      trustAnchors: [milan.ark.der],
      crypto: nodeCrypto,
      cache: new VerificationCache(),
    })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.match(check(result, 'signing-key').detail, /VCEK table entry/)
  })

  it('uses the certificate table of an auxblob file', async () => {
    const table = certificateTable([
      { guid: SNP_TABLE_GUIDS.vcek, data: milanVcek.der },
      { guid: SNP_TABLE_GUIDS.ask, data: milan.ask.der },
    ])
    const result = await run({
      pki: milan,
      leaf: milanVcek,
      report: {},
      leafFile: null,
      chainFile: 'unused.pem',
      extra: [['auxblob', table]],
    })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.match(check(result, 'certificate-chain').detail, /SEV-VCEK → SEV-Milan → ARK-Milan/)
  })

  it('checks the runtime data of an HCL report', async () => {
    const runtime = new TextEncoder().encode('{"keys":[{"kid":"HCLAkPub"}]}')
    const reportData = new Uint8Array(64)
    reportData.set(createHash('sha256').update(runtime).digest())
    const wrap = (bytes: Uint8Array) => hclReport(bytes, runtime)
    const bound = await run({ pki: milan, leaf: milanVcek, report: { reportData }, wrap })
    assert.equal(bound.verdict, 'valid', JSON.stringify(bound.checks, null, 1))
    assert.equal(check(bound, 'hcl-runtime-data').status, 'pass')
    const other = (bytes: Uint8Array) => hclReport(bytes, new TextEncoder().encode('{}'))
    const unbound = await run({ pki: milan, leaf: milanVcek, report: { reportData }, wrap: other })
    assert.deepEqual(failed(unbound), ['hcl-runtime-data:ERR_VERIFY_BINDING'])
  })

  it('rejects a leaf that is neither a VCEK nor a VLEK', async () => {
    const leaf = issue({ commonName: 'Some Key', kind: 'P-384', serial: 5 }, milan.ask)
    const result = await run({ pki: milan, leaf, report: {} })
    assert.equal(check(result, 'signing-key').code, 'ERR_VERIFY_BINDING')
  })
})
