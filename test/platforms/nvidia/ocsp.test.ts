import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js'
import {
  createOcspClient,
  type FetchLike,
  nvidiaPlatform,
  type OcspClientOptions,
  ocspUrlOf,
} from '../../../src/platforms/nvidia/index.js'
import { parseOcspResponse } from '../../../src/platforms/nvidia/ocsp.js'
import { createCertId, encodeOcspRequest } from '../../../src/platforms/nvidia/ocsp-request.js'
import {
  blockValue,
  buildReport,
  buildRim,
  createFakeDevice,
  createFakeRimPki,
  deviceChainPem,
  FAKE_DRIVER_VERSION,
  FAKE_VBIOS_VERSION,
  type FakeDevice,
  type FakeRimPki,
  hexText,
  issueOcspResponder,
} from '../../helpers/fake-nvidia.js'
import { type FakeOcspResponder, startFakeOcspResponder } from '../../helpers/fake-ocsp.js'
import { issue } from '../../helpers/fake-pki.js'

const crypto = createNodeCrypto()
const at = new Date('2030-01-01T00:00:00Z')

/** Fetches from the loopback address only, so no test can reach another machine. */
const loopbackOnly: FetchLike = async (url, init) => {
  const host = new URL(url).hostname
  assert.equal(host, '127.0.0.1', `a test tried to contact ${host}`)
  return fetch(url, init)
}

let responder: FakeOcspResponder
let device: FakeDevice
let rimPki: FakeRimPki
let brom: Certificate
let provisioner: Certificate

before(async () => {
  // The certificates name the responder, whose port is known only once it listens.
  responder = await startFakeOcspResponder()
  device = createFakeDevice({ ocspUrl: responder.url })
  rimPki = createFakeRimPki(responder.url)
  responder.answerFor([
    device.root,
    device.identity,
    device.provisioner,
    device.brom,
    rimPki.root,
    rimPki.ca,
  ])
  brom = parseCertificate(device.brom.der)
  provisioner = parseCertificate(device.provisioner.der)
})

after(async () => {
  await responder.close()
})

function client(options: OcspClientOptions = {}) {
  return createOcspClient({ responderUrl: responder.url, fetch: loopbackOnly, ...options })
}

describe('OCSP messages', () => {
  it('encode a request that names the certificate', async () => {
    const certId = await createCertId(brom, provisioner, crypto, 'SHA-384')
    const request = encodeOcspRequest(certId, new Uint8Array(32).fill(7))
    assert.equal(request[0], 0x30)
    assert.equal(certId.serialNumber, brom.serialNumber)
    assert.equal(certId.issuerNameHash.length, 48)
  })

  it('decode an error status without a body', () => {
    const response = parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x03))
    assert.equal(response.status, 'tryLater')
    assert.equal(response.basic, undefined)
  })

  it('reject bytes that are not a response', () => {
    assert.throws(() => parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })

  it('read the responder from authority information access', () => {
    assert.match(ocspUrlOf(brom) ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/)
    assert.equal(ocspUrlOf(parseCertificate(device.leaf.der)), undefined)
  })
})

