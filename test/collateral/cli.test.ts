/**
 * The collateral commands as a user runs them: `collateral fetch` into bundles that
 * `verify --collateral` reads back, `verify` fetching what is missing, `--offline` never touching
 * the network, and `collateral serve` serving the PCS paths. Every server is on loopback.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FetchProgress } from '../../src/cli/collateral.js'
import { corpusRoot, repositoryRoot } from '../helpers/corpus.js'
import { corpusHandler, type FakeHandler, failIfContacted, startFakeVendor } from './fake-vendor.js'

const cli = join(repositoryRoot, 'dist', 'src', 'cli', 'main.js')
const scratch = mkdtempSync(join(tmpdir(), 'confide-collateral-cli-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

const tdx = join(corpusRoot, 'intel-tdx', 'tdx-v4-tinfoil-full-collateral-uptodate')
const tdxAt = '2026-01-13T00:00:00Z'
const snp = join(corpusRoot, 'amd-sev-snp', 'snp-v3-milan-vcek-msft')
const snpAt: string = JSON.parse(readFileSync(join(snp, 'expect.json'), 'utf8')).verification_time

let stores = 0

/** Returns an environment without proxies, with a fresh store and data folder in the scratch folder. */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  stores++
  return {
    ...process.env,
    HTTP_PROXY: '',
    HTTPS_PROXY: '',
    http_proxy: '',
    https_proxy: '',
    NO_PROXY: '',
    XDG_DATA_HOME: join(scratch, `data-${stores}`),
    CONFIDE_STORE: join(scratch, `store-${stores}.db`),
    CONFIDE_PCCS_URL: '',
    CONFIDE_KDS_URL: '',
    ...extra,
  }
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI without blocking, so the test's own servers keep responding. */
function run(args: readonly string[], env: NodeJS.ProcessEnv = environment()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Serves both corpus cases at once, as PCS and KDS would from one host. */
function bothCases(): FakeHandler {
  const intel = corpusHandler(join(tdx, 'collateral'))
  const amd = corpusHandler(join(snp, 'certs'))
  return (url, request) => intel(url, request) ?? amd(url, request)
}

describe('confide collateral fetch', () => {
  it('writes one bundle per file that verify --collateral reads offline', async () => {
    const server = await startFakeVendor(bothCases())
    const out = join(scratch, 'bundles')
    try {
      const fetched = await run([
        'collateral',
        'fetch',
        join(tdx, 'quote.bin'),
        join(snp, 'report.bin'),
        '--out',
        out,
        '--pccs',
        server.url,
        '--kds',
        server.url,
      ])
      assert.equal(fetched.code, 0, fetched.stderr)
      assert.deepEqual(readdirSync(out).sort(), ['quote', 'report'])
      assert.deepEqual(readdirSync(join(out, 'quote')).sort(), [
        'pck_crl.der',
        'pck_crl_issuer_chain.pem',
        'qe_identity.json',
        'qe_identity_issuer_chain.pem',
        'root_ca_crl.der',
        'tcb_info.json',
        'tcb_info_issuer_chain.pem',
      ])
      assert.deepEqual(readdirSync(join(out, 'report')).sort(), ['ask_ark.pem', 'vcek.der'])
      // Not a terminal: one plain line per item, no bar.
      assert.match(fetched.stderr, /quote\.bin: TDX TCB info for FMSPC [0-9a-f]{12} from network\n/)
      assert.match(fetched.stderr, /CRL of revoked ASKs not available \(optional\)/)
      assert.doesNotMatch(fetched.stderr, /\r/)

      const offline = environment({ CONFIDE_PCCS_URL: 'http://127.0.0.1:9' })
      const tdxVerdict = await run(
        [
          'verify',
          join(tdx, 'quote.bin'),
          '--collateral',
          join(out, 'quote'),
          '--offline',
          '--at',
          tdxAt,
        ],
        offline,
      )
      assert.equal(tdxVerdict.code, 0, tdxVerdict.stdout)
      const snpVerdict = await run(
        [
          'verify',
          join(snp, 'report.bin'),
          '--collateral',
          join(out, 'report'),
          '--offline',
          '--at',
          snpAt,
        ],
        offline,
      )
      assert.equal(snpVerdict.code, 0, snpVerdict.stdout)
    } finally {
      await server.close()
    }
  })

  it('exits 3 and names the URL when PCS does not know the FMSPC', async () => {
    const server = await startFakeVendor(() => undefined)
    try {
      const fetched = await run([
        'collateral',
        'fetch',
        join(tdx, 'quote.bin'),
        '--out',
        join(scratch, 'failed'),
        '--pccs',
        server.url,
      ])
      assert.equal(fetched.code, 3)
      assert.match(fetched.stdout, /INCOMPLETE/)
      assert.ok(fetched.stdout.includes(`${server.url}/tdx/certification/v4/tcb?fmspc=`))
      assert.match(fetched.stdout, /HTTP 404/)
    } finally {
      await server.close()
    }
  })

  it('exits 2 for a file that is no evidence', async () => {
    const fetched = await run([
      'collateral',
      'fetch',
      join(tdx, 'expect.json'),
      '--out',
      join(scratch, 'none'),
      '--offline',
    ])
    assert.equal(fetched.code, 2)
    assert.match(fetched.stdout, /ERR_PARSE_UNKNOWN_FORMAT/)
  })
})

describe('confide verify fetching collateral', () => {
  it('fetches what is missing', async () => {
    const server = await startFakeVendor(corpusHandler(join(tdx, 'collateral')))
    const env = environment({ CONFIDE_PCCS_URL: server.url })
    try {
      const result = await run(['verify', join(tdx, 'quote.bin'), '--at', tdxAt], env)
      assert.equal(result.code, 0, result.stdout + result.stderr)
      assert.match(result.stdout, /tcb status +UpToDate/)
      assert.equal(server.requests.length, 4)
      assert.ok(existsSync(String(env.CONFIDE_STORE)))
    } finally {
      await server.close()
    }
  })

  it('serves the next run from the store until the items expire', async () => {
    // The VCEK and the chain stay fresh for years. The corpus has no CRL, so KDS returns 404 for
    // it each time, and because a failure is not stored the CRL is requested again.
    const server = await startFakeVendor(corpusHandler(join(snp, 'certs')))
    const env = environment({ CONFIDE_KDS_URL: server.url })
    const stored = () => server.requests.filter((r) => !r.target.endsWith('/crl')).length
    try {
      const first = await run(['verify', join(snp, 'report.bin'), '--at', snpAt], env)
      assert.equal(first.code, 0, first.stdout + first.stderr)
      assert.equal(stored(), 2)
      const second = await run(['verify', join(snp, 'report.bin'), '--at', snpAt], env)
      assert.equal(second.code, 0)
      assert.equal(stored(), 2, 'the VCEK and chain came from the store')
      assert.equal(server.count('/vcek/v1/Milan/crl'), 2)
    } finally {
      await server.close()
    }
  })

  it('never touches the network with --offline', async () => {
    const contacted: string[] = []
    const server = await startFakeVendor(failIfContacted((target) => contacted.push(target)))
    const env = environment({ CONFIDE_PCCS_URL: server.url, CONFIDE_KDS_URL: server.url })
    try {
      const quote = await run(['verify', join(tdx, 'quote.bin'), '--offline', '--at', tdxAt], env)
      assert.equal(quote.code, 3)
      assert.match(quote.stdout, /skip {2}tcb-info/)
      const report = await run(['verify', join(snp, 'report.bin'), '--offline', '--at', snpAt], env)
      assert.equal(report.code, 3)
      assert.deepEqual(contacted, [])
      assert.equal(existsSync(String(env.CONFIDE_STORE)), false, '--offline created no store')
    } finally {
      await server.close()
    }
  })

  it('rejects bad options before fetching', async () => {
    const contacted: string[] = []
    const server = await startFakeVendor(failIfContacted((target) => contacted.push(target)))
    const env = environment({ CONFIDE_PCCS_URL: server.url })
    try {
      const quote = join(tdx, 'quote.bin')
      const nonce = await run(['verify', quote, '--nonce', '00', '--at', tdxAt], env)
      assert.equal(nonce.code, 2)
      assert.equal(nonce.stderr.trim().split('\n').length, 1, nonce.stderr)
      const named = await run(['verify', quote, '--platform', 'sgx', '--at', tdxAt], env)
      assert.equal(named.code, 2)
      assert.equal(named.stderr.trim().split('\n').length, 1, named.stderr)
      assert.deepEqual(contacted, [])
    } finally {
      await server.close()
    }
  })

  it('uses expired cached collateral only with --allow-stale-collateral', async () => {
    // The corpus collateral is past its next-update time, so the store keeps it as expired.
    let available = true
    const serve = corpusHandler(join(tdx, 'collateral'))
    const server = await startFakeVendor((url, request) =>
      available ? serve(url, request) : undefined,
    )
    const env = environment({ CONFIDE_PCCS_URL: server.url })
    const args = ['verify', join(tdx, 'quote.bin'), '--at', tdxAt]
    try {
      assert.equal((await run(args, env)).code, 0)
      available = false
      const strict = await run(args, env)
      assert.equal(strict.code, 3)
      const stale = await run([...args, '--allow-stale-collateral'], env)
      assert.equal(stale.code, 0, stale.stdout)
      assert.match(stale.stderr, /using an expired copy of TDX TCB info/)
    } finally {
      await server.close()
    }
  })

  it('does not fetch when --collateral is complete', async () => {
    const contacted: string[] = []
    const server = await startFakeVendor(failIfContacted((target) => contacted.push(target)))
    try {
      const env = environment({ CONFIDE_PCCS_URL: server.url })
      const args = ['verify', join(tdx, 'quote.bin'), '--collateral', join(tdx, 'collateral')]
      const result = await run([...args, '--at', tdxAt], env)
      assert.equal(result.code, 0)
      assert.deepEqual(contacted, [])
    } finally {
      await server.close()
    }
  })

  it('exits 3, not 1, when the collateral is not found', async () => {
    const server = await startFakeVendor(() => undefined)
    try {
      const result = await run(
        ['verify', join(tdx, 'quote.bin'), '--pccs', server.url, '--at', tdxAt],
        environment(),
      )
      assert.equal(result.code, 3)
      assert.match(result.stderr, /HTTP 404.*ERR_COLLATERAL_UNAVAILABLE/)
    } finally {
      await server.close()
    }
  })

  it('exits 2 for a --pccs URL that is not http or https', async () => {
    const result = await run(['verify', join(tdx, 'quote.bin'), '--pccs', 'ftp://pccs.test'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /--pccs ftp:\/\/pccs\.test is not an http or https URL/)
  })
})

describe('confide collateral serve', () => {
  it('serves the PCS paths until stopped', async () => {
    const child = spawn(
      process.execPath,
      [cli, 'collateral', 'serve', join(tdx, 'collateral'), '--port', '0'],
      { env: environment() },
    )
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = ''
        child.stdout.on('data', (chunk) => {
          output += chunk
          const match = /at (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output)
          if (match?.[1] !== undefined) resolve(match[1])
        })
        child.on('error', reject)
        child.on('close', (code) => reject(new Error(`serve exited with ${code}: ${output}`)))
      })
      const fetched = await run(
        [
          'collateral',
          'fetch',
          join(tdx, 'quote.bin'),
          '--out',
          join(scratch, 'served'),
          '--pccs',
          url,
        ],
        environment(),
      )
      assert.equal(fetched.code, 0, fetched.stdout)
    } finally {
      const closed = new Promise((resolve) => child.on('close', resolve))
      child.kill('SIGTERM')
      await closed
    }
  })

  it('exits 2 for a port that is no number', async () => {
    const result = await run(['collateral', 'serve', join(tdx, 'collateral'), '--port', 'http'])
    assert.equal(result.code, 2)
  })
})

