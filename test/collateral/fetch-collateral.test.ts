/**
 * Every SGX, TDX and SEV-SNP case of the corpus verified through the fetch path, with a loopback
 * server standing in for PCS and KDS and serving the case's own collateral, gives the result
 * that verifying with the case's bundle gives. Also: the cache between runs, given files, and
 * evidence that needs nothing.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Agent } from 'undici'
import { fetchCollateral, type ItemOutcome } from '../../src/collateral/fetch-collateral.js'
import { CollateralFetcher } from '../../src/collateral/fetcher.js'
import { createHttpClient } from '../../src/collateral/http.js'
import { KdsClient } from '../../src/collateral/kds.js'
import { PcsClient } from '../../src/collateral/pcs.js'
import type { CollateralSources } from '../../src/collateral/plan.js'
import { CollateralBundle } from '../../src/core/collateral-bundle.js'
import type { VerificationResult } from '../../src/core/types.js'
import { CollateralCache } from '../../src/store/collateral-cache.js'
import { MEMORY_STORE } from '../../src/store/location.js'
import { openStore, type Store } from '../../src/store/open.js'
import { verifyEvidence } from '../../src/verify.js'
import { bundleFromDir, type CorpusCase, corpusCases, readCaseFile } from '../helpers/corpus.js'
import { corpusHandler, type FakeVendor, startFakeVendor } from './fake-vendor.js'

const dispatcher = new Agent()
const http = createHttpClient({ dispatcher, retryDelayMs: 5, timeoutMs: 5_000, maxAttempts: 2 })
const scratch = mkdtempSync(join(tmpdir(), 'confide-fetch-'))
after(async () => {
  await dispatcher.close()
  rmSync(scratch, { recursive: true, force: true })
})

function sourcesFor(server: FakeVendor): CollateralSources {
  const pcs = new PcsClient(http, {
    baseUrl: server.url,
    rootCaCrlUrl: `${server.url}/IntelSGXRootCA.der`,
  })
  return { http, pcs, kds: new KdsClient(http, server.url) }
}

/** Returns the folder of a case's collateral (`collateral/` for Intel, `certs/` for AMD), if any. */
function collateralDir(testCase: CorpusCase): string | undefined {
  return ['collateral', 'certs']
    .map((name) => join(testCase.dir, name))
    .find((dir) => existsSync(dir))
}

function evidenceOf(testCase: CorpusCase): Uint8Array {
  return readCaseFile(testCase, testCase.platform === 'amd-sev-snp' ? 'report.bin' : 'quote.bin')
}

function atOf(testCase: CorpusCase): Date {
  const time = testCase.expect.verification_time
  return time === null ? new Date() : new Date(time)
}

/** What must agree between two results: the verdict, the TCB outcome and every check. */
function summary(result: VerificationResult) {
  return {
    verdict: result.verdict,
    tcbStatus: result.tcbStatus,
    advisories: result.advisories,
    checks: result.checks.map((check) => `${check.name}:${check.status}:${check.code ?? ''}`),
  }
}

async function withStore<T>(location: string, run: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(location)
  try {
    return await run(store)
  } finally {
    await store.close()
  }
}

const cases = [
  ...corpusCases('intel-sgx'),
  ...corpusCases('intel-tdx'),
  ...corpusCases('amd-sev-snp'),
]

describe('fetchCollateral on the corpus', () => {
  for (const testCase of cases) {
    it(`${testCase.name} verifies as with its bundle`, async () => {
      const dir = collateralDir(testCase)
      const bytes = evidenceOf(testCase)
      const at = atOf(testCase)
      const expected = await verifyEvidence(bytes, {
        at,
        ...(dir === undefined ? {} : { collateral: bundleFromDir(dir) }),
      })

      const server = await startFakeVendor(dir === undefined ? () => undefined : corpusHandler(dir))
      try {
        // KDS serves VLEKs only to cloud providers, so the VLEK comes with the evidence.
        const vlek = dir === undefined ? undefined : bundleFromDir(dir).get('vlek.der')
        const fetched = await withStore(MEMORY_STORE, (store) =>
          fetchCollateral(bytes, {
            fetcher: new CollateralFetcher({
              sources: sourcesFor(server),
              cache: new CollateralCache(store),
            }),
            ...(vlek === undefined
              ? {}
              : { collateral: new CollateralBundle([['vlek.der', vlek]]) }),
          }),
        )
        const actual = await verifyEvidence(bytes, { at, collateral: fetched.bundle })
        assert.deepEqual(summary(actual), summary(expected))
        const failed = fetched.outcomes.filter((o) => o.origin === 'failed')
        assert.ok(
          failed.every((o) => o.error?.code === 'ERR_COLLATERAL_UNAVAILABLE'),
          'every failure is ERR_COLLATERAL_UNAVAILABLE',
        )
      } finally {
        await server.close()
      }
    })
  }
})

