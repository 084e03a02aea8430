/**
 * `confide verify` as a user runs it: exit codes, JSON output, one-line errors.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { corpusRoot, repositoryRoot } from '../helpers/corpus.js'

const cli = join(repositoryRoot, 'dist', 'src', 'cli', 'main.js')
const tdx = join(corpusRoot, 'intel-tdx', 'tdx-v4-tinfoil-full-collateral-uptodate')
const tdxAt = '2026-01-13T00:00:00Z'

/**
 * Runs the CLI offline with a store in memory: these tests judge what the files given contain,
 * and never reach a vendor service.
 */
function run(...args: string[]) {
  const offline = args[0] === 'verify' ? ['--offline'] : []
  const env = { ...process.env, CONFIDE_STORE: ':memory:' }
  const result = spawnSync(process.execPath, [cli, ...args, ...offline], { encoding: 'utf8', env })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Returns 100 bytes that start like a v4 TDX quote header and end long before its body. */
function truncatedTdxQuote(): Uint8Array {
  const bytes = new Uint8Array(100)
  bytes[0] = 4 // VERSION
  bytes[2] = 2 // ATT_KEY_TYPE: ECDSA P-256
  bytes[4] = 0x81 // TEE_TYPE: TDX
  return bytes
}

function scratch(name: string, bytes: Uint8Array | string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'confide-cli-')), name)
  writeFileSync(path, bytes)
  return path
}

