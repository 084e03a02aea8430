import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { decodePem } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import type { VerifyOptions } from '../../../src/core/platform.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { signedBy } from '../../../src/pki/chain.js'
import {
  NVIDIA_DEVICE_ROOT_PEM,
  NVIDIA_DEVICE_ROOT_SHA256,
  NVIDIA_RIM_ROOT_PEM,
  NVIDIA_RIM_ROOT_SHA256,
  nvidiaPlatform,
  pinnedDeviceRoot,
  pinnedRimRoot,
} from '../../../src/platforms/nvidia/index.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'
import {
  buildReport,
  chainPem,
  createFakeDevice,
  defaultOpaque,
  deviceChainPem,
  FAKE_NONCE,
  type FakeDevice,
  hexText,
  type ReportSpec,
} from '../../helpers/fake-nvidia.js'

const crypto = createNodeCrypto()
const platform = nvidiaPlatform()
const at = new Date('2030-01-01T00:00:00Z')
const device = createFakeDevice()

interface Setup {
  readonly device?: FakeDevice
  readonly report?: Partial<ReportSpec>
  /** The chain file's bytes. Default: the device chain, leaf first. */
  readonly chain?: Uint8Array | null
  readonly options?: VerifyOptions
  /** Leave out the trust anchor override, so the pinned NVIDIA root applies. */
  readonly pinned?: boolean
  readonly change?: (report: Uint8Array) => Uint8Array
}

async function run(setup: Setup = {}): Promise<VerificationResult> {
  const chosen = setup.device ?? device
  const built = buildReport({ signer: chosen.leaf, ...setup.report })
  const bytes = setup.change === undefined ? built : setup.change(built)
  const chain = setup.chain === undefined ? deviceChainPem(chosen) : setup.chain
  const files: [string, Uint8Array][] = chain === null ? [] : [['cert_chain.pem', chain]]
  return platform.verify(platform.parse(hexText(bytes)), {
    at,
    collateral: new CollateralBundle(files),
    ...(setup.pinned === true ? {} : { trustAnchors: [chosen.root.der] }),
    crypto,
    cache: new VerificationCache(),
    ...setup.options,
  })
}

function check(result: VerificationResult, name: string) {
  const found = result.checks.find((c) => c.name === name)
  assert.ok(found, `check ${name} is missing`)
  return found
}

