/**
 * `confide appraise` as a user runs it: policies and reference values from files, exit codes,
 * and the signed EAR of `--json`.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { EmbeddedJWK } from 'jose'
import { verifyEar } from '../../src/appraisal/ear-verify.js'
import { DEFAULT_POLICY } from '../../src/appraisal/policy.js'
import { corpusRoot, interopRoot, repositoryRoot } from '../helpers/corpus.js'

const cli = join(repositoryRoot, 'dist', 'src', 'cli', 'main.js')
const tdx = join(corpusRoot, 'intel-tdx', 'tdx-v4-tinfoil-full-collateral-uptodate')
const tdxAt = '2026-01-13T00:00:00Z'
const MRTD =
  '7357a10d2e2724dffe68813e3cc4cfcde6814d749f2fb62e3953e54f6e0b50a219786afe2cd478f684b52c61837e1114'

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const folder = mkdtempSync(join(tmpdir(), 'confide-appraise-'))

function scratch(name: string, content: string): string {
  const path = join(folder, name)
  writeFileSync(path, content)
  return path
}

const defaultPolicy = scratch('default.json', JSON.stringify(DEFAULT_POLICY))
const mrtdValues = scratch(
  'mrtd.json',
  JSON.stringify({
    referenceValues: [
      { platform: 'tdx', claim: 'measurement', values: [MRTD], provenance: { source: 'test' } },
    ],
  }),
)

function appraiseTdx(...extra: string[]) {
  return run(
    'appraise',
    join(tdx, 'quote.bin'),
    '--collateral',
    join(tdx, 'collateral'),
    '--at',
    tdxAt,
    ...extra,
  )
}

describe('confide appraise', () => {
  it('exits 1 with a warning when the default policy lacks reference values', () => {
    const { code, stdout } = appraiseTdx('--policy', defaultPolicy)
    assert.equal(code, 1)
    assert.match(stdout, /pass {2}tcb-status/)
    assert.match(stdout, /skip {2}reference-value:measurement/)
    assert.match(stdout, /status +warning/)
  })

  it('exits 0 when the measurement matches a reference value', () => {
    const { code, stdout } = appraiseTdx('--policy', defaultPolicy, '--reference', mrtdValues)
    assert.equal(code, 0, stdout)
    assert.match(stdout, /pass {2}reference-value:measurement/)
    assert.match(stdout, /hardware 2/)
    assert.match(stdout, /status +affirming/)
  })

  it('reads a YAML policy', () => {
    const policy = scratch('policy.yaml', 'id: yaml\ntcb:\n  statuses: [OutOfDate]\n')
    const { code, stdout } = appraiseTdx('--policy', policy)
    assert.equal(code, 1)
    assert.match(stdout, /FAIL {2}tcb-status/)
    assert.match(stdout, /status +contraindicated/)
  })

  it('compares SEV-SNP claims with a CoRIM', () => {
    const snp = join(corpusRoot, 'amd-sev-snp', 'snp-v3-milan-vlek-trustee')
    const corim = join(interopRoot, 'corim', 'veraison-sevsnp-valid', 'corim.cbor')
    const args = ['--collateral', join(snp, 'certs'), '--at', '2025-06-01T00:00:00Z']
    const { code, stdout } = run(
      'appraise',
      join(snp, 'report.bin'),
      ...args,
      '--policy',
      defaultPolicy,
      '--reference',
      corim,
    )
    assert.equal(code, 1)
    assert.match(stdout, /FAIL {2}reference-value:measurement/)
  })

  it('rejects a debug enclave under the default policy', () => {
    const nitro = join(corpusRoot, 'aws-nitro', 'nitro-blocky-debug')
    const args = ['--at', '2024-09-07T14:38:06.508Z', '--policy', defaultPolicy]
    const { code, stdout } = run('appraise', join(nitro, 'attestation_doc.cose'), ...args)
    assert.equal(code, 1)
    assert.match(stdout, /FAIL {2}debug/)
    assert.match(stdout, /status +contraindicated/)
  })

  it('exits 3 when collateral is missing and nothing failed', () => {
    const { code, stdout } = run(
      'appraise',
      join(tdx, 'quote.bin'),
      '--at',
      tdxAt,
      '--policy',
      defaultPolicy,
      '--reference',
      mrtdValues,
    )
    assert.equal(code, 3, stdout)
    assert.match(stdout, /skip {2}verification/)
  })

  for (const [kind, alg] of [
    ['ec', 'ES256'],
    ['ed25519', 'EdDSA'],
  ] as const) {
    it(`prints an EAR signed by an ${alg} --key`, async () => {
      const { privateKey, publicKey } =
        kind === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519')
      const key = scratch(
        `${alg}.pem`,
        privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      )
      const { code, stdout, stderr } = appraiseTdx(
        '--policy',
        defaultPolicy,
        '--reference',
        mrtdValues,
        '--json',
        '--key',
        key,
      )
      assert.equal(code, 0)
      assert.equal(stderr, '')
      const output = JSON.parse(stdout) as { token: string; claims: Record<string, unknown> }
      const ear = await verifyEar(output.token, {
        key: publicKey,
        at: new Date(tdxAt),
      })
      assert.deepEqual(ear.claims, output.claims)
      assert.equal(ear.submods.cpu0?.status, 'affirming')
      assert.equal(ear.submods.cpu0?.policyId, DEFAULT_POLICY.id)
      assert.equal(ear.issuedAt.toISOString(), '2026-01-13T00:00:00.000Z')
    })
  }

  it('warns and signs with a one-time key without --key', async () => {
    const { code, stdout, stderr } = appraiseTdx('--policy', defaultPolicy, '--json')
    assert.equal(code, 1)
    assert.match(stderr, /one-time key/)
    const output = JSON.parse(stdout) as { token: string }
    const ear = await verifyEar(output.token, { key: EmbeddedJWK, at: new Date(tdxAt) })
    assert.equal(ear.submods.cpu0?.status, 'warning')
  })

  it('rejects a key that cannot sign an EAR', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const key = scratch('rsa.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())
    const { code, stderr } = appraiseTdx('--policy', defaultPolicy, '--json', '--key', key)
    assert.equal(code, 2)
    assert.match(stderr, /ERR_CONFIG_INVALID/)
  })

  it('rejects a key file that is not PEM', () => {
    const { code, stderr } = appraiseTdx(
      '--policy',
      defaultPolicy,
      '--json',
      '--key',
      defaultPolicy,
    )
    assert.equal(code, 2)
    assert.match(stderr, /--key/)
  })

  it('exits 2 for a malformed policy', () => {
    const policy = scratch('bad.json', '{"id": "p", "allowDebug": "no"}')
    const { code, stderr } = appraiseTdx('--policy', policy)
    assert.equal(code, 2)
    assert.match(stderr, /ERR_POLICY_INVALID/)
    assert.match(stderr, /allowDebug/)
  })

  it('exits 2 for malformed reference values', () => {
    const values = scratch('bad-values.json', '{"referenceValues": [{}]}')
    const { code, stderr } = appraiseTdx('--policy', defaultPolicy, '--reference', values)
    assert.equal(code, 2)
    assert.match(stderr, /ERR_PARSE_MALFORMED/)
  })

  it('exits 2 without --policy', () => {
    const { code, stderr } = appraiseTdx()
    assert.equal(code, 2)
    assert.match(stderr, /--policy/)
  })

  it('exits 2 for a missing policy file', () => {
    const { code, stderr } = appraiseTdx('--policy', join(folder, 'absent.json'))
    assert.equal(code, 2)
    assert.match(stderr, /--policy file/)
  })
})
