import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { bytesEqual, concatBytes, decodePem, fromHex, toHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import { ConfigError, ParseError } from '../../../src/core/errors.js'
import type { Platform, VerifyOptions } from '../../../src/core/platform.js'
import { CheckList } from '../../../src/core/result.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { ccaPlatform } from '../../../src/platforms/cca/index.js'
import {
  type CompositeComponentInput,
  compositePlatform,
  encodeCompositeEvidence,
  hasSubmods,
  nonceBindingInput,
} from '../../../src/platforms/composite/index.js'
import { tpmPlatform } from '../../../src/platforms/tpm/index.js'
import { verifyEvidence } from '../../../src/verify.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'
import { createCcaToken, createEcKey } from '../../helpers/fake-cca.js'
import { createAk, createQuote, pcrFile } from '../../helpers/fake-tpm.js'

const crypto = createNodeCrypto()
const at = new Date('2030-01-01T00:00:00Z')

/**
 * A stand-in GPU platform for the tests: evidence is "GPU!" followed by a 32-byte nonce and one
 * status byte (0 valid, 1 invalid, 2 indeterminate). Its nonce claim is `raw.requestNonce`, as
 * NVIDIA's platform names it.
 */
const MAGIC = new TextEncoder().encode('GPU!')
const gpuPlatform: Platform<Uint8Array> = {
  name: 'gpu-test',
  title: 'Test GPU',
  expectations: ['expectedNonce'],
  sniff: (bytes) => bytes.length === 37 && bytesEqual(bytes.subarray(0, 4), MAGIC),
  parse: (bytes) => {
    if (bytes.length !== 37 || !bytesEqual(bytes.subarray(0, 4), MAGIC)) {
      throw new ParseError('ERR_PARSE_MALFORMED', 'not a test GPU report', { structure: 'TestGpu' })
    }
    return bytes.slice(4)
  },
  verify: async (evidence, context) => {
    const checks = new CheckList()
    const status = evidence[32]
    if (status === 1) checks.fail('signature', 'ERR_VERIFY_SIGNATURE', 'test GPU marked invalid')
    else if (status === 2) checks.skip('signature', 'test GPU marked indeterminate')
    else checks.pass('signature', 'test GPU marked valid')
    const nonce = evidence.subarray(0, 32)
    if (context.expectedNonce !== undefined) {
      if (bytesEqual(nonce, context.expectedNonce)) checks.pass('nonce', 'equal')
      else checks.fail('nonce', 'ERR_VERIFY_BINDING', 'differs')
    }
    return {
      platform: 'gpu-test',
      verdict: checks.verdict(),
      advisories: ['TEST-SA-1'],
      claims: { platform: 'gpu-test', raw: { requestNonce: toHex(nonce) } },
      checks: checks.checks,
      verifiedAt: context.at.toISOString(),
    }
  },
}

function gpuReport(nonce: Uint8Array, status = 0): Uint8Array {
  return concatBytes(MAGIC, nonce, Uint8Array.of(status))
}

const nonceA = new Uint8Array(32).fill(0x1a)
const nonceB = new Uint8Array(32).fill(0x2b)
const members = () => [ccaPlatform(), tpmPlatform(), gpuPlatform]

/** Creates a CCA token whose realm challenge is the report data, zero-padded to 64 bytes. */
function cpuToken(reportData: Uint8Array) {
  const challenge = new Uint8Array(64)
  challenge.set(reportData)
  return createCcaToken({ challenge })
}

async function verifyComposite(
  components: readonly CompositeComponentInput[],
  options: VerifyOptions = {},
  platformOptions: { requireNonceBinding?: boolean } = {},
): Promise<VerificationResult> {
  const platform = compositePlatform({ platforms: members, ...platformOptions })
  const bytes = encodeCompositeEvidence(components)
  assert.equal(platform.sniff(bytes), true)
  return platform.verify(platform.parse(bytes), {
    at,
    crypto,
    cache: new VerificationCache(),
    ...options,
  })
}

function checkList(result: VerificationResult): string[] {
  return result.checks.map((check) => `${check.name}:${check.status}`)
}

function sha(hash: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash).update(data).digest())
}

