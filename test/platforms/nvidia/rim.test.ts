import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { nvidiaPlatform, parseNvidiaRim } from '../../../src/platforms/nvidia/index.js'
import type { NvidiaVerifyOptions } from '../../../src/platforms/nvidia/verify.js'
import {
  blockValue,
  buildReport,
  buildRim,
  createFakeDevice,
  createFakeRimPki,
  deviceChainPem,
  FAKE_DRIVER_VERSION,
  FAKE_VBIOS_VERSION,
  hexText,
  type RimEntry,
} from '../../helpers/fake-nvidia.js'

const crypto = createNodeCrypto()
const at = new Date('2030-01-01T00:00:00Z')
const device = createFakeDevice()
const pki = createFakeRimPki()
/** The fake report's blocks 1 to 8: RIM indexes 0 to 7. */
const report = hexText(buildReport({ signer: device.leaf }))

/** Driver RIM entries for blocks 1 to 4, VBIOS entries for blocks 5 to 8, each active. */
function entries(range: readonly number[], override?: (index: number) => Uint8Array): RimEntry[] {
  return range.map((index) => ({
    index,
    active: true,
    values: [override?.(index) ?? blockValue(index + 1)],
  }))
}

const driverRim = buildRim({ version: FAKE_DRIVER_VERSION, entries: entries([0, 1, 2, 3]), pki })
const vbiosRim = buildRim({
  version: FAKE_VBIOS_VERSION.toUpperCase(),
  entries: entries([4, 5, 6, 7]),
  pki,
})

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes)
}

function encode(value: string): Uint8Array {
  return new TextEncoder().encode(value)
}

async function run(
  rims: readonly [string, Uint8Array][],
  options: NvidiaVerifyOptions = { rimTrustAnchors: [pki.root.der] },
): Promise<VerificationResult> {
  const platform = nvidiaPlatform(options)
  return platform.verify(platform.parse(report), {
    at,
    collateral: new CollateralBundle([['cert_chain.pem', deviceChainPem(device)], ...rims]),
    trustAnchors: [device.root.der],
    crypto,
    cache: new VerificationCache(),
  })
}

function check(result: VerificationResult, name: string) {
  const found = result.checks.find((c) => c.name === name)
  assert.ok(found, `check ${name} is missing`)
  return found
}

describe('parseNvidiaRim', () => {
  it('reads a generated RIM', () => {
    const rim = parseNvidiaRim(driverRim)
    assert.equal(rim.version, FAKE_DRIVER_VERSION)
    assert.equal(rim.product, 'GH100')
    assert.equal(rim.measurements.length, 4)
    assert.equal(rim.signature.signatureHash, 'SHA-384')
    assert.equal(rim.signature.certificates.length, 3)
  })

  it('rejects a document type declaration', () => {
    const withDoctype = encode(`<!DOCTYPE x [<!ENTITY a "b">]>${text(driverRim)}`)
    assert.throws(() => parseNvidiaRim(withDoctype), { code: 'ERR_PARSE_COLLATERAL' })
  })

  it('rejects XML that is not well-formed', () => {
    assert.throws(() => parseNvidiaRim(encode('<SoftwareIdentity>')), {
      code: 'ERR_PARSE_COLLATERAL',
    })
  })

  it('rejects a second signature', () => {
    const doubled = text(driverRim).replace(
      '</ns0:Payload>',
      '</ns0:Payload><x xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Signature/></x>',
    )
    assert.throws(() => parseNvidiaRim(encode(doubled)), { code: 'ERR_PARSE_COLLATERAL' })
  })

  it('rejects a reference to part of the document', () => {
    const partial = text(driverRim).replace('URI=""', 'URI="#x"')
    assert.throws(() => parseNvidiaRim(encode(partial)), { code: 'ERR_PARSE_COLLATERAL' })
  })

  it('rejects an unsupported signature method', () => {
    const rsa = text(driverRim).replace('xmldsig-more#ecdsa-sha384', 'xmldsig-more#rsa-sha256')
    assert.throws(() => parseNvidiaRim(encode(rsa)), { code: 'ERR_PARSE_COLLATERAL' })
  })

  it('rejects an xml:base on the root', () => {
    const based = text(driverRim).replace(
      'name="GH100"',
      'xml:base="http://example.test/" name="GH100"',
    )
    assert.throws(() => parseNvidiaRim(encode(based)), { code: 'ERR_PARSE_COLLATERAL' })
  })
})

