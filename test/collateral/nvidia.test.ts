/**
 * NVIDIA collateral: planning from the corpus report, fetching RIMs from a loopback RIM service
 * and OCSP responses from a loopback responder into a bundle that verifies, the cache, a RIM the
 * service does not have, and offline use.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Agent } from 'undici'
import { fetchCollateral } from '../../src/collateral/fetch-collateral.js'
import { CollateralFetcher } from '../../src/collateral/fetcher.js'
import { createHttpClient } from '../../src/collateral/http.js'
import { KdsClient } from '../../src/collateral/kds.js'
import { planNvidiaCollateral } from '../../src/collateral/nvidia-plan.js'
import { PcsClient } from '../../src/collateral/pcs.js'
import type { CollateralSources } from '../../src/collateral/plan.js'
import { toBase64 } from '../../src/core/bytes.js'
import { VerificationCache } from '../../src/core/cache.js'
import { CollateralBundle } from '../../src/core/collateral-bundle.js'
import type { VerificationResult } from '../../src/core/types.js'
import { createNodeCrypto } from '../../src/crypto/node.js'
import { parseCertificate } from '../../src/pki/certificate.js'
import { nvidiaPlatform, ocspFileName } from '../../src/platforms/nvidia/index.js'
import { CollateralCache } from '../../src/store/collateral-cache.js'
import { MEMORY_STORE } from '../../src/store/location.js'
import { openStore, type Store } from '../../src/store/open.js'
import { bundleFromDir, corpusCases, readCaseFile } from '../helpers/corpus.js'
import { buildRim, createFakeRimPki } from '../helpers/fake-nvidia.js'
import { startFakeOcspResponder } from '../helpers/fake-ocsp.js'
import { type FakeVendor, startFakeVendor } from './fake-vendor.js'

const DRIVER_ID = 'NV_GPU_DRIVER_GH100_550.90.07'
const VBIOS_ID = 'NV_GPU_VBIOS_1010_0200_882_96009F0001'

const sample = corpusCases('nvidia-gpu').find((c) => c.name === 'h100-nvtrust-sample')!
const report = readCaseFile(sample, 'attestation_report.hex')
const pki = createFakeRimPki()
/** One inactive measurement: the RIMs stand for the files the service serves, not the report's values. */
const INACTIVE = [{ index: 0, active: false, values: [new Uint8Array(48)] }]
const rims = new Map([
  [DRIVER_ID, buildRim({ version: '550.90.07', entries: INACTIVE, pki })],
  [VBIOS_ID, buildRim({ version: '96.00.9f.00.01', entries: INACTIVE, pki })],
])
const signerResponse = ocspFileName(serialOf(pki.signer))
const dispatcher = new Agent()
const http = createHttpClient({ dispatcher, retryDelayMs: 5, timeoutMs: 5_000, maxAttempts: 2 })
let store: Store
after(async () => {
  await dispatcher.close()
})
before(async () => {
  store = await openStore(MEMORY_STORE)
})
after(async () => {
  await store.close()
})

/** Starts a RIM service on loopback that serves `known` under `/v1/rim/<id>`, and 404 otherwise. */
function startRimService(known: ReadonlyMap<string, Uint8Array>): Promise<FakeVendor> {
  return startFakeVendor((url) => {
    const match = /^\/v1\/rim\/(.+)$/.exec(url.pathname)
    const rim = match === null ? undefined : known.get(decodeURIComponent(match[1]!))
    if (rim === undefined) return undefined
    const body = JSON.stringify({ id: match![1], rim: toBase64(rim) })
    return { headers: { 'content-type': 'application/json' }, body }
  })
}

function sourcesFor(rimService: FakeVendor, ocspUrl: string): CollateralSources {
  const pcs = new PcsClient(http, {
    baseUrl: rimService.url,
    rootCaCrlUrl: `${rimService.url}/IntelSGXRootCA.der`,
  })
  const nvidia = { rimUrl: `${rimService.url}/v1/rim`, ocspUrl }
  return { http, pcs, kds: new KdsClient(http, rimService.url), nvidia }
}

function verify(bundle: CollateralBundle, at = new Date()): Promise<VerificationResult> {
  const platform = nvidiaPlatform({ rimTrustAnchors: [pki.root.der] })
  return platform.verify(platform.parse(report), {
    at,
    collateral: bundle,
    crypto: createNodeCrypto(),
    cache: new VerificationCache(),
  })
}

function serialOf(issued: { readonly der: Uint8Array }): string {
  return parseCertificate(issued.der).serialNumber
}

function statusOf(result: VerificationResult, name: string): string | undefined {
  return result.checks.find((check) => check.name === name)?.status
}

describe('planNvidiaCollateral', () => {
  it('plans RIMs and device OCSP', () => {
    const items = planNvidiaCollateral(report, bundleFromDir(sample.dir))
    const keys = items.map((item) => item.key)
    assert.deepEqual(
      keys.filter((key) => key.startsWith('nvidia/rim/')),
      [`nvidia/rim/${DRIVER_ID}`, `nvidia/rim/${VBIOS_ID}`],
    )
    const ocsp = items.filter((item) => item.key.startsWith('nvidia/ocsp/'))
    // Five certificates: neither the leaf (made at boot) nor the root is queried.
    assert.equal(ocsp.length, 3)
    assert.ok(ocsp.every((item) => item.optional))
  })

  it('skips a RIM already given', () => {
    const corpusBundle = bundleFromDir(sample.dir)
    const files = new Map([[`${DRIVER_ID}.swidtag`, rims.get(DRIVER_ID)!]])
    for (const path of corpusBundle.find(/(?:)/)) files.set(path, corpusBundle.get(path)!)
    const keys = planNvidiaCollateral(report, new CollateralBundle(files)).map((item) => item.key)
    assert.ok(!keys.includes(`nvidia/rim/${DRIVER_ID}`))
    assert.ok(keys.includes(`nvidia/rim/${VBIOS_ID}`))
    // The RIM in the bundle brings its signing chain: its CA and signer are queried.
    assert.equal(keys.filter((key) => key.startsWith('nvidia/ocsp/')).length, 5)
  })
})

