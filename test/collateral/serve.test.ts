/**
 * `collateral serve` as a library: a folder of bundles indexed by the values the PCS and KDS URLs
 * name, served over HTTP with the vendors' paths and headers, and read back by confide's own
 * clients.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Agent, request } from 'undici'
import { indexCollateral, indexSize } from '../../src/collateral/bundle-index.js'
import { loadCollateralDirectory } from '../../src/collateral/directory.js'
import { createHttpClient } from '../../src/collateral/http.js'
import { KdsClient } from '../../src/collateral/kds.js'
import { PcsClient, pcsEndpoints } from '../../src/collateral/pcs.js'
import { type CollateralServer, serveCollateral } from '../../src/collateral/serve.js'
import { fromHex, toHex } from '../../src/core/bytes.js'
import { CollateralBundle } from '../../src/core/collateral-bundle.js'
import { parseCrl } from '../../src/pki/crl.js'
import { parseSnpReport } from '../../src/platforms/snp/format.js'
import { corpusRoot } from '../helpers/corpus.js'
import { issue, issueCrl } from '../helpers/fake-pki.js'

const dispatcher = new Agent()
const http = createHttpClient({ dispatcher, retryDelayMs: 5, timeoutMs: 2_000, maxAttempts: 1 })
const scratch = mkdtempSync(join(tmpdir(), 'confide-serve-'))

const tinfoil = join(corpusRoot, 'intel-tdx', 'tdx-v4-tinfoil-full-collateral-uptodate')
const sprE4 = join(corpusRoot, 'intel-tdx', 'tdx-v4-gotdxguest-spr-e4-tcb-mismatch')
const sgx = join(corpusRoot, 'intel-sgx', 'sgx-v3-dcapqvl-config-swhardening')
const milan = join(corpusRoot, 'amd-sev-snp', 'snp-v3-milan-vcek-msft')
const vlek = join(corpusRoot, 'amd-sev-snp', 'snp-v3-milan-vlek-trustee')
const arkCrl = issueCrl(issue({ commonName: 'ARK-Milan', isCa: true, kind: 'P-384' }))

function json(path: string): { [key: string]: { [key: string]: unknown } } {
  return JSON.parse(readFileSync(path, 'utf8'))
}

function file(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path))
}

/** Lays out several cases' collateral as one folder of bundles, plus a file that is broken. */
function buildBundleFolder(): string {
  const root = join(scratch, 'bundles')
  cpSync(join(tinfoil, 'collateral'), join(root, 'tinfoil'), { recursive: true })
  cpSync(join(sprE4, 'collateral'), join(root, 'spr-e4'), { recursive: true })
  cpSync(join(sgx, 'collateral'), join(root, 'sgx'), { recursive: true })
  cpSync(join(milan, 'certs'), join(root, 'milan'), { recursive: true })
  cpSync(join(vlek, 'certs'), join(root, 'vlek'), { recursive: true })
  writeFileSync(join(root, 'milan', 'ark_crl.der'), arkCrl)
  mkdirSync(join(root, 'broken'))
  writeFileSync(join(root, 'broken', 'tcb_info.json'), '{"tcbInfo":')
  return root
}

let server: CollateralServer
let pcs: PcsClient
let kds: KdsClient

before(async () => {
  const index = indexCollateral(await loadCollateralDirectory(buildBundleFolder()))
  server = await serveCollateral(index, { port: 0 })
  pcs = new PcsClient(http, pcsEndpoints(server.url))
  kds = new KdsClient(http, server.url)
})

after(async () => {
  await server.close()
  await dispatcher.close()
  rmSync(scratch, { recursive: true, force: true })
})

async function get(path: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const response = await request(`${server.url}${path}`, { method, dispatcher })
  const body = new Uint8Array(await response.body.arrayBuffer())
  return { status: response.statusCode, headers: response.headers, body }
}

describe('indexCollateral', () => {
  it('indexes every item and lists the broken file', async () => {
    const index = indexCollateral(await loadCollateralDirectory(join(scratch, 'bundles')))
    assert.deepEqual(
      [...index.tcbInfo.keys()].sort(),
      [
        `sgx/${String(json(join(sgx, 'collateral', 'tcb_info.json')).tcbInfo?.fmspc).toLowerCase()}`,
        'tdx/50806f000000',
        `tdx/${json(join(tinfoil, 'collateral', 'tcb_info.json')).tcbInfo?.fmspc}`,
      ].sort(),
    )
    assert.deepEqual([...index.qeIdentity.keys()].sort(), ['sgx', 'tdx'])
    assert.deepEqual([...index.amdChains.keys()].sort(), ['vcek/Milan', 'vlek/Milan'])
    assert.deepEqual([...index.amdCrls.keys()], ['Milan'])
    assert.equal(index.vceks.length, 1)
    assert.equal(index.problems.length, 1)
    assert.match(index.problems[0] ?? '', /^broken\/tcb_info\.json: /)
    assert.deepEqual([...index.pckCrl.keys()].sort(), ['platform', 'processor'])
    // 3 TCB infos, 2 QE identities, 2 PCK CRLs, the Root CA CRL, 1 VCEK, 2 chains, 1 AMD CRL.
    assert.equal(indexSize(index), 12)
  })
})

