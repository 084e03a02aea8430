/**
 * The broker's verification in the service: collateral fetched through the cache from a loopback
 * PCS serving a corpus case's files, and the sim key trusted for sim evidence only.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Agent } from 'undici'
import { CollateralFetcher } from '../../src/collateral/fetcher.js'
import { createHttpClient } from '../../src/collateral/http.js'
import { KdsClient } from '../../src/collateral/kds.js'
import { PcsClient } from '../../src/collateral/pcs.js'
import { createKbsVerifier } from '../../src/server/kbs-verify.js'
import { createServerMetrics } from '../../src/server/metrics.js'
import { CollateralCache } from '../../src/store/collateral-cache.js'
import { openStore } from '../../src/store/open.js'
import { corpusHandler, startFakeVendor } from '../collateral/fake-vendor.js'
import { corpusCases, readCaseFile } from '../helpers/corpus.js'

const dispatcher = new Agent()
const http = createHttpClient({ dispatcher, retryDelayMs: 5, timeoutMs: 5_000, maxAttempts: 2 })
after(() => dispatcher.close())

const tinfoil = corpusCases('intel-tdx').find(
  (c) => c.name === 'tdx-v4-tinfoil-full-collateral-uptodate',
)!
const at = new Date('2026-01-13T00:00:00Z')

describe('createKbsVerifier', () => {
  it('fetches the collateral a TDX quote needs', async () => {
    const server = await startFakeVendor(corpusHandler(`${tinfoil.dir}/collateral`))
    const store = await openStore(':memory:')
    try {
      const pcs = new PcsClient(http, {
        baseUrl: server.url,
        rootCaCrlUrl: `${server.url}/IntelSGXRootCA.der`,
      })
      const fetcher = new CollateralFetcher({
        sources: { http, pcs, kds: new KdsClient(http, server.url) },
        cache: new CollateralCache(store),
        clock: () => at,
      })
      const metrics = createServerMetrics()
      const verify = createKbsVerifier({ collateral: fetcher, metrics })
      const quote = readCaseFile(tinfoil, 'quote.bin')

      const first = await verify(quote, 'tdx', { at })
      assert.equal(first.verdict, 'valid')
      assert.equal(first.tcbStatus, 'UpToDate')
      const second = await verify(quote, 'tdx', { at })
      assert.equal(second.verdict, 'valid')
      const counted = await metrics.registry.getSingleMetricAsString(
        'confide_collateral_items_total',
      )
      assert.match(counted, /origin="cache"\} 4/)
    } finally {
      await store.close()
      await server.close()
    }
  })

  it('leaves a quote indeterminate without a fetcher', async () => {
    const verify = createKbsVerifier({})
    const result = await verify(readCaseFile(tinfoil, 'quote.bin'), 'tdx', { at })
    assert.equal(result.verdict, 'indeterminate')
  })

  it('rejects a quote sent as another TEE', async () => {
    const verify = createKbsVerifier({})
    await assert.rejects(verify(readCaseFile(tinfoil, 'quote.bin'), 'snp', { at }))
  })
})