describe('composite evidence: CPU and GPUs', () => {
  it('accepts a CPU whose report data is the GPU nonce', async () => {
    const token = cpuToken(nonceA)
    const result = await verifyComposite(
      [
        { label: 'cpu', platform: 'cca', evidence: token.bytes },
        { label: 'gpu0', platform: 'gpu-test', evidence: gpuReport(nonceA) },
      ],
      { trustedKeys: [token.cpak.spki] },
    )
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.deepEqual(checkList(result), [
      'submod:cpu:pass',
      'submod:gpu0:pass',
      'nonce-binding:pass',
    ])
    assert.deepEqual(result.claims.raw.nonceBinding, {
      cpu: 'cpu',
      devices: ['gpu0'],
      rule: 'shared-nonce',
    })
    assert.ok(hasSubmods(result))
    assert.deepEqual(Object.keys(result.submods), ['cpu', 'gpu0'])
    assert.equal(result.submods.gpu0?.platform, 'gpu-test')
    assert.deepEqual(result.advisories, ['TEST-SA-1'])
  })

  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    it(`accepts a ${hash} of the nonces`, async () => {
      const input = nonceBindingInput(
        new Map([
          ['gpu1', nonceB],
          ['gpu0', nonceA],
        ]),
      )
      assert.deepEqual(input, concatBytes(nonceA, nonceB))
      const token = cpuToken(sha(hash, input))
      const result = await verifyComposite(
        [
          { label: 'gpu1', platform: 'gpu-test', evidence: gpuReport(nonceB) },
          { label: 'cpu', platform: 'cca', evidence: token.bytes },
          { label: 'gpu0', evidence: gpuReport(nonceA) },
        ],
        { trustedKeys: [token.cpak.spki] },
      )
      assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
      const binding = result.claims.raw.nonceBinding as { rule: string; devices: string[] }
      assert.equal(binding.rule, `sha-${hash.slice(3)}-of-nonces`)
      assert.deepEqual(binding.devices, ['gpu0', 'gpu1'])
    })
  }

  it('leaves out the binding check when the report data binds no nonce', async () => {
    const token = cpuToken(new Uint8Array(64).fill(3))
    const components = [
      { label: 'cpu', platform: 'cca', evidence: token.bytes },
      { label: 'gpu0', platform: 'gpu-test', evidence: gpuReport(nonceA) },
    ]
    const result = await verifyComposite(components, { trustedKeys: [token.cpak.spki] })
    assert.equal(result.verdict, 'valid')
    assert.deepEqual(checkList(result), ['submod:cpu:pass', 'submod:gpu0:pass'])
    assert.equal(result.claims.raw.nonceBinding, null)
    const strict = await verifyComposite(
      components,
      { trustedKeys: [token.cpak.spki] },
      { requireNonceBinding: true },
    )
    assert.equal(strict.verdict, 'invalid')
    assert.equal(strict.checks.at(-1)?.code, 'ERR_VERIFY_BINDING')
  })

  it('does not take a nonce shared by differing GPUs', async () => {
    const token = cpuToken(nonceA)
    const result = await verifyComposite(
      [
        { label: 'cpu', platform: 'cca', evidence: token.bytes },
        { label: 'gpu0', platform: 'gpu-test', evidence: gpuReport(nonceA) },
        { label: 'gpu1', platform: 'gpu-test', evidence: gpuReport(nonceB) },
      ],
      { trustedKeys: [token.cpak.spki] },
      { requireNonceBinding: true },
    )
    assert.equal(result.checks.at(-1)?.status, 'fail')
  })

  it('is invalid when one GPU is invalid, with that GPU check code', async () => {
    const token = cpuToken(nonceA)
    const result = await verifyComposite(
      [
        { label: 'cpu', platform: 'cca', evidence: token.bytes },
        { label: 'gpu0', platform: 'gpu-test', evidence: gpuReport(nonceA, 1) },
      ],
      { trustedKeys: [token.cpak.spki] },
    )
    assert.equal(result.verdict, 'invalid')
    const failed = result.checks.find((check) => check.status === 'fail')
    assert.equal(failed?.name, 'submod:gpu0')
    assert.equal(failed?.code, 'ERR_VERIFY_SIGNATURE')
  })

  it('is indeterminate when a component is', async () => {
    const token = cpuToken(nonceA)
    const result = await verifyComposite([
      { label: 'cpu', platform: 'cca', evidence: token.bytes },
      { label: 'gpu0', platform: 'gpu-test', evidence: gpuReport(nonceA, 2) },
    ])
    assert.equal(result.verdict, 'indeterminate')
    assert.deepEqual(checkList(result), [
      'submod:cpu:skipped',
      'submod:gpu0:skipped',
      'nonce-binding:pass',
    ])
  })
})