describe('serveCollateral', () => {
  it('serves TCB info with the issuer chain URL-encoded, as PCS does', async () => {
    const fmspc = String(json(join(tinfoil, 'collateral', 'tcb_info.json')).tcbInfo?.fmspc)
    const response = await get(`/tdx/certification/v4/tcb?fmspc=${fmspc.toUpperCase()}`)
    assert.equal(response.status, 200)
    assert.deepEqual(response.body, file(join(tinfoil, 'collateral', 'tcb_info.json')))
    const chain = readFileSync(join(tinfoil, 'collateral', 'tcb_info_issuer_chain.pem'), 'utf8')
    assert.equal(response.headers['tcb-info-issuer-chain'], encodeURIComponent(chain))
    assert.equal(response.headers['sgx-tcb-info-issuer-chain'], encodeURIComponent(chain))
  })

  it('serves confide PCS clients byte for byte', async () => {
    const sgxTcb = json(join(sgx, 'collateral', 'tcb_info.json')).tcbInfo
    const document = await pcs.tcbInfo('sgx', fromHex(String(sgxTcb?.fmspc)))
    assert.deepEqual(document.body, file(join(sgx, 'collateral', 'tcb_info.json')))
    const identity = await pcs.qeIdentity('sgx')
    assert.deepEqual(identity.body, file(join(sgx, 'collateral', 'qe_identity.json')))
    const root = await pcs.rootCaCrl()
    assert.equal(root.crl.issuer.includes('Intel SGX Root CA'), true)
  })

  it('serves the newest of several QE identities', async () => {
    const candidates = [tinfoil, sprE4].map((dir) => join(dir, 'collateral', 'qe_identity.json'))
    const newest = candidates.sort(
      (a, b) =>
        Date.parse(String(json(b).enclaveIdentity?.issueDate)) -
        Date.parse(String(json(a).enclaveIdentity?.issueDate)),
    )[0]!
    assert.deepEqual((await pcs.qeIdentity('tdx')).body, file(newest))
  })

  it('serves PCK CRLs as PEM unless DER is asked for', async () => {
    const pem = await get('/sgx/certification/v4/pckcrl?ca=platform')
    assert.equal(pem.status, 200)
    assert.match(new TextDecoder().decode(pem.body), /^-----BEGIN X509 CRL-----/)
    assert.ok(pem.headers['sgx-pck-crl-issuer-chain'] !== undefined)
    const der = await pcs.pckCrl('platform')
    assert.deepEqual(der.der, parseCrl(pem.body).der)
    assert.equal((await pcs.pckCrl('processor')).crl.issuer.includes('Processor'), true)
  })

  it('serves the Root CA CRL as hex like a PCCS and as DER like Intel', async () => {
    const hex = await get('/sgx/certification/v4/rootcacrl')
    const der = await get('/IntelSGXRootCA.der')
    assert.equal(new TextDecoder().decode(hex.body), toHex(der.body))
  })

  it('serves a VCEK by product, hwID and TCB', async () => {
    const report = parseSnpReport(file(join(milan, 'report.bin')))
    const vcek = await kds.vcek(report, 'Milan')
    assert.deepEqual(vcek.der, file(join(milan, 'certs', 'vcek.der')))
  })

  it('returns 404 for another TCB, 400 without SPL', async () => {
    const report = parseSnpReport(file(join(milan, 'report.bin')))
    const url = new URL(kds.vcekUrl(report, 'Milan') ?? '')
    url.searchParams.set('snpSPL', '250')
    assert.equal((await get(url.pathname + url.search)).status, 404)
    url.searchParams.delete('snpSPL')
    assert.equal((await get(url.pathname + url.search)).status, 400)
  })

  it('serves AMD chains and CRLs', async () => {
    const chain = await kds.certChain('Milan', 'vcek')
    assert.deepEqual(chain.pem, file(join(milan, 'certs', 'ask_ark.pem')))
    const asvk = await kds.certChain('Milan', 'vlek')
    assert.deepEqual(asvk.pem, file(join(vlek, 'certs', 'asvk_ark.pem')))
    assert.deepEqual((await kds.crl('Milan', 'vcek')).der, arkCrl)
    await assert.rejects(kds.certChain('Genoa', 'vcek'), { status: 404 })
  })

  it('returns 404 for unknown FMSPC, 400 for malformed', async () => {
    await assert.rejects(pcs.tcbInfo('tdx', fromHex('ffffffffffff')), { status: 404 })
    assert.equal((await get('/tdx/certification/v4/tcb?fmspc=zz')).status, 400)
    assert.equal((await get('/tdx/certification/v4/tcb')).status, 400)
    assert.equal((await get('/sgx/certification/v4/pckcrl?ca=other')).status, 400)
  })

  it('serves HEAD without body, rejects POST', async () => {
    const head = await get('/IntelSGXRootCA.der', 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.body.length, 0)
    assert.ok(Number(head.headers['content-length']) > 0)
    assert.equal((await get('/IntelSGXRootCA.der', 'POST')).status, 405)
  })

  it('returns 404 outside PCS and KDS paths', async () => {
    assert.equal((await get('/sgx/certification/v4/pckcert')).status, 404)
    assert.equal((await get('/')).status, 404)
  })

  it('returns 400 for a target that is no URL', async () => {
    const rejected: string[] = []
    const index = indexCollateral(new CollateralBundle([]))
    const bare = await serveCollateral(index, {
      port: 0,
      onBadRequest: (target) => rejected.push(target),
    })
    try {
      const { port } = new URL(bare.url)
      const statusLine = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write('GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        )
        let data = ''
        socket.on('data', (chunk) => {
          data += chunk
        })
        socket.on('error', reject)
        socket.on('end', () => resolve(data.split('\r\n')[0] ?? ''))
      })
      assert.equal(statusLine, 'HTTP/1.1 400 Bad Request')
      assert.deepEqual(rejected, ['http://['])
    } finally {
      await bare.close()
    }
  })

  it('listens on loopback by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })
})
