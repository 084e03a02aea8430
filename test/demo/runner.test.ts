/**
 * The demo as a library call, in a temporary parent folder that must be empty again afterwards,
 * with the ports of its servers checked closed.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { type AddressInfo, connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { toHex } from '../../src/core/bytes.js'
import { DEMO_MEASUREMENT } from '../../src/demo/context.js'
import { type DemoOptions, type DemoStepEvent, runDemo } from '../../src/demo/runner.js'

const scratchFolders: string[] = []

/** Returns a new temporary folder, removed after the tests even when one fails. */
function scratchFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'confide-demo-test-'))
  scratchFolders.push(folder)
  return folder
}

after(() => {
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true })
})

/** Resolves true when nothing listens on the port of 127.0.0.1. */
function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}

function servicePort(steps: readonly DemoStepEvent[]): number {
  const url = steps.find((event) => event.name === 'service')?.data.url
  assert.equal(typeof url, 'string')
  return Number(new URL(url as string).port)
}

/** Runs the demo in a new parent folder and returns the result with the parent. */
async function demo(options: Omit<DemoOptions, 'parent'> = {}) {
  const parent = scratchFolder()
  const reported: DemoStepEvent[] = []
  const result = await runDemo({ ...options, parent, onStep: (event) => reported.push(event) })
  return { result, parent, reported }
}

function stepData(steps: readonly DemoStepEvent[], name: string) {
  const event = steps.find((candidate) => candidate.name === name)
  assert.ok(event, `no ${name} step`)
  return event.data as Record<string, unknown>
}

describe('runDemo', () => {
  it('passes every step', async () => {
    const { result, reported } = await demo()
    assert.equal(result.exitCode, 0, JSON.stringify(result.failed))
    assert.deepEqual(
      reported.map((event) => `${event.step} ${event.name} ${event.ok}`),
      [
        '1 workspace true',
        '2 service true',
        '3 policy true',
        '4 secret true',
        '5 ratls true',
        '6 output true',
        '7 audit true',
      ],
    )
    assert.deepEqual(result.steps, reported)
    assert.deepEqual(result.cleanupFailures, [])

    const measurement = toHex(DEMO_MEASUREMENT)
    const policy = stepData(reported, 'policy')
    const refused = policy.refused as Record<string, unknown>
    assert.equal(refused.status, 403)
    assert.equal(refused.problemType, 'PolicyDeny')
    assert.match(String(refused.reason), /reference-value:measurement fail/)
    const secret = stepData(reported, 'secret')
    assert.equal(secret.secretSha256, policy.secretSha256)
    assert.equal(secret.matches, true)
    assert.equal(stepData(reported, 'ratls').measurement, measurement)
    const output = stepData(reported, 'output')
    assert.equal(output.result, 42)
    assert.equal(output.verdict, 'valid')
    assert.equal(output.measurement, measurement)
    const audit = stepData(reported, 'audit')
    assert.equal(audit.releases, 1)
    assert.equal(audit.refusals, 1)
  })

  it('leaves no folder or listening port', async () => {
    const { result, parent, reported } = await demo()
    assert.equal(result.exitCode, 0)
    assert.equal(result.kept, false)
    assert.ok(result.folder?.startsWith(parent))
    assert.deepEqual(readdirSync(parent), [])
    assert.equal(await portClosed(servicePort(reported)), true)
    assert.equal(await portClosed(Number(stepData(reported, 'ratls').port)), true)
  })

  it('keeps the folder with keep', async () => {
    const { result, reported } = await demo({ keep: true })
    assert.equal(result.exitCode, 0)
    assert.equal(result.kept, true)
    const folder = result.folder ?? ''
    for (const file of ['output.json', 'policy.json', 'sim-key.pub', 'party-a.sealed.json'])
      assert.ok(existsSync(join(folder, file)), `${file} is missing`)
    assert.equal(await portClosed(servicePort(reported)), true)
  })

  it('fails at step 4 under a policy for another measurement', async () => {
    const elsewhere = new Uint8Array(createHash('sha384').update('another build').digest())
    const { result, parent, reported } = await demo({ policyMeasurement: elsewhere })
    assert.equal(result.exitCode, 14)
    assert.equal(result.failed?.name, 'secret')
    assert.match(result.failed?.summary ?? '', /rejected at the resource step.*HTTP 403 PolicyDeny/)
    assert.deepEqual(
      reported.map((event) => event.ok),
      [true, true, true, false],
    )
    assert.deepEqual(readdirSync(parent), [])
    assert.equal(await portClosed(servicePort(reported)), true)
  })

  it('fails at step 3 when the other workload is not refused', async () => {
    const { result, parent } = await demo({ otherMeasurement: DEMO_MEASUREMENT })
    assert.equal(result.exitCode, 13)
    assert.equal(result.failed?.name, 'policy')
    assert.match(result.failed?.summary ?? '', /received the secret/)
    assert.deepEqual(readdirSync(parent), [])
  })

  it('fails at step 2 when the port is taken', async () => {
    const taken = createServer()
    taken.listen(0, '127.0.0.1')
    await once(taken, 'listening')
    try {
      const port = (taken.address() as AddressInfo).port
      const { result, parent } = await demo({ port })
      assert.equal(result.exitCode, 12)
      assert.equal(result.failed?.name, 'service')
      assert.match(result.failed?.summary ?? '', /cannot listen/)
      assert.deepEqual(readdirSync(parent), [])
    } finally {
      taken.close()
    }
  })

  it('stops the service when aborted after step 2', async () => {
    const controller = new AbortController()
    const parent = scratchFolder()
    const result = await runDemo({
      parent,
      signal: controller.signal,
      onStep: (event) => {
        if (event.step === 2) controller.abort()
      },
    })
    assert.equal(result.exitCode, 130)
    assert.equal(result.failed?.step, 3)
    assert.equal(result.failed?.summary, 'interrupted')
    assert.deepEqual(readdirSync(parent), [])
    assert.equal(await portClosed(servicePort(result.steps)), true)
  })
})