describe('composite evidence: options and collateral', () => {
  it('routes the nonce to the GPUs', async () => {
    const token = cpuToken(nonceA)
    const components = [
      { label: 'cpu', platform: 'cca', evidence: token.bytes },
      { label: 'gpu0', platform: 'gpu-test', evidence: gpuReport(nonceA) },
    ]
    const options = {
      trustedKeys: [token.cpak.spki],
      expectedNonce: nonceA,
      expectedReportData: nonceA,
    }
    const result = await verifyComposite(components, options)
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.ok(hasSubmods(result))
    assert.deepEqual(checkList(result.submods.gpu0!).slice(-1), ['nonce:pass'])
    assert.deepEqual(checkList(result.submods.cpu!).slice(-1), ['report-data:pass'])
    await assert.rejects(verifyComposite(components, { expectedUserData: nonceA }), ConfigError)
  })

  it('gives the expected nonce to CPUs when no component is a device', async () => {
    const token = cpuToken(nonceA)
    const challenge = concatBytes(nonceA, new Uint8Array(32))
    const result = await verifyComposite(
      [{ label: 'cpu', platform: 'cca', evidence: token.bytes }],
      { trustedKeys: [token.cpak.spki], expectedNonce: challenge },
    )
    assert.ok(hasSubmods(result))
    assert.deepEqual(checkList(result.submods.cpu!).slice(-1), ['nonce:pass'])
  })

  it('gives collateral under a label to that component only', async () => {
    const quote = createQuote({}, createAk('p256'))
    const collateral = new CollateralBundle([
      ['tpm/tpmt_signature.bin', quote.signature],
      ['tpm/pcrs_sha256.json', pcrFile(quote.pcrs)],
      ['other/tpmt_signature.bin', Uint8Array.of(0)],
    ])
    const result = await verifyComposite(
      [{ label: 'tpm', platform: 'tpm', evidence: quote.attest }],
      { trustedKeys: [quote.ak.spki], collateral },
    )
    assert.equal(result.verdict, 'valid', JSON.stringify(result, null, 1))
  })

  it('reads collateral the document carries, and lets the caller override it', async () => {
    const quote = createQuote({}, createAk('p256'))
    const carried = new Map([
      ['tpmt_signature.bin', quote.signature],
      ['pcrs_sha256.json', pcrFile(quote.pcrs)],
    ])
    const components = [
      { label: 'tpm', platform: 'tpm', evidence: quote.attest, collateral: carried },
    ]
    const result = await verifyComposite(components, { trustedKeys: [quote.ak.spki] })
    assert.equal(result.verdict, 'valid')
    const wrongPcrs = pcrFile(quote.pcrs.map(() => new Uint8Array(32)))
    const collateral = new CollateralBundle([['pcrs_sha256.json', wrongPcrs]])
    const overridden = await verifyComposite(components, {
      trustedKeys: [quote.ak.spki],
      collateral,
    })
    assert.equal(overridden.verdict, 'invalid')
  })

  it('names the component whose evidence cannot be read', async () => {
    await assert.rejects(
      verifyComposite([{ label: 'gpu7', platform: 'gpu-test', evidence: Uint8Array.of(1) }]),
      (error: unknown) => error instanceof ParseError && error.message.includes('gpu7'),
    )
    await assert.rejects(
      verifyComposite([{ label: 'gpu8', evidence: Uint8Array.of(1, 2, 3) }]),
      (error: unknown) =>
        error instanceof ParseError &&
        error.code === 'ERR_PARSE_UNKNOWN_FORMAT' &&
        error.message.includes('gpu8'),
    )
  })

  it('rejects a platform name that is not registered', async () => {
    await assert.rejects(
      verifyComposite([{ label: 'x', platform: 'quantum', evidence: Uint8Array.of(1) }]),
      (error: unknown) =>
        error instanceof ConfigError && error.code === 'ERR_CONFIG_UNKNOWN_PLATFORM',
    )
  })
})

