/**
 * Damaged simulated evidence is never judged valid, and neither simulated platform claims the
 * evidence of another.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { ParseError } from '../../../src/core/errors.js'
import { simEvidence } from '../../../src/platforms/sim/attester.js'
import type { SimKey } from '../../../src/platforms/sim/dev-key.js'
import {
  encodeBase64url,
  encodeSimEvidence,
  parseSimEvidence,
} from '../../../src/platforms/sim/format.js'
import { samplePlatform, simPlatform } from '../../../src/platforms/sim/index.js'
import { corpusRoot } from '../../helpers/corpus.js'
import { at, contextWith, newSimKey } from './helpers.js'

const sim = simPlatform()
const sample = samplePlatform()

/** Parses and verifies with `key` trusted; returns the verdict, or `parse-error`. */
async function outcome(bytes: Uint8Array, key: SimKey): Promise<string> {
  try {
    const result = await sim.verify(
      sim.parse(bytes),
      contextWith({ trustedKeys: [key.publicKeySpki] }),
    )
    return result.verdict
  } catch (error) {
    if (error instanceof ParseError) return 'parse-error'
    throw error
  }
}

function corpusFiles(dir: string = corpusRoot): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? corpusFiles(path) : [path]
  })
}

function text(value: string): Uint8Array {
  return new TextEncoder().encode(value)
}

describe('sim evidence robustness', () => {
  let key: SimKey
  let evidence: Uint8Array

  before(async () => {
    key = await newSimKey()
    evidence = simEvidence(key, { reportData: new Uint8Array([1, 2, 3]), at })
  })

  it('verifies undamaged', async () => {
    assert.equal(await outcome(evidence, key), 'valid')
  })

  it('rejects every truncation', async () => {
    for (let length = 0; length < evidence.length; length++) {
      const verdict = await outcome(evidence.subarray(0, length), key)
      assert.notEqual(verdict, 'valid', `truncated to ${length} bytes`)
    }
  })

  it('rejects every byte flip of the envelope', async () => {
    for (let offset = 0; offset < evidence.length; offset++) {
      const damaged = evidence.slice()
      damaged[offset] = (damaged[offset] ?? 0) ^ 0x01
      assert.notEqual(await outcome(damaged, key), 'valid', `byte ${offset} flipped`)
    }
  })

  it('rejects every byte flip of the body and signature', async () => {
    const { bodyBytes, signature } = parseSimEvidence(evidence)
    const signed = [...bodyBytes, ...signature]
    for (let offset = 0; offset < signed.length; offset++) {
      const damaged = Uint8Array.from(signed)
      damaged[offset] = (damaged[offset] ?? 0) ^ 0x01
      const bytes = encodeSimEvidence(
        damaged.subarray(0, bodyBytes.length),
        damaged.subarray(bodyBytes.length),
      )
      assert.notEqual(await outcome(bytes, key), 'valid', `signed byte ${offset} flipped`)
    }
  })

  it('rejects malformed envelopes with ParseError', () => {
    const body = encodeBase64url(parseSimEvidence(evidence).bodyBytes)
    const signature = encodeBase64url(new Uint8Array(64))
    const cases = [
      '',
      '[]',
      '{}',
      '{"format":"confide-sim/1"}',
      `{"format":"confide-sim/2","body":"${body}","signature":"${signature}"}`,
      `{"format":"confide-sim/1","body":"${body}=","signature":"${signature}"}`,
      `{"format":"confide-sim/1","body":"${body}","signature":"${signature.slice(0, -4)}"}`,
      `{"format":"confide-sim/1","body":"${body}","signature":"${signature}","x":1}`,
      `{"format":"confide-sim/1","body":"e30","signature":"${signature}"}`,
    ]
    for (const value of cases) {
      assert.throws(() => sim.parse(text(value)), ParseError, value.slice(0, 60))
    }
  })

  it('rejects evidence over the size limit', () => {
    const padded = new Uint8Array(16 * 1024 + 1).fill(0x20)
    padded.set(evidence)
    assert.throws(() => sim.parse(padded), { code: 'ERR_PARSE_OVERSIZED' })
  })
})

describe('simulated sniff', () => {
  it('never throws and claims no corpus file', () => {
    const files = corpusFiles()
    assert.ok(files.length > 50, `only ${files.length} corpus files found`)
    for (const path of files) {
      const bytes = new Uint8Array(readFileSync(path))
      assert.equal(sim.sniff(bytes), false, path)
      assert.equal(sample.sniff(bytes), false, path)
    }
  })

  it('never throws on odd input', () => {
    const inputs = [
      new Uint8Array(0),
      new Uint8Array([0x7b]),
      new Uint8Array([0x7b, 0xff, 0xfe, 0x22]),
      text('{"format":"confide-sim/1"'),
      text('  {"svn":"1","report_data":'),
      text('{"svn":"1","report_data":"","extra":1}'),
      new Uint8Array(64 * 1024).fill(0x7b),
    ]
    for (const bytes of inputs) {
      assert.doesNotThrow(() => sim.sniff(bytes))
      assert.doesNotThrow(() => sample.sniff(bytes))
    }
  })

  it('tells the two formats apart', async () => {
    const key = await newSimKey()
    const simBytes = simEvidence(key, { reportData: new Uint8Array(0), at })
    const sampleBytes = text('{"svn":"1","report_data":"AAAA"}')
    assert.equal(sim.sniff(simBytes), true)
    assert.equal(sample.sniff(simBytes), false)
    assert.equal(sample.sniff(sampleBytes), true)
    assert.equal(sim.sniff(sampleBytes), false)
  })
})
