import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateMasterKey, ResourceSealer } from '../../src/kbs/envelope.js'

const scratch = mkdtempSync(join(tmpdir(), 'confide-envelope-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

const plaintext = new TextEncoder().encode('the launch key of the payroll enclave')
const aad = new TextEncoder().encode('confide-kbs-resource:default/key/payroll')

function envelopeError(error: unknown): boolean {
  return (error as { code?: string }).code === 'ERR_KBS_ENVELOPE'
}

describe('ResourceSealer', () => {
  const sealer = new ResourceSealer(Buffer.from(generateMasterKey(), 'hex'))

  it('opens what it sealed', () => {
    const sealed = sealer.seal(plaintext, aad)
    assert.deepEqual(sealer.open(sealed, aad), plaintext)
    assert.equal(sealed.length, 1 + 12 + plaintext.length + 16)
    assert.equal(Buffer.from(sealed).indexOf(Buffer.from(plaintext)), -1)
  })

  it('uses a fresh IV for each seal', () => {
    const first = sealer.seal(plaintext, aad)
    const second = sealer.seal(plaintext, aad)
    assert.notDeepEqual(first, second)
  })

  it('rejects another master key', () => {
    const other = new ResourceSealer(Buffer.from(generateMasterKey(), 'hex'))
    assert.throws(() => other.open(sealer.seal(plaintext, aad), aad), envelopeError)
  })

  it('rejects a flipped byte anywhere', () => {
    const sealed = sealer.seal(plaintext, aad)
    for (const index of [1, 13, 13 + plaintext.length, sealed.length - 1]) {
      const flipped = new Uint8Array(sealed)
      flipped[index] = (flipped[index] ?? 0) ^ 1
      assert.throws(() => sealer.open(flipped, aad), envelopeError, `byte ${index}`)
    }
  })

  it('rejects other additional data', () => {
    const sealed = sealer.seal(plaintext, aad)
    const elsewhere = new TextEncoder().encode('confide-kbs-resource:default/key/other')
    assert.throws(() => sealer.open(sealed, elsewhere), envelopeError)
  })

  it('rejects truncated and unknown versions', () => {
    const sealed = sealer.seal(plaintext, aad)
    assert.throws(() => sealer.open(sealed.subarray(0, 20), aad), envelopeError)
    const version = new Uint8Array(sealed)
    version[0] = 2
    assert.throws(() => sealer.open(version, aad), envelopeError)
  })

  it('reads the key from a file in hex, base64 or raw bytes', () => {
    const key = Buffer.from(generateMasterKey(), 'hex')
    const forms = { hex: `${key.toString('hex')}\n`, base64: key.toString('base64'), raw: key }
    const sealed = new ResourceSealer(key).seal(plaintext, aad)
    for (const [name, content] of Object.entries(forms)) {
      const path = join(scratch, `master-${name}`)
      writeFileSync(path, content)
      assert.deepEqual(ResourceSealer.fromFile(path).open(sealed, aad), plaintext, name)
    }
  })

  it('reads the key from an environment variable', () => {
    const hex = generateMasterKey()
    const sealed = new ResourceSealer(Buffer.from(hex, 'hex')).seal(plaintext, aad)
    const fromEnv = ResourceSealer.fromEnv('CONFIDE_MASTER_KEY', { CONFIDE_MASTER_KEY: hex })
    assert.deepEqual(fromEnv.open(sealed, aad), plaintext)
  })

  it('rejects missing and short keys', () => {
    assert.throws(() => ResourceSealer.fromEnv('CONFIDE_MASTER_KEY', {}), {
      code: 'ERR_CONFIG_INVALID',
    })
    assert.throws(() => ResourceSealer.fromEnv('K', { K: 'abcd' }), { code: 'ERR_CONFIG_INVALID' })
    assert.throws(() => ResourceSealer.fromFile(join(scratch, 'absent')), {
      code: 'ERR_CONFIG_INVALID',
    })
    assert.equal(readFileSync(join(scratch, 'master-hex'), 'utf8').trim().length, 64)
  })
})