describe('createOcspClient', () => {
  it('accepts a good answer signed by the issuer', async () => {
    responder.behave({})
    const outcome = await client().check(brom, provisioner, crypto)
    assert.equal(outcome.status, 'good')
  })

  it('remembers an answer until its nextUpdate', async () => {
    responder.behave({})
    const ocsp = client()
    const before = responder.requests()
    await ocsp.check(brom, provisioner, crypto)
    const second = await ocsp.check(brom, provisioner, crypto)
    assert.equal(responder.requests() - before, 1)
    assert.equal(second.status === 'good' && second.cached, true)
  })

  it('asks again once nextUpdate passed', async () => {
    responder.behave({})
    let now = new Date()
    const ocsp = client({ now: () => now })
    const before = responder.requests()
    await ocsp.check(brom, provisioner, crypto)
    now = new Date(now.getTime() + 2 * 3_600_000)
    const outcome = await ocsp.check(brom, provisioner, crypto)
    assert.equal(responder.requests() - before, 2)
    assert.equal(outcome.status, 'rejected')
  })

  it('reports a revoked certificate', async () => {
    responder.behave({ statuses: new Map([[brom.serialNumber, 'revoked']]) })
    const outcome = await client().check(brom, provisioner, crypto)
    assert.equal(outcome.status, 'revoked')
    assert.equal(outcome.status === 'revoked' && outcome.reason, 1)
  })

  it('reports an unknown certificate', async () => {
    responder.behave({ statuses: new Map([[brom.serialNumber, 'unknown']]) })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'unknown')
  })

  it('rejects a broken responder signature', async () => {
    responder.behave({ breakSignature: true })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'rejected')
  })

  it('rejects a responder the issuer did not authorize', async () => {
    const stranger = issueOcspResponder(
      issue({ commonName: 'Other CA', kind: 'P-384', isCa: true }),
    )
    responder.behave({ stranger })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'rejected')
  })

  it('accepts a delegated responder with id-kp-OCSPSigning', async () => {
    responder.behave({ delegate: issueOcspResponder(device.provisioner) })
    const outcome = await client().check(brom, provisioner, crypto)
    assert.equal(outcome.status, 'good')
    assert.equal(outcome.status === 'good' && outcome.signer, 'Fake OCSP Responder')
  })

  it('rejects a delegated responder without id-kp-OCSPSigning', async () => {
    responder.behave({ delegate: issueOcspResponder(device.provisioner, false) })
    const outcome = await client().check(brom, provisioner, crypto)
    assert.equal(outcome.status, 'rejected')
    assert.match(outcome.status === 'rejected' ? outcome.detail : '', /id-kp-OCSPSigning/)
  })

  it('rejects a response without the nonce', async () => {
    responder.behave({ nonce: 'omit' })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'rejected')
  })

  it('rejects a response with another nonce', async () => {
    responder.behave({ nonce: 'wrong' })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'rejected')
  })

  it('accepts a response without a nonce when none was sent', async () => {
    responder.behave({ nonce: 'omit' })
    assert.equal((await client({ nonce: false }).check(brom, provisioner, crypto)).status, 'good')
  })

  it('rejects a response about another certificate', async () => {
    responder.behave({ answerForSerial: '0199' })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'rejected')
  })

  it('rejects a stale response', async () => {
    responder.behave({ thisUpdateOffsetMs: -7_200_000, nextUpdateOffsetMs: -3_600_000 })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'rejected')
  })

  it('rejects a response from the future', async () => {
    responder.behave({ thisUpdateOffsetMs: 3_600_000 })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'rejected')
  })

  it('accepts a fresh response without nextUpdate but does not remember it', async () => {
    responder.behave({ nextUpdateOffsetMs: null })
    const ocsp = client()
    const before = responder.requests()
    assert.equal((await ocsp.check(brom, provisioner, crypto)).status, 'good')
    await ocsp.check(brom, provisioner, crypto)
    assert.equal(responder.requests() - before, 2)
  })

  it('gives up after the timeout', async () => {
    responder.behave({ delayMs: 2000 })
    const started = Date.now()
    const outcome = await client({ timeoutMs: 100 }).check(brom, provisioner, crypto)
    assert.equal(outcome.status, 'unavailable')
    assert.match(outcome.status === 'unavailable' ? outcome.detail : '', /within 100 ms/)
    assert.ok(Date.now() - started < 1500)
  })

  it('reports an error status as unavailable', async () => {
    responder.behave({ responseStatus: 3 })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'unavailable')
  })

  it('reports an HTTP error as unavailable', async () => {
    responder.behave({ httpStatus: 500 })
    assert.equal((await client().check(brom, provisioner, crypto)).status, 'unavailable')
  })

  it('asks the responder the certificate names', async () => {
    responder.behave({})
    const ocsp = createOcspClient({ fetch: loopbackOnly })
    const outcome = await ocsp.check(brom, provisioner, crypto)
    assert.equal(outcome.status, 'good')
    assert.equal(outcome.url, responder.url)
  })

  it('reports a certificate that names no responder as unavailable', async () => {
    const ocsp = createOcspClient({ fetch: loopbackOnly })
    const leaf = parseCertificate(device.leaf.der)
    assert.equal((await ocsp.check(leaf, brom, crypto)).status, 'unavailable')
  })
})

