/**
 * The sim key file. Every test points the key at a temporary folder through `path` or `env`, so
 * none touches the user's data folder.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../../../src/core/errors.js'
import { loadSimKey, simKeyLocation } from '../../../src/platforms/sim/dev-key.js'
import { scratchFolder } from './helpers.js'

const devKeyModule = fileURLToPath(
  new URL('../../../src/platforms/sim/dev-key.js', import.meta.url),
)

/** Loads the key in a child process and resolves to its keyId. */
function loadInChild(path: string): Promise<string> {
  const script = `const { loadSimKey } = await import(${JSON.stringify(devKeyModule)});
const key = await loadSimKey({ path: ${JSON.stringify(path)} });
process.stdout.write(key.keyId)`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script])
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))))
  })
}

describe('loadSimKey', () => {
  it('creates the key with mode 0600 in a folder with mode 0700', async () => {
    const folder = join(scratchFolder(), 'data', 'confide')
    const key = await loadSimKey({ path: join(folder, 'sim-key.pem') })
    assert.equal(statSync(key.path).mode & 0o777, 0o600)
    assert.equal(statSync(folder).mode & 0o777, 0o700)
    assert.equal(key.privateKey.asymmetricKeyType, 'ed25519')
    assert.match(key.keyId, /^[0-9a-f]{64}$/)
  })

  it('reuses the key on a second call', async () => {
    const path = join(scratchFolder(), 'sim-key.pem')
    const first = await loadSimKey({ path })
    const second = await loadSimKey({ path })
    assert.equal(second.keyId, first.keyId)
    assert.deepEqual(second.publicKeySpki, first.publicKeySpki)
  })

  it('creates one key for concurrent first calls', async () => {
    const folder = scratchFolder()
    const path = join(folder, 'sim-key.pem')
    const keys = await Promise.all(Array.from({ length: 16 }, () => loadSimKey({ path })))
    assert.equal(new Set(keys.map((key) => key.keyId)).size, 1)
    assert.deepEqual(readdirSync(folder), ['sim-key.pem'])
  })

  it('creates one key for concurrent processes', async () => {
    const folder = scratchFolder()
    const path = join(folder, 'sim-key.pem')
    const keyIds = await Promise.all(Array.from({ length: 4 }, () => loadInChild(path)))
    assert.equal(new Set(keyIds).size, 1)
    assert.equal((await loadSimKey({ path })).keyId, keyIds[0])
    assert.deepEqual(readdirSync(folder), ['sim-key.pem'])
  })

  it('honours CONFIDE_SIM_KEY', async () => {
    const folder = scratchFolder()
    const path = join(folder, 'custom.pem')
    const key = await loadSimKey({ env: { CONFIDE_SIM_KEY: path, XDG_DATA_HOME: folder } })
    assert.equal(key.path, path)
    assert.ok(existsSync(path))
    assert.equal(existsSync(join(folder, 'confide')), false)
  })

  it('defaults to the XDG data folder', async () => {
    const folder = scratchFolder()
    const env = { XDG_DATA_HOME: folder }
    assert.equal(simKeyLocation(env), join(folder, 'confide', 'sim-key.pem'))
    const key = await loadSimKey({ env })
    assert.equal(key.path, join(folder, 'confide', 'sim-key.pem'))
  })

  it('rejects a missing key when told not to create one', async () => {
    const path = join(scratchFolder(), 'sim-key.pem')
    await assert.rejects(loadSimKey({ path, create: false }), (error: unknown) => {
      assert.ok(error instanceof ConfigError)
      assert.equal(error.code, 'ERR_CONFIG_KEY_NOT_FOUND')
      return true
    })
    assert.equal(existsSync(path), false)
  })

  it('rejects a key file that is not an Ed25519 PEM key', async () => {
    const folder = scratchFolder()
    const garbage = join(folder, 'garbage.pem')
    writeFileSync(garbage, 'not a key')
    const p256 = join(folder, 'p256.pem')
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    writeFileSync(p256, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    for (const path of [garbage, p256]) {
      await assert.rejects(loadSimKey({ path }), {
        name: 'ConfigError',
        code: 'ERR_CONFIG_INVALID',
      })
    }
  })

  it('reports a folder it cannot create', async () => {
    const folder = scratchFolder()
    writeFileSync(join(folder, 'file'), '')
    const path = join(folder, 'file', 'sim-key.pem')
    await assert.rejects(loadSimKey({ path }), { name: 'ConfigError', code: 'ERR_CONFIG_INVALID' })
  })
})