describe('FetchProgress', () => {
  const outcome = {
    key: 'intel/qe-identity/tdx',
    label: 'TD QE identity',
    optional: false,
    origin: 'network',
    files: [],
  } as const

  it('redraws one bar on a terminal', () => {
    const writes: string[] = []
    const stream = { isTTY: true, columns: 100, write: (text: string) => writes.push(text) > 0 }
    const progress = new FetchProgress(stream, 2)
    progress.item('quote.bin', outcome)
    progress.fileDone()
    progress.finish()
    assert.ok(writes.slice(0, -1).every((text) => text.startsWith('\r\x1b[2K[')))
    assert.match(writes[1] ?? '', /\[#{12}-{12}\] 1\/2 files, 1 items/)
    assert.equal(writes.at(-1), '\n')
  })

  it('writes plain lines elsewhere', () => {
    const writes: string[] = []
    const stream = { isTTY: false, columns: 0, write: (text: string) => writes.push(text) > 0 }
    const progress = new FetchProgress(stream, 1)
    progress.item('quote.bin', outcome)
    progress.item('quote.bin', { ...outcome, origin: 'failed' })
    progress.fileDone()
    progress.finish()
    assert.deepEqual(writes, [
      'quote.bin: TD QE identity from network\n',
      'quote.bin: TD QE identity FAILED\n',
    ])
  })
})
