/**
 * The Intel PCS / PCCS client against a loopback server that replays PCS v4 responses as Intel
 * sent them (URL-encoded issuer chains, exact bodies) and corpus collateral under the PCS paths.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Agent } from 'undici'
import { createHttpClient } from '../../src/collateral/http.js'
import {
  INTEL_PCS_URL,
  INTEL_ROOT_CA_CRL_URL,
  PcsClient,
  pcsEndpoints,
} from '../../src/collateral/pcs.js'
import { encodePem, fromHex, toHex } from '../../src/core/bytes.js'
import { parseCertificateChain } from '../../src/platforms/dcap/collateral.js'
import { corpusRoot, interopRoot } from '../helpers/corpus.js'
import { corpusHandler, type FakeHandler, type FakeVendor, startFakeVendor } from './fake-vendor.js'

const dispatcher = new Agent()
const http = createHttpClient({ dispatcher, retryDelayMs: 5, timeoutMs: 2_000, maxAttempts: 2 })
after(() => dispatcher.close())

const pcsRoot = join(interopRoot, 'intel-pcs')

interface Replayed {
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: Uint8Array
}

/** Reads the PCS v4 responses of the interop cases, keyed by path and query. */
function interopResponses(): Map<string, Replayed> {
  const responses = new Map<string, Replayed>()
  for (const name of readdirSync(pcsRoot)) {
    const dir = join(pcsRoot, name)
    const recorded = JSON.parse(readFileSync(join(dir, 'headers.json'), 'utf8'))
    const bodyFile = ['body.json', 'body.der'].find((file) => existsSync(join(dir, file)))!
    const url = new URL(recorded.url)
    responses.set(url.pathname + url.search, {
      url: recorded.url,
      headers: recorded.headers,
      body: new Uint8Array(readFileSync(join(dir, bodyFile))),
    })
  }
  return responses
}

const replayed = interopResponses()
const replay: FakeHandler = (url) => {
  const response = replayed.get(url.pathname + url.search)
  return response === undefined ? undefined : { headers: response.headers, body: response.body }
}

function client(server: FakeVendor): PcsClient {
  return new PcsClient(http, {
    baseUrl: server.url,
    rootCaCrlUrl: `${server.url}/IntelSGXRootCA.der`,
  })
}

function recorded(path: string): Replayed {
  const response = replayed.get(path)
  assert.ok(response !== undefined, `the interop set has ${path}`)
  return response
}

function chainDer(pem: Uint8Array): string[] {
  return parseCertificateChain(pem, 'IssuerChain').map((certificate) => toHex(certificate.der))
}

describe('PcsClient with recorded PCS responses', () => {
  let server: FakeVendor
  before(async () => {
    server = await startFakeVendor(replay)
  })
  after(() => server.close())

  for (const fmspc of ['50806f000000', '90c06f000000']) {
    it(`fetches TDX TCB info for FMSPC ${fmspc} exactly as sent`, async () => {
      const path = `/tdx/certification/v4/tcb?fmspc=${fmspc}`
      const document = await client(server).tcbInfo('tdx', fromHex(fmspc))
      const expected = recorded(path)
      assert.deepEqual(document.body, expected.body)
      const header = expected.headers['TCB-Info-Issuer-Chain'] ?? ''
      assert.equal(new TextDecoder().decode(document.issuerChain), decodeURIComponent(header))
      const pem = join(pcsRoot, `gotdxguest-tdx-tcb-fmspc-${fmspc}`, 'issuer-chain.pem')
      assert.deepEqual(chainDer(document.issuerChain), chainDer(readFileSync(pem)))
      assert.equal(server.requests.at(-1)?.target, path)
      assert.equal(document.url, `${server.url}${path}`)
      assert.ok(document.nextUpdate instanceof Date)
    })
  }

  it('fetches the TD QE identity with its issuer chain', async () => {
    const path = '/tdx/certification/v4/qe/identity'
    const document = await client(server).qeIdentity('tdx')
    assert.deepEqual(document.body, recorded(path).body)
    const pem = readFileSync(join(pcsRoot, 'gotdxguest-tdx-qe-identity', 'issuer-chain.pem'))
    assert.deepEqual(chainDer(document.issuerChain), chainDer(pem))
    assert.equal(server.requests.at(-1)?.target, path)
  })

  it('fetches the PCK Platform CA CRL as DER', async () => {
    const path = '/sgx/certification/v4/pckcrl?ca=platform&encoding=der'
    const crl = await client(server).pckCrl('platform')
    assert.deepEqual(crl.der, recorded(path).body)
    assert.match(crl.crl.issuer, /PCK Platform CA/)
    assert.ok(crl.issuerChain !== undefined)
    assert.equal(server.requests.at(-1)?.target, path)
  })

  it('fetches the Root CA CRL from its own URL', async () => {
    const crl = await client(server).rootCaCrl()
    assert.deepEqual(crl.der, recorded('/IntelSGXRootCA.der').body)
    assert.equal(crl.issuerChain, undefined)
  })

  it('reports 404 for an FMSPC PCS does not know', async () => {
    await assert.rejects(client(server).tcbInfo('tdx', fromHex('ffffffffffff')), {
      code: 'ERR_COLLATERAL_UNAVAILABLE',
      reason: 'status',
      status: 404,
    })
  })
})

