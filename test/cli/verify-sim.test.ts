/**
 * `confide verify` on simulated evidence trusts this machine's sim key, found through
 * XDG_DATA_HOME in a temporary folder.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey } from '../../src/platforms/sim/dev-key.js'
import { repositoryRoot } from '../helpers/corpus.js'
import { scratchFolder } from '../platforms/sim/helpers.js'

const cli = join(repositoryRoot, 'dist', 'src', 'cli', 'main.js')

/** Runs `confide verify` offline with the data folder (and home) in `dataHome`. */
function verify(dataHome: string, ...args: string[]) {
  const { CONFIDE_SIM_KEY: _, ...inherited } = process.env
  const env = { ...inherited, CONFIDE_STORE: ':memory:', XDG_DATA_HOME: dataHome, HOME: dataHome }
  const result = spawnSync(process.execPath, [cli, 'verify', ...args, '--offline'], {
    encoding: 'utf8',
    env,
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

async function simFile(dataHome: string): Promise<string> {
  const key = await loadSimKey({ env: { XDG_DATA_HOME: dataHome } })
  const path = join(scratchFolder(), 'sim.json')
  writeFileSync(path, simEvidence(key, { reportData: new Uint8Array([0xaa, 0xbb]) }))
  return path
}

describe('confide verify sim.json', () => {
  it('exits 0 with the local sim key', async () => {
    const dataHome = scratchFolder()
    const file = await simFile(dataHome)
    const { code, stdout } = verify(dataHome, file, '--report-data', 'aabb', '--json')
    assert.equal(code, 0)
    const result = JSON.parse(stdout) as { platform: string; verdict: string }
    assert.equal(result.platform, 'sim')
    assert.equal(result.verdict, 'valid')
  })

  it('exits 3 when no sim key exists', async () => {
    const file = await simFile(scratchFolder())
    const empty = scratchFolder()
    const { code, stdout } = verify(empty, file)
    assert.equal(code, 3)
    assert.match(stdout, /verdict +indeterminate/)
    assert.equal(existsSync(join(empty, 'confide', 'sim-key.pem')), false)
  })

  it('exits 1 when another machine signed it', async () => {
    const file = await simFile(scratchFolder())
    const otherHome = scratchFolder()
    await loadSimKey({ env: { XDG_DATA_HOME: otherHome } })
    const { code, stdout } = verify(otherHome, file)
    assert.equal(code, 1)
    assert.match(stdout, /FAIL +signing-key/)
  })
})