describe('composite evidence: the default registry', () => {
  it('verifies the corpus CCA token and TPM quote as one result', async () => {
    const cca = corpusCases('arm-cca').find((c) => c.name === 'cca-tfrmm-fvp-token')
    const tpm = corpusCases('tpm').find((c) => c.name === 'tpm2-quote-rsa-trustee')
    assert.ok(cca)
    assert.ok(tpm)
    const cpak = decodePem(
      new TextDecoder().decode(readCaseFile(cca, 'trust/cca_platform_pub.pem')),
    )[0]!.der
    const bytes = encodeCompositeEvidence([
      { label: 'realm', evidence: readCaseFile(cca, 'cca_token.cbor') },
      { label: 'vm', platform: 'tpm', evidence: readCaseFile(tpm, 'original_tpm_evidence.json') },
    ])
    const result = await verifyEvidence(bytes, {
      trustedKeys: [cpak, readCaseFile(tpm, 'ak_public.der')],
    })
    assert.equal(result.platform, 'composite')
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.ok(hasSubmods(result))
    assert.equal(result.submods.realm?.platform, 'cca')
    assert.equal(result.submods.vm?.platform, 'tpm')
  })

  it('detects a TPM quote and a CCA token inside the document', async () => {
    const token = createCcaToken({ cpak: createEcKey() })
    const quote = createQuote()
    const bytes = encodeCompositeEvidence([
      { label: 'a', evidence: token.bytes },
      {
        label: 'b',
        evidence: concatBytes(
          Uint8Array.of(quote.attest.length >> 8, quote.attest.length & 0xff),
          quote.attest,
          quote.signature,
        ),
      },
    ])
    const result = await verifyEvidence(bytes, { trustedKeys: [token.cpak.spki, quote.ak.spki] })
    assert.ok(hasSubmods(result))
    assert.deepEqual(
      Object.values(result.submods).map((r) => r.platform),
      ['cca', 'tpm'],
    )
  })

  it('plugs in the NVIDIA platform by name', async () => {
    const gpu = corpusCases('nvidia-gpu').find((c) => c.name === 'h100-nvtrust-sample')
    assert.ok(gpu)
    const nonce = fromHex((gpu.expect.claims as { request_nonce: string }).request_nonce)
    const token = cpuToken(sha('sha512', nonce))

    const bytes = encodeCompositeEvidence([
      { label: 'cpu', platform: 'cca', evidence: token.bytes },
      { label: 'gpu0', platform: 'nvidia', evidence: readCaseFile(gpu, 'attestation_report.hex') },
    ])
    const collateral = new CollateralBundle([
      ['gpu0/cert_chain.pem', readCaseFile(gpu, 'cert_chain.pem')],
    ])

    const at = new Date(gpu.expect.verification_time ?? Number.NaN)
    const result = await verifyEvidence(bytes, {
      at,
      trustedKeys: [token.cpak.spki],
      collateral,
      expectedNonce: nonce,
    })

    assert.ok(hasSubmods(result))
    assert.equal(result.submods.gpu0?.platform, 'nvidia')
    assert.notEqual(
      result.submods.gpu0?.verdict,
      'invalid',
      JSON.stringify(result.submods.gpu0?.checks, null, 1),
    )
    assert.equal(result.submods.cpu?.verdict, 'valid')
    assert.deepEqual(result.claims.raw.nonceBinding, {
      cpu: 'cpu',
      devices: ['gpu0'],
      rule: 'sha-512-of-nonces',
    })
  })
})
