/**
 * `confide ratls serve` and `confide ratls connect` against each other on 127.0.0.1, with the sim
 * key in a temporary folder.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type RatlsServe, runRatlsConnect, startRatlsServe } from '../../src/cli/ratls.js'
import { scratchFolder } from '../platforms/sim/helpers.js'

const SERVE_FLAGS = {
  port: '0',
  host: '127.0.0.1',
  attester: 'sim',
  encoding: 'tcg-dice',
  validityDays: '1',
}

describe('confide ratls', () => {
  const env = { CONFIDE_SIM_KEY: join(scratchFolder(), 'sim-key.pem') }
  let serve: RatlsServe

  before(async () => {
    serve = await startRatlsServe(SERVE_FLAGS, env)
  })

  after(async () => {
    await serve.close()
  })

  it('connect accepts the server and prints the response', async () => {
    let text = ''
    const code = await runRatlsConnect(
      serve.url,
      {},
      (chunk) => {
        text += chunk
      },
      env,
    )
    assert.equal(code, 0, text)
    assert.match(text, /peer {8}accepted/)
    assert.match(text, /hello from an RA-TLS server/)
  })

  it('connect exits 1 under a policy that rejects sim', async () => {
    const policy = join(scratchFolder(), 'policy.json')
    writeFileSync(policy, JSON.stringify({ id: 'strict' }))
    let text = ''
    const code = await runRatlsConnect(
      serve.url,
      { policy, json: true },
      (chunk) => {
        text += chunk
      },
      env,
    )
    assert.equal(code, 1)
    const output = JSON.parse(text) as { verdict: { code: string }; response?: unknown }
    assert.equal(output.verdict.code, 'ERR_VERIFY_POLICY')
    assert.equal(output.response, undefined)
  })

  it('connect exits 3 without the sim key', async () => {
    const otherEnv = { CONFIDE_SIM_KEY: join(scratchFolder(), 'absent.pem') }
    let text = ''
    const code = await runRatlsConnect(
      serve.url,
      {},
      (chunk) => {
        text += chunk
      },
      otherEnv,
    )
    assert.equal(code, 3, text)
  })
})