describe('fetchCollateral', () => {
  const tinfoil = corpusCases('intel-tdx').find(
    (c) => c.name === 'tdx-v4-tinfoil-full-collateral-uptodate',
  )!
  const tinfoilCollateral = join(tinfoil.dir, 'collateral')

  it('serves a second run from the store without the network', async (t) => {
    const location = join(scratch, 'second-run.db')
    const server = await startFakeVendor(corpusHandler(tinfoilCollateral))
    const clock = () => new Date('2026-01-13T00:00:00Z')
    try {
      const run = () =>
        withStore(location, async (store) => {
          const started = performance.now()
          const fetcher = new CollateralFetcher({
            sources: sourcesFor(server),
            cache: new CollateralCache(store),
            clock,
          })
          const result = await fetchCollateral(evidenceOf(tinfoil), { fetcher })
          return { result, ms: performance.now() - started }
        })
      const first = await run()
      const requests = server.requests.length
      const second = await run()
      assert.equal(requests, 4)
      assert.equal(server.requests.length, 4, 'the second run made no request')
      assert.deepEqual(
        second.result.outcomes.map((o) => o.origin),
        ['cache', 'cache', 'cache', 'cache'],
      )
      assert.ok(first.result.complete)
      assert.ok(second.result.complete)
      t.diagnostic(
        `TDX collateral, 4 items: miss ${first.ms.toFixed(1)} ms, hit ${second.ms.toFixed(1)} ms`,
      )
    } finally {
      await server.close()
    }
  })

  it('keeps the files the caller gave', async () => {
    // Another platform's TCB info, so the bundle shows whose file won.
    const other = corpusCases('intel-tdx').find((c) => c.name === 'tdx-v4-dcapqvl-uptodate')!
    const callerTcbInfo = readCaseFile(other, 'collateral/tcb_info.json')
    const collateral = new CollateralBundle([['tcb_info.json', callerTcbInfo]])
    const server = await startFakeVendor(corpusHandler(tinfoilCollateral))
    try {
      const fetcher = new CollateralFetcher({ sources: sourcesFor(server) })
      const result = await fetchCollateral(evidenceOf(tinfoil), { fetcher, collateral })
      const tcb = result.outcomes.find((o) => o.key.startsWith('intel/tcb-info/'))
      assert.deepEqual(tcb?.files, ['tcb_info_issuer_chain.pem'])
      assert.deepEqual(result.bundle.get('tcb_info.json'), callerTcbInfo)
      assert.equal(result.complete, true)
    } finally {
      await server.close()
    }
  })

  it('reports failures as outcomes and calls back once per item', async () => {
    const server = await startFakeVendor(() => ({ status: 503 }))
    try {
      const seen: ItemOutcome[] = []
      const fetcher = new CollateralFetcher({ sources: sourcesFor(server) })
      const result = await fetchCollateral(evidenceOf(tinfoil), {
        fetcher,
        onItem: (outcome) => seen.push(outcome),
      })
      assert.equal(result.complete, false)
      assert.equal(seen.length, 4)
      assert.ok(result.outcomes.every((o) => o.origin === 'failed' && o.error?.code))
      assert.ok(result.outcomes.every((o) => o.url?.startsWith(server.url)))
      const verdict = await verifyEvidence(evidenceOf(tinfoil), {
        at: new Date('2026-01-13T00:00:00Z'),
        collateral: result.bundle,
      })
      assert.equal(verdict.verdict, 'indeterminate')
    } finally {
      await server.close()
    }
  })

  it('finds the product of a version 2 report through its VCEK', async () => {
    const v2 = corpusCases('amd-sev-snp').find((c) => c.name === 'snp-v2-milan-vcek-gosevguest')!
    const server = await startFakeVendor(corpusHandler(join(v2.dir, 'certs')))
    try {
      const fetcher = new CollateralFetcher({ sources: sourcesFor(server) })
      const result = await fetchCollateral(evidenceOf(v2), { fetcher })
      assert.deepEqual(
        result.outcomes.map((o) => [o.key.split('/')[1], o.origin]),
        [
          ['vcek', 'network'],
          ['cert-chain', 'network'],
          ['crl', 'failed'],
        ],
      )
      assert.equal(result.outcomes[1]?.key, 'amd/cert-chain/Milan/vcek')
      assert.equal(result.complete, true, 'the CRL is optional')
    } finally {
      await server.close()
    }
  })

  it('rejects evidence of another TEE before fetching', async () => {
    const fetcher = new CollateralFetcher({ offline: true })
    await assert.rejects(fetchCollateral(evidenceOf(tinfoil), { fetcher, platform: 'sgx' }), {
      code: 'ERR_PARSE_UNSUPPORTED_TEE_TYPE',
    })
  })

  it('needs nothing for a Nitro document', async () => {
    const nitro = corpusCases('aws-nitro').find((c) => c.name === 'nitro-blocky-prod')!
    const fetcher = new CollateralFetcher({ offline: true })
    const result = await fetchCollateral(readCaseFile(nitro, 'attestation_doc.cose'), { fetcher })
    assert.equal(result.platform, 'nitro')
    assert.deepEqual(result.outcomes, [])
    assert.equal(result.bundle.size, 0)
  })
})
