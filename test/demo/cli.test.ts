/**
 * `confide demo` as a user runs it. The temporary folder (TMPDIR), home and data folder of the
 * child process are test folders, which must be empty again afterwards.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { repositoryRoot } from '../helpers/corpus.js'

const cli = join(repositoryRoot, 'dist', 'src', 'cli', 'main.js')

function scratchFolder(): string {
  return mkdtempSync(join(tmpdir(), 'confide-demo-cli-'))
}

/** Runs the CLI with TMPDIR, HOME and XDG_DATA_HOME in new folders, which it returns. */
function run(args: string[]) {
  const temporary = scratchFolder()
  const home = scratchFolder()
  const { CONFIDE_SIM_KEY: _key, CONFIDE_STORE: _store, ...inherited } = process.env
  const env = { ...inherited, TMPDIR: temporary, HOME: home, XDG_DATA_HOME: join(home, 'data') }
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env })
  const remove = () => {
    rmSync(temporary, { recursive: true, force: true })
    rmSync(home, { recursive: true, force: true })
  }
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    temporary,
    home,
    remove,
  }
}

describe('confide demo', () => {
  it('prints seven steps and exits 0', () => {
    const { code, stdout, stderr, temporary, home, remove } = run(['demo'])
    try {
      assert.equal(code, 0, stdout + stderr)
      for (let step = 1; step <= 7; step++)
        assert.match(stdout, new RegExp(`^\\[${step}/7\\] `, 'm'))
      assert.doesNotMatch(stdout, /FAILED/)
      assert.match(stdout, /refused, HTTP 403 PolicyDeny/)
      assert.match(stdout, /matches the stored secret/)
      assert.match(stdout, /^demo passed/m)
      assert.deepEqual(readdirSync(temporary), [])
      assert.deepEqual(readdirSync(home), [])
    } finally {
      remove()
    }
  })

  it('prints one JSON object per step with --json', () => {
    const { code, stdout, remove } = run(['demo', '--json'])
    try {
      assert.equal(code, 0)
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
      assert.equal(lines.length, 8)
      assert.deepEqual(
        lines.slice(0, 7).map((line) => [line.step, line.ok]),
        [1, 2, 3, 4, 5, 6, 7].map((step) => [step, true]),
      )
      assert.deepEqual(lines[7], { result: 'passed', exitCode: 0, cleanupFailures: [] })
    } finally {
      remove()
    }
  })

  it('keeps a bundle that verify-output accepts', () => {
    const { code, stdout, temporary, remove } = run(['demo', '--keep', '--json'])
    try {
      assert.equal(code, 0)
      const last = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { folder?: string }
      const folder = last.folder ?? ''
      assert.ok(folder.startsWith(temporary), folder)
      const verified = spawnSync(
        process.execPath,
        [
          cli,
          'verify-output',
          join(folder, 'output.json'),
          '--trust',
          join(folder, 'sim-key.pub'),
          '--policy',
          join(folder, 'policy.json'),
          '--input',
          join(folder, 'party-a.sealed.json'),
          '--input',
          join(folder, 'party-b.sealed.json'),
        ],
        { encoding: 'utf8', env: { ...process.env, XDG_DATA_HOME: join(folder, 'none') } },
      )
      assert.equal(verified.status, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, /verdict +valid/)
    } finally {
      remove()
    }
  })

  it('exits 2 for a port that is not a number', () => {
    const { code, stderr, temporary, remove } = run(['demo', '--port', 'http'])
    try {
      assert.equal(code, 2)
      assert.match(stderr, /--port http is not a TCP port/)
      assert.deepEqual(readdirSync(temporary), [])
    } finally {
      remove()
    }
  })
})
