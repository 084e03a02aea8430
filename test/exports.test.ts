/**
 * Every subpath of the package's exports map loads, through the package's own name, and offers
 * what its types promise.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { repositoryRoot } from './helpers/corpus.js'

const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as {
  name: string
  exports: Record<string, { types: string; default: string }>
}

describe('package exports', () => {
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    it(`${subpath} resolves and loads`, async () => {
      assert.ok(existsSync(join(repositoryRoot, target.default)), target.default)
      assert.ok(existsSync(join(repositoryRoot, target.types)), target.types)
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`
      const module = (await import(specifier)) as Record<string, unknown>
      if (subpath !== './crypto')
        assert.ok(Object.keys(module).length > 0, `${specifier} exports values`)
    })
  }

  it('verifies the README example end to end', async () => {
    const { loadCollateralDirectory, verifyEvidence } = (await import(
      'confide/verify'
    )) as typeof import('../src/verify.js')
    const dir = join(
      repositoryRoot,
      '..',
      'shared',
      'corpus',
      'intel-tdx',
      'tdx-v4-tinfoil-full-collateral-uptodate',
    )
    const shared = process.env.CONFIDE_SHARED
    const caseDir =
      shared === undefined
        ? dir
        : join(shared, 'corpus', 'intel-tdx', 'tdx-v4-tinfoil-full-collateral-uptodate')
    const collateral = await loadCollateralDirectory(join(caseDir, 'collateral'))
    const quote = new Uint8Array(readFileSync(join(caseDir, 'quote.bin')))
    const result = await verifyEvidence(quote, { at: new Date('2026-01-13T00:00:00Z'), collateral })
    assert.equal(result.verdict, 'valid')
  })
})