describe('revocation checks of a verification', () => {
  const rims = () => {
    const driver = buildRim({
      version: FAKE_DRIVER_VERSION,
      entries: [0, 1, 2, 3].map((index) => ({
        index,
        active: true,
        values: [blockValue(index + 1)],
      })),
      pki: rimPki,
    })
    const vbios = buildRim({
      version: FAKE_VBIOS_VERSION,
      entries: [4, 5, 6, 7].map((index) => ({
        index,
        active: true,
        values: [blockValue(index + 1)],
      })),
      pki: rimPki,
    })
    return [
      ['driver.swidtag', driver],
      ['vbios.swidtag', vbios],
    ] as [string, Uint8Array][]
  }

  async function run(options: OcspClientOptions | null): Promise<VerificationResult> {
    const platform = nvidiaPlatform({
      ...(options === null ? {} : { ocsp: client(options) }),
      rimTrustAnchors: [rimPki.root.der],
    })
    const report = hexText(buildReport({ signer: device.leaf }))
    return platform.verify(platform.parse(report), {
      at,
      collateral: new CollateralBundle([['cert_chain.pem', deviceChainPem(device)], ...rims()]),
      trustAnchors: [device.root.der],
      crypto,
      cache: new VerificationCache(),
    })
  }

  function status(result: VerificationResult, name: string): string | undefined {
    return result.checks.find((check) => check.name === name)?.status
  }

  it('make a fully checked report valid', async () => {
    responder.behave({})
    const result = await run({})
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.match(result.checks.find((c) => c.name === 'device-ocsp')?.detail ?? '', /BROM" good/)
  })

  it('are skipped offline', async () => {
    const result = await run(null)
    assert.equal(status(result, 'device-ocsp'), 'skipped')
    assert.equal(status(result, 'rim-ocsp'), 'skipped')
    assert.equal(result.verdict, 'indeterminate')
  })

  it('fail for a revoked device certificate', async () => {
    responder.behave({ statuses: new Map([[brom.serialNumber, 'revoked']]) })
    const result = await run({})
    assert.equal(result.checks.find((c) => c.name === 'device-ocsp')?.code, 'ERR_VERIFY_REVOKED')
    assert.equal(status(result, 'rim-ocsp'), 'pass')
    assert.equal(result.verdict, 'invalid')
  })

  it('fail for a revoked RIM signer', async () => {
    const signer = parseCertificate(rimPki.signer.der)
    responder.behave({ statuses: new Map([[signer.serialNumber, 'revoked']]) })
    const result = await run({})
    assert.equal(result.checks.find((c) => c.name === 'rim-ocsp')?.code, 'ERR_VERIFY_REVOKED')
  })

  it('fail for an unknown certificate', async () => {
    responder.behave({ statuses: new Map([[provisioner.serialNumber, 'unknown']]) })
    const result = await run({})
    assert.equal(result.checks.find((c) => c.name === 'device-ocsp')?.code, 'ERR_VERIFY_OCSP')
  })

  it('fail for a bad responder signature', async () => {
    responder.behave({ breakSignature: true })
    const result = await run({})
    assert.equal(result.checks.find((c) => c.name === 'device-ocsp')?.code, 'ERR_VERIFY_OCSP')
    assert.equal(result.verdict, 'invalid')
  })

  it('are skipped when the responder times out', async () => {
    responder.behave({ delayMs: 1000 })
    const result = await run({ timeoutMs: 50 })
    assert.equal(status(result, 'device-ocsp'), 'skipped')
    assert.equal(result.verdict, 'indeterminate')
  })
})