describe('reference values', () => {
  it('pass with matching driver and VBIOS RIMs', async () => {
    const result = await run([
      ['driver.swidtag', driverRim],
      ['vbios.swidtag', vbiosRim],
    ])
    assert.equal(check(result, 'driver-rim').status, 'pass')
    assert.equal(check(result, 'vbios-rim').status, 'pass')
    assert.equal(check(result, 'measurements').status, 'pass')
    assert.match(check(result, 'measurements').detail, /^8 active measurements/)
  })

  it('are skipped when no RIM has the report version', async () => {
    const other = buildRim({ version: '535.00', entries: entries([0]), pki })
    const result = await run([['other.swidtag', other]])
    assert.equal(check(result, 'driver-rim').status, 'skipped')
    assert.match(check(result, 'driver-rim').detail, /no driver RIM for version 550\.90\.07/)
    assert.equal(check(result, 'measurements').status, 'skipped')
    assert.equal(result.verdict, 'indeterminate')
  })

  it('fail when a measurement differs', async () => {
    const differing = buildRim({
      version: FAKE_DRIVER_VERSION,
      entries: entries([0, 1, 2, 3], (index) =>
        new Uint8Array(48).fill(index === 2 ? 0xaa : index + 1),
      ),
      pki,
    })
    const result = await run([['driver.swidtag', differing]])
    const measurements = check(result, 'measurements')
    assert.equal(measurements.code, 'ERR_VERIFY_MEASUREMENT')
    assert.match(measurements.detail, /blocks 3$/)
    assert.equal(result.verdict, 'invalid')
  })

  it('fail when a RIM value changed after signing', async () => {
    const changed = encode(text(driverRim).replace(/ns2:Hash0="01/, 'ns2:Hash0="02'))
    const result = await run([['driver.swidtag', changed]])
    assert.equal(check(result, 'driver-rim').code, 'ERR_VERIFY_SIGNATURE')
    assert.equal(check(result, 'measurements').status, 'skipped')
    assert.equal(result.verdict, 'invalid')
  })

  it('fail when the signature value changed', async () => {
    const changed = encode(
      text(driverRim).replace(/<ds:SignatureValue>(.)/, (_, first: string) => {
        return `<ds:SignatureValue>${first === 'A' ? 'B' : 'A'}`
      }),
    )
    const result = await run([['driver.swidtag', changed]])
    assert.equal(check(result, 'driver-rim').code, 'ERR_VERIFY_SIGNATURE')
  })

  it('fail when the RIM chain ends at another root', async () => {
    const result = await run([['driver.swidtag', driverRim]], {})
    assert.equal(check(result, 'driver-rim').code, 'ERR_VERIFY_CHAIN')
  })

  it('fail when the RIM chain expired', async () => {
    const platform = nvidiaPlatform({ rimTrustAnchors: [pki.root.der] })
    const result = await platform.verify(platform.parse(report), {
      at: new Date('2041-01-01T00:00:00Z'),
      collateral: new CollateralBundle([['driver.swidtag', driverRim]]),
      crypto,
      cache: new VerificationCache(),
    })
    assert.equal(check(result, 'driver-rim').code, 'ERR_VERIFY_EXPIRED')
  })

  it('fail when two RIMs claim one version', async () => {
    const result = await run([
      ['a.swidtag', driverRim],
      ['b.swidtag', driverRim],
    ])
    assert.equal(check(result, 'driver-rim').code, 'ERR_COLLATERAL_MISMATCH')
  })

  it('fail when the driver and VBIOS RIMs overlap', async () => {
    const overlapping = buildRim({ version: FAKE_VBIOS_VERSION, entries: entries([3, 4]), pki })
    const result = await run([
      ['driver.swidtag', driverRim],
      ['vbios.swidtag', overlapping],
    ])
    assert.equal(check(result, 'measurements').code, 'ERR_COLLATERAL_MISMATCH')
  })

  it('accept any of several alternatives and ignore inactive entries', async () => {
    const rim = buildRim({
      version: FAKE_DRIVER_VERSION,
      entries: [
        { index: 0, active: true, values: [new Uint8Array(48).fill(0xee), blockValue(1)] },
        { index: 1, active: false, values: [new Uint8Array(48)] },
      ],
      pki,
    })
    const result = await run([['driver.swidtag', rim]])
    assert.equal(check(result, 'measurements').status, 'pass')
    assert.match(
      check(result, 'measurements').detail,
      /^1 active measurements.*VBIOS RIM was not available/,
    )
  })

  it('skip the NVDEC0 measurement when the decoder is disabled', async () => {
    const rim = buildRim({
      version: FAKE_DRIVER_VERSION,
      entries: [
        { index: 0, active: true, values: [blockValue(1)] },
        { index: 35, active: true, values: [new Uint8Array(48).fill(0x99)] },
      ],
      pki,
    })
    const result = await run([['driver.swidtag', rim]])
    assert.equal(check(result, 'measurements').status, 'pass')
    assert.match(check(result, 'measurements').detail, /block 36 not compared/)
  })

  it('throw ParseError for a RIM file that is not a SWID tag', async () => {
    await assert.rejects(run([['notes.xml', encode('<notes/>')]]), { code: 'ERR_PARSE_COLLATERAL' })
  })
})