describe('PcsClient with faulty servers', () => {
  const tcb50806f = recorded('/tdx/certification/v4/tcb?fmspc=50806f000000')
  const tcb90c06f = recorded('/tdx/certification/v4/tcb?fmspc=90c06f000000')

  async function tcbInfoFrom(handler: FakeHandler, fmspc = '50806f000000') {
    const server = await startFakeVendor(handler)
    try {
      return await client(server).tcbInfo('tdx', fromHex(fmspc))
    } finally {
      await server.close()
    }
  }

  it('rejects TCB info for another FMSPC', async () => {
    const wrong = () => ({ headers: tcb90c06f.headers, body: tcb90c06f.body })
    await assert.rejects(tcbInfoFrom(wrong), { reason: 'malformed' })
  })

  it('rejects SGX TCB info asked as TDX', async () => {
    const sgx = readFileSync(
      join(
        corpusRoot,
        'intel-sgx',
        'sgx-v3-dcapqvl-config-swhardening',
        'collateral',
        'tcb_info.json',
      ),
    )
    const fmspc = JSON.parse(sgx.toString()).tcbInfo.fmspc
    const handler = () => ({ headers: tcb50806f.headers, body: sgx })
    await assert.rejects(tcbInfoFrom(handler, fmspc), { reason: 'malformed' })
  })

  it('rejects a response without the issuer-chain header', async () => {
    await assert.rejects(
      tcbInfoFrom(() => ({ body: tcb50806f.body })),
      { reason: 'malformed' },
    )
  })

  it('rejects an issuer-chain header without certificates', async () => {
    const headers = { 'TCB-Info-Issuer-Chain': 'not%20a%20chain' }
    await assert.rejects(
      tcbInfoFrom(() => ({ headers, body: tcb50806f.body })),
      {
        reason: 'malformed',
      },
    )
  })

  it('rejects a body that is not TCB info', async () => {
    const handler = () => ({ headers: tcb50806f.headers, body: '{"error":"maintenance"}' })
    await assert.rejects(tcbInfoFrom(handler), { reason: 'malformed' })
  })

  it('accepts the SGX- header name of PCS v3 and PCCS', async () => {
    const headers = { 'SGX-TCB-Info-Issuer-Chain': tcb50806f.headers['TCB-Info-Issuer-Chain']! }
    const document = await tcbInfoFrom(() => ({ headers, body: tcb50806f.body }))
    assert.deepEqual(document.body, tcb50806f.body)
  })

  it('retries a server error and then succeeds', async () => {
    let calls = 0
    const handler = () =>
      calls++ === 0 ? { status: 503 } : { headers: tcb50806f.headers, body: tcb50806f.body }
    const document = await tcbInfoFrom(handler)
    assert.deepEqual(document.body, tcb50806f.body)
    assert.equal(calls, 2)
  })

  it('fails on a body that is always cut short', async () => {
    const handler = () => ({ headers: tcb50806f.headers, body: tcb50806f.body, truncateAt: 100 })
    await assert.rejects(tcbInfoFrom(handler), { reason: 'network', attempts: 2 })
  })

  it('reads a PCK CRL sent as PEM or hex text', async () => {
    const der = recorded('/sgx/certification/v4/pckcrl?ca=platform&encoding=der')
    for (const body of [encodePem('X509 CRL', der.body), toHex(der.body)]) {
      const server = await startFakeVendor(() => ({ headers: der.headers, body }))
      try {
        assert.deepEqual((await client(server).pckCrl('platform')).der, der.body)
      } finally {
        await server.close()
      }
    }
  })

  it('reads the Root CA CRL a PCCS sends as hex', async () => {
    const root = recorded('/IntelSGXRootCA.der').body
    const server = await startFakeVendor((url) =>
      url.pathname === '/sgx/certification/v4/rootcacrl' ? { body: toHex(root) } : undefined,
    )
    try {
      const pccs = new PcsClient(http, pcsEndpoints(server.url))
      assert.deepEqual((await pccs.rootCaCrl()).der, root)
    } finally {
      await server.close()
    }
  })
})

describe('PcsClient with corpus collateral', () => {
  it('fetches SGX TCB info and QE identity under the sgx paths', async () => {
    const dir = join(corpusRoot, 'intel-sgx', 'sgx-v3-dcapqvl-config-swhardening')
    const tcb = readFileSync(join(dir, 'collateral', 'tcb_info.json'))
    const server = await startFakeVendor(corpusHandler(join(dir, 'collateral')))
    try {
      const fmspc = fromHex(JSON.parse(tcb.toString()).tcbInfo.fmspc)
      const document = await client(server).tcbInfo('sgx', fmspc)
      assert.deepEqual(document.body, new Uint8Array(tcb))
      const identity = await client(server).qeIdentity('sgx')
      assert.deepEqual(
        identity.body,
        new Uint8Array(readFileSync(join(dir, 'collateral', 'qe_identity.json'))),
      )
      assert.deepEqual(
        server.requests.map((r) => r.target.replace(/\?.*/, '')),
        ['/sgx/certification/v4/tcb', '/sgx/certification/v4/qe/identity'],
      )
    } finally {
      await server.close()
    }
  })
})

describe('pcsEndpoints', () => {
  it('points at Intel PCS by default', () => {
    assert.deepEqual(pcsEndpoints(), {
      baseUrl: INTEL_PCS_URL,
      rootCaCrlUrl: INTEL_ROOT_CA_CRL_URL,
    })
  })

  it('takes the Root CA CRL from a PCCS', () => {
    assert.deepEqual(pcsEndpoints('https://pccs.test:8081'), {
      baseUrl: 'https://pccs.test:8081',
      rootCaCrlUrl: 'https://pccs.test:8081/sgx/certification/v4/rootcacrl',
    })
  })
})
