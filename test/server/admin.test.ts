/** The admin API on SQLite: in memory and in a file. */

import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { buildServer } from '../../src/server/app.js'
import { openStore } from '../../src/store/open.js'
import { describeAdminApi } from './admin-cases.js'

const folder = mkdtempSync(join(tmpdir(), 'confide-admin-'))
after(() => rmSync(folder, { recursive: true, force: true }))

describeAdminApi('admin API on SQLite in memory', async () => ':memory:')
describeAdminApi('admin API on a SQLite file', async () => join(folder, 'store.db'))

describe('admin API without admin keys', () => {
  it('answers 401 on every admin route', async () => {
    const store = await openStore(':memory:')
    const { privateKey } = generateKeyPairSync('ed25519')
    const app = await buildServer({
      store,
      signer: { key: privateKey, alg: 'EdDSA' },
      adminKeys: [],
      logger: false,
    })
    try {
      const response = await app.inject({ method: 'GET', url: '/v1/admin/policies' })
      assert.equal(response.statusCode, 401)
      assert.match((response.json() as { message: string }).message, /no admin key/)
    } finally {
      await app.close()
      await store.close()
    }
  })
})
