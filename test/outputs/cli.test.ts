/**
 * `confide verify-output` as a user runs it, on bundles written to a temporary folder.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { encodePem } from '../../src/core/bytes.js'
import { createOutput, encodeOutputBundle, openInput, sealInput } from '../../src/outputs/index.js'
import { repositoryRoot } from '../helpers/corpus.js'
import { MADE_AT, type SimWorkload, sha256, simWorkload, VERIFY_AT } from './workload.js'

const cli = join(repositoryRoot, 'dist', 'src', 'cli', 'main.js')

/** Runs the CLI with the sim key of `workload` as this machine's key. */
function run(workload: SimWorkload, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CONFIDE_SIM_KEY: workload.key.path, ...env },
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Writes a bundle of a one-input output, and the sealed input, into the workload's folder. */
async function writeBundle(workload: SimWorkload) {
  const sealed = await sealInput(workload.identity.publicKeys, new TextEncoder().encode('9'), {
    label: 'party-a',
  })
  const opened = await openInput(workload.identity, sealed)
  const bundle = await createOutput({
    identity: workload.identity,
    evidence: workload.evidence,
    result: { json: { square: 81 } },
    inputs: [opened],
    issuedAt: MADE_AT,
  })
  const bundlePath = join(workload.folder, 'output.json')
  const inputPath = join(workload.folder, 'input.sealed')
  writeFileSync(bundlePath, encodeOutputBundle(bundle))
  writeFileSync(inputPath, sealed)

  return { bundle, bundlePath, inputPath, sealed }
}

describe('confide verify-output', () => {
  it('exits 0 for a valid bundle', async () => {
    const workload = await simWorkload()
    const { bundlePath, inputPath } = await writeBundle(workload)
    const { code, stdout } = run(workload, [
      'verify-output',
      bundlePath,
      '--input',
      inputPath,
      '--at',
      VERIFY_AT.toISOString(),
    ])
    assert.equal(code, 0, stdout)
    assert.match(stdout, /pass {2}binding/)
    assert.match(stdout, /pass {2}inputs/)
    assert.match(stdout, /verdict +valid/)
  })

  it('prints one JSON result with --json', async () => {
    const workload = await simWorkload()
    const { bundlePath, sealed } = await writeBundle(workload)
    const { code, stdout } = run(workload, [
      'verify-output',
      bundlePath,
      '--at',
      VERIFY_AT.toISOString(),
      '--json',
    ])
    assert.equal(code, 0)
    const result = JSON.parse(stdout) as {
      verdict: string
      document: { inputs: string[]; result: unknown }
    }
    assert.equal(result.verdict, 'valid')
    assert.deepEqual(result.document.inputs, [Buffer.from(sha256(sealed)).toString('hex')])
    assert.deepEqual(result.document.result, { json: { square: 81 } })
  })

  it('exits 1 for a tampered signature', async () => {
    const workload = await simWorkload()
    const { bundle, bundlePath } = await writeBundle(workload)
    const signature = Uint8Array.from(bundle.signature)
    signature[0] = (signature[0] ?? 0) ^ 0x80
    writeFileSync(bundlePath, encodeOutputBundle({ ...bundle, signature }))
    const { code, stdout } = run(workload, [
      'verify-output',
      bundlePath,
      '--at',
      VERIFY_AT.toISOString(),
    ])
    assert.equal(code, 1)
    assert.match(stdout, /FAIL {2}signature/)
    assert.match(stdout, /ERR_VERIFY_SIGNATURE/)
  })

  it('exits 1 when an input is not listed', async () => {
    const workload = await simWorkload()
    const { bundlePath } = await writeBundle(workload)
    const { code, stdout } = run(workload, [
      'verify-output',
      bundlePath,
      '--input-digest',
      'ab'.repeat(32),
      '--at',
      VERIFY_AT.toISOString(),
    ])
    assert.equal(code, 1)
    assert.match(stdout, /FAIL {2}inputs/)
  })

  it('exits 1 when the policy rejects sim evidence', async () => {
    const workload = await simWorkload()
    const { bundlePath } = await writeBundle(workload)
    const policyPath = join(workload.folder, 'policy.json')
    writeFileSync(policyPath, JSON.stringify({ id: 'hardware-only' }))
    const { code, stdout } = run(workload, [
      'verify-output',
      bundlePath,
      '--policy',
      policyPath,
      '--at',
      VERIFY_AT.toISOString(),
    ])
    assert.equal(code, 1)
    assert.match(stdout, /FAIL {2}policy/)
  })

  it('exits 3 without a trusted sim key', async () => {
    const workload = await simWorkload()
    const { bundlePath } = await writeBundle(workload)
    const missing = join(workload.folder, 'no-such-key.pem')
    const { code, stdout } = run(
      workload,
      ['verify-output', bundlePath, '--at', VERIFY_AT.toISOString()],
      { CONFIDE_SIM_KEY: missing },
    )
    assert.equal(code, 3)
    assert.match(stdout, /skip {2}evidence/)
  })

  it('trusts a sim key given with --trust', async () => {
    const workload = await simWorkload()
    const { bundlePath } = await writeBundle(workload)
    const keyPath = join(workload.folder, 'sim-key.pub.pem')
    writeFileSync(keyPath, encodePem('PUBLIC KEY', workload.key.publicKeySpki))
    const missing = join(workload.folder, 'no-such-key.pem')
    const { code } = run(
      workload,
      ['verify-output', bundlePath, '--trust', keyPath, '--at', VERIFY_AT.toISOString()],
      { CONFIDE_SIM_KEY: missing },
    )
    assert.equal(code, 0)
  })

  it('exits 2 for a file that is not a bundle', async () => {
    const workload = await simWorkload()
    const path = join(workload.folder, 'not-a-bundle.json')
    writeFileSync(path, '{"format":"something-else"}')
    const { code, stderr } = run(workload, ['verify-output', path])
    assert.equal(code, 2)
    assert.match(stderr, /ERR_PARSE_UNSUPPORTED_VERSION/)
  })
})