describe('verifyNvidiaReport', () => {
  it('passes every device check of a generated report', async () => {
    const result = await run({ options: { expectedNonce: FAKE_NONCE } })
    for (const name of ['spdm-signature', 'device-chain', 'fwid', 'nonce']) {
      assert.equal(check(result, name).status, 'pass', name)
    }
    assert.equal(check(result, 'device-ocsp').status, 'skipped')
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(result.claims.platform, 'nvidia')
  })

  it('rejects a report whose signed bytes changed', async () => {
    const result = await run({
      change: (bytes) => {
        bytes[60]! ^= 0x01
        return bytes
      },
    })
    assert.equal(check(result, 'spdm-signature').code, 'ERR_VERIFY_SIGNATURE')
    assert.equal(result.verdict, 'invalid')
  })

  it('rejects a report whose signature changed', async () => {
    const result = await run({
      change: (bytes) => {
        bytes[bytes.length - 10]! ^= 0x01
        return bytes
      },
    })
    assert.equal(check(result, 'spdm-signature').code, 'ERR_VERIFY_SIGNATURE')
  })

  it('rejects a report signed by another device', async () => {
    const other = createFakeDevice()
    const result = await run({ report: { signer: other.leaf } })
    assert.equal(check(result, 'spdm-signature').status, 'fail')
    assert.equal(check(result, 'device-chain').status, 'pass')
  })

  it('rejects the wrong nonce', async () => {
    const result = await run({ options: { expectedNonce: new Uint8Array(32).fill(9) } })
    assert.equal(check(result, 'nonce').code, 'ERR_VERIFY_BINDING')
    assert.equal(result.verdict, 'invalid')
  })

  it('throws ConfigError for a nonce that is not 32 bytes', async () => {
    await assert.rejects(run({ options: { expectedNonce: new Uint8Array(48) } }), {
      code: 'ERR_CONFIG_INVALID',
    })
  })

  it('rejects a signing certificate without an FWID', async () => {
    const result = await run({ device: createFakeDevice({ fwid: null }) })
    assert.equal(check(result, 'fwid').code, 'ERR_VERIFY_IDENTITY')
    assert.equal(check(result, 'spdm-signature').status, 'pass')
  })

  it('rejects an FWID that differs from the report', async () => {
    const result = await run({ report: { opaque: defaultOpaque(new Uint8Array(48).fill(1)) } })
    assert.equal(check(result, 'fwid').code, 'ERR_VERIFY_IDENTITY')
  })

  it('passes the FWID check when the report has none to compare', async () => {
    const opaque = defaultOpaque().filter((field) => field.type !== 20)
    const result = await run({ report: { opaque } })
    assert.equal(check(result, 'fwid').status, 'pass')
  })

  it('rejects a chain to another root than the pinned one', async () => {
    const result = await run({ pinned: true })
    assert.equal(check(result, 'device-chain').code, 'ERR_VERIFY_CHAIN')
    assert.equal(check(result, 'spdm-signature').status, 'pass')
    assert.equal(result.verdict, 'invalid')
  })

  it('rejects a chain missing its intermediate', async () => {
    const chain = chainPem([device.leaf, device.brom, device.identity, device.root])
    const result = await run({ chain })
    assert.equal(check(result, 'device-chain').code, 'ERR_VERIFY_CHAIN')
    assert.equal(check(result, 'device-ocsp').status, 'skipped')
  })

  it('rejects a chain that holds only the root', async () => {
    const result = await run({ chain: chainPem([device.root]) })
    assert.equal(check(result, 'device-chain').code, 'ERR_VERIFY_CHAIN')
    assert.equal(check(result, 'spdm-signature').code, 'ERR_VERIFY_SIGNATURE')
  })

  it('rejects a chain whose certificates expired', async () => {
    const result = await run({ options: { at: new Date('2045-01-01T00:00:00Z') } })
    assert.equal(check(result, 'device-chain').code, 'ERR_VERIFY_EXPIRED')
  })

  it('skips the device checks without a chain', async () => {
    const result = await run({ chain: null })
    for (const name of ['spdm-signature', 'device-chain', 'fwid', 'device-ocsp']) {
      assert.equal(check(result, name).status, 'skipped', name)
    }
    assert.equal(result.verdict, 'indeterminate')
  })

  it('accepts a chain without its root', async () => {
    const chain = chainPem([device.leaf, device.brom, device.provisioner, device.identity])
    const result = await run({ chain })
    assert.equal(check(result, 'device-chain').status, 'pass')
  })

  it('throws ConfigError for expected report data', async () => {
    await assert.rejects(run({ options: { expectedReportData: new Uint8Array(32) } }), {
      code: 'ERR_CONFIG_INVALID',
    })
  })

  it('throws ConfigError for an invalid time', async () => {
    await assert.rejects(run({ options: { at: new Date(Number.NaN) } }), {
      code: 'ERR_CONFIG_INVALID',
    })
  })
})

describe('pinned NVIDIA roots', () => {
  const der = (pem: string) => decodePem(pem)[0]?.der ?? new Uint8Array()
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

  it('have the published fingerprints', () => {
    assert.equal(sha256(der(NVIDIA_DEVICE_ROOT_PEM)), NVIDIA_DEVICE_ROOT_SHA256)
    assert.equal(sha256(der(NVIDIA_RIM_ROOT_PEM)), NVIDIA_RIM_ROOT_SHA256)
  })

  it('equal the root that ends each corpus chain', () => {
    for (const testCase of corpusCases('nvidia-gpu')) {
      const trust = new TextDecoder().decode(
        readCaseFile(testCase, 'trust/nvidia_device_identity_ca.pem'),
      )
      assert.equal(sha256(der(trust)), NVIDIA_DEVICE_ROOT_SHA256, testCase.name)
    }
  })

  it('are self-signed', async () => {
    const cache = new VerificationCache()
    for (const root of [pinnedDeviceRoot(), pinnedRimRoot()]) {
      assert.equal(await signedBy(root, root, crypto, cache), true, root.commonName)
    }
    assert.equal(pinnedDeviceRoot().commonName, 'NVIDIA Device Identity CA')
    assert.equal(pinnedRimRoot().commonName, 'NVIDIA CoRIM signing Root CA')
  })
})
