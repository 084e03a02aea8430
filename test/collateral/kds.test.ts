/**
 * The AMD KDS client against a loopback server with KDS's paths: VCEK URLs from real reports
 * (Milan, Genoa, Turin), chains, CRLs, throttling and bodies that are not what was asked for.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Agent } from 'undici'
import { createHttpClient } from '../../src/collateral/http.js'
import { KDS_BASE_URL, KdsClient } from '../../src/collateral/kds.js'
import { encodePem, toHex } from '../../src/core/bytes.js'
import { parseSnpReport } from '../../src/platforms/snp/format.js'
import { corpusRoot } from '../helpers/corpus.js'
import { issue, issueCrl } from '../helpers/fake-pki.js'
import { corpusHandler, type FakeHandler, startFakeVendor } from './fake-vendor.js'

const dispatcher = new Agent()
const http = createHttpClient({ dispatcher, retryDelayMs: 5, timeoutMs: 2_000, maxAttempts: 3 })
after(() => dispatcher.close())

const snpRoot = join(corpusRoot, 'amd-sev-snp')

function caseFile(name: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(snpRoot, name, file)))
}

function reportOf(name: string) {
  return parseSnpReport(caseFile(name, 'report.bin'))
}

async function withServer<T>(handler: FakeHandler, run: (kds: KdsClient) => Promise<T>) {
  const server = await startFakeVendor(handler)
  try {
    return { result: await run(new KdsClient(http, server.url)), requests: server.requests }
  } finally {
    await server.close()
  }
}

describe('KdsClient.vcek', () => {
  it('asks for a Milan VCEK by the 64-byte hwID and each SPL of REPORTED_TCB', async () => {
    const name = 'snp-v3-milan-vcek-msft'
    const report = reportOf(name)
    const { result, requests } = await withServer(corpusHandler(join(snpRoot, name)), (kds) =>
      kds.vcek(report, 'Milan'),
    )
    assert.deepEqual(result.der, caseFile(name, 'certs/vcek.der'))
    const tcb = report.reportedTcb
    assert.equal(
      requests[0]?.target,
      `/vcek/v1/Milan/${toHex(report.chipId)}?blSPL=${tcb[0]}&teeSPL=${tcb[1]}&snpSPL=${tcb[6]}&ucodeSPL=${tcb[7]}`,
    )
    assert.equal(requests[0]?.headers.accept, 'application/x-x509-ca-cert')
  })

  it('asks for a Turin VCEK by 8 bytes of CHIP_ID, with the FMC SPL', async () => {
    const name = 'snp-v5-turin-vcek-msft'
    const report = reportOf(name)
    const { result, requests } = await withServer(corpusHandler(join(snpRoot, name)), (kds) =>
      kds.vcek(report, 'Turin'),
    )
    assert.deepEqual(result.der, caseFile(name, 'certs/vcek.der'))
    const tcb = report.reportedTcb
    assert.equal(
      requests[0]?.target,
      `/vcek/v1/Turin/${toHex(report.chipId.subarray(0, 8))}?fmcSPL=${tcb[0]}&blSPL=${tcb[1]}&teeSPL=${tcb[2]}&snpSPL=${tcb[3]}&ucodeSPL=${tcb[7]}`,
    )
  })

  it('waits out a 429 with Retry-After, then gets the VCEK', async () => {
    const name = 'snp-v3-genoa-vcek-azure'
    const serve = corpusHandler(join(snpRoot, name))
    let calls = 0
    const throttled: FakeHandler = (url, request) =>
      calls++ === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : serve(url, request)
    const started = performance.now()
    const { result, requests } = await withServer(throttled, (kds) =>
      kds.vcek(reportOf(name), 'Genoa'),
    )
    assert.deepEqual(result.der, caseFile(name, 'certs/vcek.der'))
    assert.equal(requests.length, 2)
    assert.ok(performance.now() - started >= 990)
  })

  it('reads a VCEK sent as PEM', async () => {
    const der = caseFile('snp-v3-genoa-vcek-azure', 'certs/vcek.der')
    const { result } = await withServer(
      () => ({ body: encodePem('CERTIFICATE', der) }),
      (kds) => kds.vcek(reportOf('snp-v3-genoa-vcek-azure'), 'Genoa'),
    )
    assert.deepEqual(result.der, der)
  })

  it('reports 404 for a chip KDS does not know', async () => {
    await assert.rejects(
      withServer(
        () => undefined,
        (kds) => kds.vcek(reportOf('snp-v3-genoa-vcek-azure'), 'Genoa'),
      ),
      { code: 'ERR_COLLATERAL_UNAVAILABLE', status: 404 },
    )
  })

  it('rejects a body that is no certificate', async () => {
    await assert.rejects(
      withServer(
        () => ({ body: 'Internal maintenance' }),
        (kds) => kds.vcek(reportOf('snp-v3-genoa-vcek-azure'), 'Genoa'),
      ),
      { reason: 'malformed' },
    )
  })

  it('cannot ask for the VCEK of a report that masks CHIP_ID', async () => {
    const bytes = caseFile('snp-v3-genoa-vcek-azure', 'report.bin')
    bytes[0x48] = (bytes[0x48] ?? 0) | 0x02
    const report = parseSnpReport(bytes)
    const kds = new KdsClient(http, 'http://127.0.0.1:9')
    assert.equal(kds.vcekUrl(report, 'Genoa'), undefined)
    await assert.rejects(kds.vcek(report, 'Genoa'), { reason: 'unfetchable' })
  })
})

describe('KdsClient.certChain', () => {
  it('fetches the ASK and ARK of a product', async () => {
    const name = 'snp-v3-milan-vcek-msft'
    const { result, requests } = await withServer(corpusHandler(join(snpRoot, name)), (kds) =>
      kds.certChain('Milan', 'vcek'),
    )
    assert.deepEqual(result.pem, caseFile(name, 'certs/ask_ark.pem'))
    assert.deepEqual(
      result.certificates.map((c) => c.commonName),
      ['SEV-Milan', 'ARK-Milan'],
    )
    assert.equal(requests[0]?.target, '/vcek/v1/Milan/cert_chain')
  })

  it('fetches the ASVK and ARK for VLEKs', async () => {
    const name = 'snp-v3-milan-vlek-trustee'
    const { result, requests } = await withServer(corpusHandler(join(snpRoot, name)), (kds) =>
      kds.certChain('Milan', 'vlek'),
    )
    assert.deepEqual(result.pem, caseFile(name, 'certs/asvk_ark.pem'))
    assert.equal(requests[0]?.target, '/vlek/v1/Milan/cert_chain')
  })

  it('rejects a chain that is not two certificates', async () => {
    const pem = caseFile('snp-v3-milan-vcek-msft', 'certs/ask_ark.pem')
    const first = new TextDecoder().decode(pem).split('-----END CERTIFICATE-----')[0]
    await assert.rejects(
      withServer(
        () => ({ body: `${first}-----END CERTIFICATE-----\n` }),
        (kds) => kds.certChain('Milan', 'vcek'),
      ),
      { reason: 'malformed' },
    )
  })
})

describe('KdsClient.crl', () => {
  it('fetches the CRL of a product as DER', async () => {
    const ark = issue({ commonName: 'ARK-Milan', isCa: true, kind: 'P-384' })
    const crl = issueCrl(ark)
    const { result, requests } = await withServer(
      (url) => (url.pathname === '/vcek/v1/Milan/crl' ? { body: crl } : undefined),
      (kds) => kds.crl('Milan', 'vcek'),
    )
    assert.deepEqual(result.der, crl)
    assert.equal(requests[0]?.target, '/vcek/v1/Milan/crl')
  })
})

describe('KdsClient', () => {
  it('defaults to AMD KDS', () => {
    assert.equal(new KdsClient(http).baseUrl, KDS_BASE_URL)
    assert.match(
      new KdsClient(http).vcekUrl(reportOf('snp-v3-genoa-vcek-azure'), 'Genoa') ?? '',
      /^https:\/\/kdsintf\.amd\.com\/vcek\/v1\/Genoa\//,
    )
  })
})