describe('confide verify', () => {
  it('exits 0 and lists every check for a valid quote', () => {
    const { code, stdout } = run(
      'verify',
      join(tdx, 'quote.bin'),
      '--collateral',
      join(tdx, 'collateral'),
      '--at',
      tdxAt,
    )
    assert.equal(code, 0)
    assert.match(stdout, /pass {2}pck-chain/)
    assert.match(stdout, /pass {2}tcb-level/)
    assert.match(stdout, /verdict +valid/)
    assert.match(stdout, /tcb status +UpToDate/)
  })

  it('prints one JSON result with --json', () => {
    const { code, stdout } = run(
      'verify',
      join(tdx, 'quote.bin'),
      '--collateral',
      join(tdx, 'collateral'),
      '--at',
      tdxAt,
      '--json',
    )
    assert.equal(code, 0)
    const result = JSON.parse(stdout)
    assert.equal(result.platform, 'tdx')
    assert.equal(result.verdict, 'valid')
    assert.equal(result.tcbStatus, 'UpToDate')
    assert.ok(Array.isArray(result.checks))
  })

  it('exits 3 when collateral is missing and nothing failed', () => {
    const { code, stdout } = run('verify', join(tdx, 'quote.bin'), '--at', tdxAt)
    assert.equal(code, 3)
    assert.match(stdout, /skip {2}tcb-info/)
  })

  it('exits 1 for expired collateral', () => {
    const { code } = run(
      'verify',
      join(tdx, 'quote.bin'),
      '--collateral',
      join(tdx, 'collateral'),
      '--at',
      '2026-03-01T00:00:00Z',
    )
    assert.equal(code, 1)
  })

  it('exits 1 when the report data differs', () => {
    const { code, stdout } = run(
      'verify',
      join(tdx, 'quote.bin'),
      '--collateral',
      join(tdx, 'collateral'),
      '--at',
      tdxAt,
      '--report-data',
      '00',
    )
    assert.equal(code, 1)
    assert.match(stdout, /FAIL {2}report-data/)
  })

  it('exits 1 for a debug enclave unless debug is allowed', () => {
    const occlum = join(corpusRoot, 'intel-sgx', 'sgx-v3-occlum-quote-only', 'quote.bin')
    assert.equal(run('verify', occlum, '--at', '2024-01-01T00:00:00Z').code, 1)
    assert.equal(run('verify', occlum, '--at', '2024-01-01T00:00:00Z', '--allow-debug').code, 3)
  })

  it('accepts a trust anchor file that holds the right root', () => {
    const anchor = join(tdx, 'trust', 'intel_sgx_root_ca.pem')
    const { code } = run(
      'verify',
      join(tdx, 'quote.bin'),
      '--collateral',
      join(tdx, 'collateral'),
      '--at',
      tdxAt,
      '--trust',
      anchor,
    )
    assert.equal(code, 0)
  })

  it('verifies an SEV-SNP report with its certificates', () => {
    const snp = join(corpusRoot, 'amd-sev-snp', 'snp-v3-genoa-vcek-azure')
    const { code, stdout } = run(
      'verify',
      join(snp, 'report.bin'),
      '--collateral',
      join(snp, 'certs'),
      '--at',
      '2025-06-01T00:00:00Z',
      '--json',
    )
    assert.equal(code, 0)
    assert.equal(JSON.parse(stdout).platform, 'snp')
  })

  it('names the KDS URL when the VCEK is missing', () => {
    const snp = join(corpusRoot, 'amd-sev-snp', 'snp-v3-genoa-vcek-azure')
    const { code, stdout } = run('verify', join(snp, 'report.bin'), '--at', '2025-06-01T00:00:00Z')
    assert.equal(code, 3)
    assert.match(stdout, /kdsintf\.amd\.com\/vcek\/v1\/Genoa\//)
  })

  it('checks the nonce of a Nitro document', () => {
    const nitro = join(corpusRoot, 'aws-nitro', 'nitro-evervault-beta-prod')
    const expect = JSON.parse(readFileSync(join(nitro, 'expect.json'), 'utf8'))
    const args = ['verify', join(nitro, 'attestation_doc.cose'), '--at', expect.verification_time]
    assert.equal(run(...args, '--nonce', expect.claims.nonce).code, 0)
    assert.equal(run(...args, '--nonce', '00').code, 1)
  })

  it('verifies a TPM quote with its signature, key and PCRs', () => {
    const tpm = join(corpusRoot, 'tpm', 'tpm2-quote-rsa-trustee')
    const file = (name: string) => join(tpm, name)
    const args = ['verify', file('tpms_attest.bin'), '--signature', file('tpmt_signature.bin')]
    const { code } = run(
      ...args,
      '--trust',
      file('ak_public.der'),
      '--pcrs',
      file('pcrs_sha256.json'),
    )
    assert.equal(code, 0)
    assert.equal(run(...args, '--pcrs', file('pcrs_sha256.json')).code, 3)
  })

  it('verifies an Arm CCA token with a trusted platform key', () => {
    const cca = join(corpusRoot, 'arm-cca', 'cca-tfrmm-fvp-token')
    const token = join(cca, 'cca_token.cbor')
    assert.equal(
      run('verify', token, '--trust', join(cca, 'trust', 'cca_platform_pub.pem')).code,
      0,
    )
    assert.equal(run('verify', token).code, 3)
  })

  it('verifies several files as composite evidence', () => {
    const gpu = join(corpusRoot, 'nvidia-gpu', 'h100-nvtrust-sample', 'attestation_report.hex')
    const args = ['verify', join(tdx, 'quote.bin'), gpu, '--collateral', join(tdx, 'collateral')]
    const { code, stdout } = run(...args, '--at', tdxAt, '--json')
    assert.equal(code, 3)
    const result = JSON.parse(stdout)
    assert.equal(result.platform, 'composite')
    assert.equal(result.submods.quote.verdict, 'valid')
    assert.equal(result.submods.attestation_report.platform, 'nvidia')
  })

  const unreadable: [string, string[]][] = [
    ['a missing file', ['verify', '/nonexistent/quote.bin']],
    [
      'random bytes',
      [
        'verify',
        scratch(
          'random.bin',
          new Uint8Array(3000).map((_, i) => (i * 131 + 7) % 256),
        ),
      ],
    ],
    ['a truncated quote', ['verify', scratch('short.bin', truncatedTdxQuote())]],
    ['a bad time', ['verify', join(tdx, 'quote.bin'), '--at', 'yesterday']],
    ['bad report data', ['verify', join(tdx, 'quote.bin'), '--report-data', 'xyz']],
    ['an unknown platform', ['verify', join(tdx, 'quote.bin'), '--platform', 'nope']],
    [
      'a missing collateral directory',
      ['verify', join(tdx, 'quote.bin'), '--collateral', '/nonexistent'],
    ],
    ['no file at all', ['verify']],
    ['a device instead of a file', ['verify', '/dev/zero']],
    ['an empty file', ['verify', scratch('empty.bin', new Uint8Array(0))]],
    [
      'a day that does not exist',
      ['verify', join(tdx, 'quote.bin'), '--at', '2026-02-30T00:00:00Z'],
    ],
    ['a time without a zone', ['verify', join(tdx, 'quote.bin'), '--at', '2026-01-13T00:00:00']],
    ['a nonce for a quote', ['verify', join(tdx, 'quote.bin'), '--at', tdxAt, '--nonce', '00']],
    ['a TDX quote named sgx', ['verify', join(tdx, 'quote.bin'), '--platform', 'sgx']],
  ]
  for (const [name, args] of unreadable) {
    it(`exits 2 with one line for ${name}`, () => {
      const { code, stdout, stderr } = run(...args)
      assert.equal(code, 2)
      assert.equal(stdout, '')
      assert.equal(stderr.trim().split('\n').length, 1, stderr)
      assert.doesNotMatch(stderr, /\n\s+at /)
    })
  }
})
