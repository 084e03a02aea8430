import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { toHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import {
  compareMeasurements,
  nvidiaPlatform,
  parseNvidiaRim,
  pinnedRimRoot,
  verifyRimSignature,
} from '../../../src/platforms/nvidia/index.js'
import { bundleFromDir, corpusCases, interopRoot, readCaseFile } from '../../helpers/corpus.js'

const crypto = createNodeCrypto()
const dir = join(interopRoot, 'nvidia-rim', 'nvtrust-h100-rims-test-no-gpu')

interface RimFacts {
  readonly colloquialVersion: string
  readonly num_measurements?: number
  readonly active_measurements?: number
  readonly signing_chain_subjects?: readonly string[]
}

interface InteropExpect {
  readonly rims: Readonly<Record<string, RimFacts>>
  readonly expected: { readonly verdict: string; readonly mismatch_note: string }
}

interface GoldenEntry {
  readonly index: number
  readonly active: string
  readonly size: number
  readonly hashes: readonly string[]
}

const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as InteropExpect
const files = readdirSync(dir).filter((name) => name.endsWith('.swidtag'))
/** The instant the builder checked the chains at, named in expect.json's openssl result keys. */
const at = new Date(
  Object.values(expect.rims)
    .flatMap((facts) => Object.keys(facts))
    .map((key) => /_at_(\d{4}-\d{2}-\d{2})$/.exec(key)?.[1])
    .find((date) => date !== undefined) ?? Number.NaN,
)

function rimBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, file)))
}

function context() {
  return { at, crypto, cache: new VerificationCache() }
}

describe('NVIDIA RIMs from nvtrust', () => {
  it('are all listed in expect.json', () => {
    assert.deepEqual([...files].sort(), Object.keys(expect.rims).sort())
  })

  for (const file of files) {
    const facts = expect.rims[file]

    it(`${file} verifies to the pinned RIM root`, async () => {
      const verification = await verifyRimSignature(
        parseNvidiaRim(rimBytes(file)),
        [pinnedRimRoot()],
        context(),
      )
      assert.equal(verification.ok, true, verification.detail)
      if (facts?.signing_chain_subjects !== undefined) {
        assert.equal(verification.path.length, facts.signing_chain_subjects.length)
      }
    })

    it(`${file} has the stated version and measurement counts`, () => {
      const rim = parseNvidiaRim(rimBytes(file))
      assert.equal(rim.version, facts?.colloquialVersion)
      if (facts?.num_measurements !== undefined)
        assert.equal(rim.measurements.length, facts.num_measurements)
      if (facts?.active_measurements !== undefined) {
        assert.equal(rim.measurements.filter((m) => m.active).length, facts.active_measurements)
      }
    })

    const golden = file.replace(/\.swidtag$/, '.golden.json')
    if (files.length > 0 && readdirSync(dir).includes(golden)) {
      it(`${file} holds the values of ${golden}`, () => {
        const entries = JSON.parse(readFileSync(join(dir, golden), 'utf8')) as GoldenEntry[]
        const rim = parseNvidiaRim(rimBytes(file))
        assert.equal(rim.measurements.length, entries.length)
        for (const entry of entries) {
          const measurement = rim.measurements.find((m) => m.index === entry.index)
          assert.ok(measurement, `index ${entry.index}`)
          assert.equal(measurement.active, entry.active === 'True')
          assert.equal(measurement.size, entry.size)
          assert.deepEqual(measurement.values.map(toHex), entry.hashes)
        }
      })
    }

    it(`${file} verifies with a declaration and CRLF`, async () => {
      const original = new TextDecoder().decode(rimBytes(file))
      const text = `<?xml version="1.0" encoding="UTF-8"?>\n${original.replace(/\n/g, '\r\n')}\n`
      const rim = parseNvidiaRim(new TextEncoder().encode(text))
      const verification = await verifyRimSignature(rim, [pinnedRimRoot()], context())
      assert.equal(verification.ok, true, verification.detail)
    })

    it(`${file} fails when a value is changed`, async () => {
      const text = new TextDecoder().decode(rimBytes(file)).replace(/Hash0="0/, 'Hash0="1')
      const rim = parseNvidiaRim(new TextEncoder().encode(text))
      const verification = await verifyRimSignature(rim, [pinnedRimRoot()], context())
      assert.equal(verification.code, 'ERR_VERIFY_SIGNATURE')
    })
  }

  describe('with the nvtrust sample report', () => {
    const testCase = corpusCases('nvidia-gpu').find((c) => c.name === 'h100-nvtrust-sample')
    assert.ok(testCase)
    const testRims = files.filter((name) => name.includes('test_no_gpu'))
    const driverVersion = /driver (\S+)/.exec(expect.expected.mismatch_note)?.[1]
    const vbiosVersion = /vbios_version (\S+)/.exec(expect.expected.mismatch_note)?.[1]

    it('finds no RIM for its driver and VBIOS versions', async () => {
      const platform = nvidiaPlatform()
      const bundle = bundleFromDir(testCase.dir)
      const collateral = new CollateralBundle([
        ['cert_chain.pem', bundle.get('cert_chain.pem') ?? new Uint8Array()],
        ...testRims.map((name): [string, Uint8Array] => [name, rimBytes(name)]),
      ])
      const report = platform.parse(readCaseFile(testCase, 'attestation_report.hex'))
      assert.equal(report.response.opaqueData.driverVersion, driverVersion)
      assert.equal(report.response.opaqueData.vbiosVersion, vbiosVersion)
      const result = await platform.verify(report, { ...context(), collateral })
      const driver = result.checks.find((c) => c.name === 'driver-rim')
      const vbios = result.checks.find((c) => c.name === 'vbios-rim')
      assert.equal(driver?.status, 'skipped')
      assert.equal(vbios?.status, 'skipped')
      assert.match(driver?.detail ?? '', /no driver RIM for version/)
      assert.equal(result.verdict, 'indeterminate')
    })

    it('differs from the test RIMs when compared regardless of version', () => {
      const report = nvidiaPlatform().parse(readCaseFile(testCase, 'attestation_report.hex'))
      const comparison = compareMeasurements(
        report,
        testRims.map((name) => parseNvidiaRim(rimBytes(name))),
      )
      assert.equal(comparison.conflicts.length, 0)
      assert.ok(comparison.mismatches.length > 0)
      assert.ok(comparison.matched.length > 0)
    })
  })
})