describe('fetchCollateral for NVIDIA reports', () => {
  it('fetches, verifies, then hits the cache', async () => {
    const rimService = await startRimService(rims)
    const responder = await startFakeOcspResponder([pki.root, pki.ca])
    try {
      const fetcher = new CollateralFetcher({
        sources: sourcesFor(rimService, responder.url),
        cache: new CollateralCache(store),
      })
      const collateral = bundleFromDir(sample.dir)
      const first = await fetchCollateral(report, { fetcher, collateral })
      assert.equal(first.platform, 'nvidia')
      assert.equal(first.complete, true)
      assert.ok(first.bundle.get(`${DRIVER_ID}.swidtag`) !== undefined)
      assert.ok(first.bundle.get(`${VBIOS_ID}.swidtag`) !== undefined)
      assert.ok(first.bundle.get(signerResponse) !== undefined, 'the RIM signer has a response')
      assert.ok(
        first.bundle.get(ocspFileName(serialOf(pki.ca))) !== undefined,
        'the RIM CA has a response',
      )
      // The responder has no key of NVIDIA's device issuers, so those optional items fail.
      const device = first.outcomes.filter((o) => o.origin === 'failed')
      assert.equal(device.length, 3)
      assert.ok(device.every((o) => o.optional))
      assert.ok(device.every((o) => o.error?.code === 'ERR_COLLATERAL_UNAVAILABLE'))

      const result = await verify(first.bundle)
      assert.equal(statusOf(result, 'driver-rim'), 'pass')
      assert.equal(statusOf(result, 'vbios-rim'), 'pass')
      assert.equal(statusOf(result, 'rim-ocsp'), 'pass')
      assert.equal(statusOf(result, 'device-ocsp'), 'skipped')
      assert.equal(result.verdict, 'indeterminate')

      const rimRequests = rimService.count('/v1/rim/')
      const second = await fetchCollateral(report, { fetcher, collateral })
      assert.equal(rimService.count('/v1/rim/'), rimRequests, 'RIMs come from the cache')
      const cached = second.outcomes.filter((o) => o.origin === 'cache').map((o) => o.key)
      assert.equal(cached.length, 4, 'two RIMs and two OCSP responses')
      assert.deepEqual(second.bundle.get(signerResponse), first.bundle.get(signerResponse))
    } finally {
      await rimService.close()
      await responder.close()
    }
  })

  it('unknown RIM is indeterminate', async () => {
    const rimService = await startRimService(new Map([[DRIVER_ID, rims.get(DRIVER_ID)!]]))
    const responder = await startFakeOcspResponder([pki.root, pki.ca])
    try {
      const fetcher = new CollateralFetcher({ sources: sourcesFor(rimService, responder.url) })
      const result = await fetchCollateral(report, {
        fetcher,
        collateral: bundleFromDir(sample.dir),
      })
      const vbios = result.outcomes.find((o) => o.key === `nvidia/rim/${VBIOS_ID}`)
      assert.equal(vbios?.origin, 'failed')
      assert.match(vbios?.error?.message ?? '', /404/)
      assert.equal(result.complete, false)

      const verified = await verify(result.bundle)
      assert.equal(statusOf(verified, 'driver-rim'), 'pass')
      assert.equal(statusOf(verified, 'vbios-rim'), 'skipped')
      assert.equal(verified.verdict, 'indeterminate')
    } finally {
      await rimService.close()
      await responder.close()
    }
  })

  it('OCSP revoked and stale', async () => {
    const rimService = await startRimService(rims)
    const responder = await startFakeOcspResponder([pki.root, pki.ca])
    responder.behave({ statuses: new Map([[serialOf(pki.signer), 'revoked']]) })
    try {
      const fetcher = new CollateralFetcher({ sources: sourcesFor(rimService, responder.url) })
      const { bundle } = await fetchCollateral(report, {
        fetcher,
        collateral: bundleFromDir(sample.dir),
      })
      const revoked = await verify(bundle)
      assert.equal(statusOf(revoked, 'rim-ocsp'), 'fail')
      assert.equal(revoked.verdict, 'invalid')
      // The responder's nextUpdate is an hour ahead: a day later the response is stale.
      const later = await verify(bundle, new Date(Date.now() + 24 * 60 * 60 * 1000))
      assert.equal(statusOf(later, 'rim-ocsp'), 'skipped')
      assert.match(
        later.checks.find((check) => check.name === 'rim-ocsp')?.detail ?? '',
        /is current from/,
      )
    } finally {
      await rimService.close()
      await responder.close()
    }
  })

  it('never fetches offline', async () => {
    const fetcher = new CollateralFetcher({ offline: true })
    const result = await fetchCollateral(report, {
      fetcher,
      collateral: bundleFromDir(sample.dir),
    })
    assert.ok(result.outcomes.length > 0)
    assert.ok(result.outcomes.every((o) => o.origin === 'failed'))
    assert.match(result.outcomes[0]?.error?.message ?? '', /offline/)
  })
})
