/** `confide admin`: token lifetimes and the tokens `admin token` mints. */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { parseTtl } from '../../src/cli/admin.js'
import { authenticateAdmin } from '../../src/server/admin-auth.js'
import { mintAdminToken } from '../../src/server/admin-token.js'

describe('parseTtl', () => {
  const valid: Array<[string, number]> = [
    ['900', 900],
    ['900s', 900],
    ['15m', 900],
    ['1h', 3600],
  ]
  for (const [text, seconds] of valid) {
    it(`reads ${text}`, () => {
      assert.equal(parseTtl(text), seconds)
    })
  }

  for (const text of ['0', '2h', '3601', '1d', '-5', 'soon', '']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseTtl(text), { code: 'ERR_CONFIG_INVALID' })
    })
  }
})

describe('mintAdminToken', () => {
  it('mints a token the server accepts', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const now = new Date('2026-06-01T12:00:00Z')
    const token = await mintAdminToken(privateKey, { ttlSeconds: 600, subject: 'ops', now })
    assert.equal(decodeProtectedHeader(token).alg, 'EdDSA')
    const claims = decodeJwt(token)
    assert.equal(claims.aud, 'confide-admin')
    assert.equal(claims.sub, 'ops')
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 600)
    assert.equal(typeof claims.jti, 'string')
    const outcome = await authenticateAdmin(`Bearer ${token}`, [publicKey], now)
    assert.deepEqual(outcome, { ok: true, actor: 'ops' })
    const later = new Date(now.getTime() + 3600_000)
    const expired = await authenticateAdmin(`Bearer ${token}`, [publicKey], later)
    assert.equal(expired.ok, false)
  })
})
