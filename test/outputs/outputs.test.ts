/**
 * Attested outputs end to end with the simulated TEE: parties seal inputs, the workload opens
 * them and signs an output, and `verifyOutput` checks it offline, naming the check that fails.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Policy } from '../../src/appraisal/policy.js'
import { toHex } from '../../src/core/bytes.js'
import { isConfideError, ParseError } from '../../src/core/errors.js'
import {
  createOutput,
  encodeOutputBundle,
  encodeOutputDocument,
  type OutputBundle,
  type OutputVerification,
  openInput,
  parseOutputBundle,
  parseOutputDocument,
  SealedInputError,
  sealInput,
  signWithIdentity,
  verifyOutput,
  verifyWorkload,
  type WorkloadPublicKeys,
  workloadReportData,
} from '../../src/outputs/index.js'
import { defaultSimMrTd } from '../../src/platforms/sim/attester.js'
import {
  MADE_AT,
  type SimWorkload,
  sha256,
  simWorkload,
  tamperSimBody,
  VERIFY_AT,
} from './workload.js'

const encoder = new TextEncoder()

interface PooledRun {
  readonly workload: SimWorkload
  readonly sealedA: Uint8Array
  readonly sealedB: Uint8Array
  readonly bundle: OutputBundle
}

/** Two parties seal numbers; the workload opens both and signs their sum. */
async function pooledRun(workload?: SimWorkload): Promise<PooledRun> {
  const run = workload ?? (await simWorkload())
  const keys = run.identity.publicKeys
  const sealedA = await sealInput(keys, encoder.encode('40'), { label: 'party-a/salary' })
  const sealedB = await sealInput(keys, encoder.encode('2'), { label: 'party-b/salary' })
  const openedA = await openInput(run.identity, sealedA, { label: 'party-a/salary' })
  const openedB = await openInput(run.identity, sealedB)
  const sum =
    Number(new TextDecoder().decode(openedA.plaintext)) +
    Number(new TextDecoder().decode(openedB.plaintext))
  const bundle = await createOutput({
    identity: run.identity,
    evidence: run.evidence,
    result: { json: { sum } },
    inputs: [openedA, openedB],
    issuedAt: MADE_AT,
  })

  return { workload: run, sealedA, sealedB, bundle }
}

function verifyOptions(workload: SimWorkload) {
  return { verify: { trustedKeys: [workload.key.publicKeySpki], at: VERIFY_AT } }
}

function check(result: OutputVerification, name: string) {
  const found = result.checks.find((entry) => entry.name === name)
  assert.ok(found, `check ${name} is present`)
  return found
}

function failedChecks(result: OutputVerification): string[] {
  return result.checks.filter((entry) => entry.status === 'fail').map((entry) => entry.name)
}

/** Re-signs a changed document with the workload's own key. */
function resigned(run: PooledRun, change: (json: Record<string, unknown>) => void): OutputBundle {
  const json = JSON.parse(new TextDecoder().decode(run.bundle.document)) as Record<string, unknown>
  change(json)
  const document = encoder.encode(JSON.stringify(json))
  const signature = signWithIdentity(run.workload.identity, document)

  return { ...run.bundle, document, signature }
}

describe('verifyOutput', () => {
  it('verifies a pooled output naming both inputs', async () => {
    const run = await pooledRun()
    const result = await verifyOutput(run.bundle, {
      ...verifyOptions(run.workload),
      expectedInputDigest: [sha256(run.sealedA), sha256(run.sealedB)],
    })
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks))
    assert.deepEqual(
      result.checks.map((entry) => entry.name),
      ['evidence', 'binding', 'signature', 'measurement', 'inputs'],
    )
    assert.deepEqual(result.document.inputs, [
      toHex(sha256(run.sealedA)),
      toHex(sha256(run.sealedB)),
    ])
    assert.deepEqual(result.document.result, { json: { sum: 42 } })
    assert.equal(result.document.code.platform, 'sim')
    assert.equal(result.document.code.measurement, toHex(defaultSimMrTd()))
    assert.equal(result.evidence.claims.measurement, toHex(defaultSimMrTd()))
  })

  it('survives the bundle file form', async () => {
    const run = await pooledRun()
    const bundle = parseOutputBundle(encodeOutputBundle(run.bundle))
    const result = await verifyOutput(bundle, verifyOptions(run.workload))
    assert.equal(result.verdict, 'valid')
  })

  it('verifies an ES256 workload with a bytes result', async () => {
    const workload = await simWorkload({ signatureAlgorithm: 'ES256' })
    const bundle = await createOutput({
      identity: workload.identity,
      evidence: workload.evidence,
      result: { bytes: new Uint8Array([1, 2, 3]) },
      inputs: [],
      issuedAt: MADE_AT,
    })
    const result = await verifyOutput(bundle, verifyOptions(workload))
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks))
    assert.equal(result.document.workload.signatureAlgorithm, 'ES256')
    assert.deepEqual(result.document.result, { bytes: new Uint8Array([1, 2, 3]) })
  })

  it('fails signature when a signature bit flips', async () => {
    const run = await pooledRun()
    const signature = Uint8Array.from(run.bundle.signature)
    signature[10] = (signature[10] ?? 0) ^ 0x01
    const result = await verifyOutput({ ...run.bundle, signature }, verifyOptions(run.workload))
    assert.equal(result.verdict, 'invalid')
    assert.deepEqual(failedChecks(result), ['signature'])
    assert.equal(check(result, 'signature').code, 'ERR_VERIFY_SIGNATURE')
  })

  it('fails signature when the result changes', async () => {
    const run = await pooledRun()
    const json = JSON.parse(new TextDecoder().decode(run.bundle.document)) as Record<
      string,
      unknown
    >
    json.result = { json: { sum: 43 } }
    const document = encoder.encode(JSON.stringify(json))
    const result = await verifyOutput({ ...run.bundle, document }, verifyOptions(run.workload))
    assert.equal(result.verdict, 'invalid')
    assert.deepEqual(failedChecks(result), ['signature'])
    assert.deepEqual(result.document.result, { json: { sum: 43 } })
  })

  it('fails binding for evidence of another identity', async () => {
    const run = await pooledRun()
    const other = await simWorkload()
    const result = await verifyOutput(
      { ...run.bundle, evidence: other.evidence },
      verifyOptions(other),
    )
    assert.equal(result.verdict, 'invalid')
    assert.deepEqual(failedChecks(result), ['binding'])
    assert.equal(check(result, 'binding').code, 'ERR_VERIFY_BINDING')
  })

  it('fails binding for a document naming another HPKE key', async () => {
    const run = await pooledRun()
    const other = await simWorkload()
    const bundle = resigned(run, (json) => {
      const workload = json.workload as Record<string, string>
      workload.hpkePublicKey = Buffer.from(other.identity.publicKeys.hpkePublicKey).toString(
        'base64url',
      )
    })
    const result = await verifyOutput(bundle, verifyOptions(run.workload))
    assert.deepEqual(failedChecks(result), ['binding'])
  })

  it('fails measurement when the document names other code', async () => {
    const run = await pooledRun()
    const bundle = resigned(run, (json) => {
      const code = json.code as Record<string, string>
      code.measurement = '00'.repeat(48)
    })
    const result = await verifyOutput(bundle, verifyOptions(run.workload))
    assert.equal(result.verdict, 'invalid')
    assert.deepEqual(failedChecks(result), ['measurement'])
    assert.equal(check(result, 'measurement').code, 'ERR_VERIFY_MEASUREMENT')
  })

  it('fails measurement when the document names another platform', async () => {
    const run = await pooledRun()
    const bundle = resigned(run, (json) => {
      const code = json.code as Record<string, string>
      code.platform = 'tdx'
    })
    const result = await verifyOutput(bundle, verifyOptions(run.workload))
    assert.deepEqual(failedChecks(result), ['measurement'])
  })

  it('fails evidence when its body is tampered', async () => {
    const run = await pooledRun()
    const evidence = tamperSimBody(run.bundle.evidence, (body) => {
      body.issuedAt = '2026-12-04T17:00:00.000Z'
    })
    const result = await verifyOutput({ ...run.bundle, evidence }, verifyOptions(run.workload))
    assert.equal(result.verdict, 'invalid')
    assert.deepEqual(failedChecks(result), ['evidence'])
    assert.equal(check(result, 'evidence').code, 'ERR_VERIFY_SIGNATURE')
  })

  it('fails evidence and measurement when MRTD is tampered', async () => {
    const run = await pooledRun()
    const evidence = tamperSimBody(run.bundle.evidence, (body) => {
      body.mrTd = 'ab'.repeat(48)
    })
    const result = await verifyOutput({ ...run.bundle, evidence }, verifyOptions(run.workload))
    assert.deepEqual(failedChecks(result), ['evidence', 'measurement'])
  })

  it('fails evidence signed by an untrusted sim key', async () => {
    const run = await pooledRun()
    const stranger = await simWorkload()
    const result = await verifyOutput(run.bundle, verifyOptions(stranger))
    assert.equal(result.verdict, 'invalid')
    assert.deepEqual(failedChecks(result), ['evidence'])
  })

  it('is indeterminate without a trusted sim key', async () => {
    const run = await pooledRun()
    const result = await verifyOutput(run.bundle, { verify: { at: VERIFY_AT } })
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(check(result, 'evidence').status, 'skipped')
    assert.deepEqual(failedChecks(result), [])
  })

  it('fails inputs when a named input is not listed', async () => {
    const run = await pooledRun()
    const keys = run.workload.identity.publicKeys
    const unused = await sealInput(keys, encoder.encode('7'), { label: 'party-c/salary' })
    const result = await verifyOutput(run.bundle, {
      ...verifyOptions(run.workload),
      expectedInputDigest: sha256(unused),
    })
    assert.equal(result.verdict, 'invalid')
    assert.deepEqual(failedChecks(result), ['inputs'])
    assert.equal(check(result, 'inputs').code, 'ERR_VERIFY_INPUT_NOT_LISTED')
    assert.match(check(result, 'inputs').detail, new RegExp(toHex(sha256(unused))))
  })

  it('fails policy for sim evidence unless allowed', async () => {
    const run = await pooledRun()
    const strict: Policy = { id: 'strict' }
    const rejected = await verifyOutput(run.bundle, {
      ...verifyOptions(run.workload),
      policy: strict,
    })
    assert.equal(rejected.verdict, 'invalid')
    assert.deepEqual(failedChecks(rejected), ['policy'])
    assert.equal(check(rejected, 'policy').code, 'ERR_VERIFY_POLICY')
    assert.equal(rejected.appraisal?.status, 'contraindicated')

    const lenient: Policy = { id: 'lenient', allowSimulated: true }
    const accepted = await verifyOutput(run.bundle, {
      ...verifyOptions(run.workload),
      policy: lenient,
    })
    assert.equal(accepted.verdict, 'valid', JSON.stringify(accepted.checks))
    assert.equal(check(accepted, 'policy').status, 'pass')
  })

  it('fails policy when a reference value differs', async () => {
    const run = await pooledRun()
    const policy: Policy = {
      id: 'pinned',
      allowSimulated: true,
      referenceValues: {
        require: ['measurement'],
        values: [
          {
            platform: 'sim',
            claim: 'measurement',
            values: ['cd'.repeat(48)],
            provenance: { source: 'test' },
          },
        ],
      },
    }
    const result = await verifyOutput(run.bundle, { ...verifyOptions(run.workload), policy })
    assert.deepEqual(failedChecks(result), ['policy'])
  })

  it('rejects a document of another version', async () => {
    const run = await pooledRun()
    const json = JSON.parse(new TextDecoder().decode(run.bundle.document)) as Record<
      string,
      unknown
    >
    json.version = 'confide-output/2'
    const document = encoder.encode(JSON.stringify(json))
    await assert.rejects(
      verifyOutput({ ...run.bundle, document }, verifyOptions(run.workload)),
      (error) => isConfideError(error, 'ERR_PARSE_UNSUPPORTED_VERSION'),
    )
  })
})

describe('verifyWorkload', () => {
  it('accepts a workload whose evidence binds its keys', async () => {
    const workload = await simWorkload()
    const result = await verifyWorkload(
      { publicKeys: workload.identity.publicKeys, evidence: workload.evidence },
      verifyOptions(workload),
    )
    assert.equal(result.verdict, 'valid')
    assert.deepEqual(
      result.checks.map((entry) => entry.name),
      ['evidence', 'binding'],
    )
  })

  it('rejects evidence that binds other keys', async () => {
    const workload = await simWorkload()
    const other = await simWorkload()
    const result = await verifyWorkload(
      { publicKeys: other.identity.publicKeys, evidence: workload.evidence },
      verifyOptions(workload),
    )
    assert.equal(result.verdict, 'invalid')
    assert.equal(result.checks.find((entry) => entry.name === 'binding')?.status, 'fail')
  })
})

describe('createOutput', () => {
  it('rejects evidence that does not bind the identity', async () => {
    const workload = await simWorkload()
    const other = await simWorkload()
    await assert.rejects(
      createOutput({
        identity: workload.identity,
        evidence: other.evidence,
        result: { json: null },
        inputs: [],
      }),
      (error) => isConfideError(error, 'ERR_CONFIG_INVALID'),
    )
  })

  it('writes canonical bytes that parse back', async () => {
    const run = await pooledRun()
    const document = parseOutputDocument(run.bundle.document)
    assert.deepEqual(encodeOutputDocument(document), run.bundle.document)
    assert.equal(document.issuedAt, MADE_AT.toISOString())
  })

  it('rejects a document that is not canonical', async () => {
    const run = await pooledRun()
    const text = new TextDecoder().decode(run.bundle.document)
    const variants = [
      `${text}\n`,
      `\ufeff${text}`,
      text.replace('"version"', '"\\u0076ersion"'),
      text.replace('{', '{"result":{"json":999},'),
      JSON.stringify(JSON.parse(text), null, 1),
    ]
    for (const variant of variants) {
      assert.throws(
        () => parseOutputDocument(encoder.encode(variant)),
        (error) => isConfideError(error, 'ERR_PARSE_MALFORMED'),
      )
    }
  })
})

describe('workloadReportData', () => {
  it('hashes the labelled, length-prefixed keys', () => {
    const keys: WorkloadPublicKeys = {
      signatureAlgorithm: 'Ed25519',
      signingKey: new Uint8Array([1, 2, 3]),
      hpkePublicKey: new Uint8Array(32).fill(7),
    }
    const preimage = Buffer.concat([
      Buffer.from('confide-workload-identity/v1\0', 'utf8'),
      Buffer.from([0, 3, 1, 2, 3]),
      Buffer.from([0, 32]),
      Buffer.alloc(32, 7),
    ])
    const expected = new Uint8Array(64)
    expected.set(sha256(new Uint8Array(preimage)))
    assert.deepEqual(workloadReportData(keys), expected)
  })

  it('differs when the keys swap places', () => {
    const a = new Uint8Array(32).fill(1)
    const b = new Uint8Array(32).fill(2)
    const first = workloadReportData({
      signatureAlgorithm: 'Ed25519',
      signingKey: a,
      hpkePublicKey: b,
    })
    const second = workloadReportData({
      signatureAlgorithm: 'Ed25519',
      signingKey: b,
      hpkePublicKey: a,
    })
    assert.notDeepEqual(first, second)
  })
})

describe('openInput', () => {
  it('rejects an input sealed to another workload', async () => {
    const workload = await simWorkload()
    const other = await simWorkload()
    const sealed = await sealInput(other.identity.publicKeys, encoder.encode('secret'), {
      label: 'party-a',
    })
    await assert.rejects(openInput(workload.identity, sealed), (error) => {
      assert.ok(error instanceof SealedInputError)
      assert.equal(error.code, 'ERR_OUTPUT_RECIPIENT')
      return true
    })
  })

  it('rejects another key even with our recipient field', async () => {
    const workload = await simWorkload()
    const other = await simWorkload()
    const sealed = await sealInput(other.identity.publicKeys, encoder.encode('secret'), {
      label: 'party-a',
    })
    const json = JSON.parse(new TextDecoder().decode(sealed)) as Record<string, string>
    json.recipient = toHex(sha256(workload.identity.publicKeys.hpkePublicKey))
    await assert.rejects(
      openInput(workload.identity, encoder.encode(JSON.stringify(json))),
      (error) => error instanceof SealedInputError && error.code === 'ERR_OUTPUT_DECRYPTION',
    )
  })

  for (const field of ['ciphertext', 'enc'] as const) {
    it(`rejects a tampered ${field}`, async () => {
      const workload = await simWorkload()
      const sealed = await sealInput(workload.identity.publicKeys, encoder.encode('secret'), {
        label: 'party-a',
      })
      const json = JSON.parse(new TextDecoder().decode(sealed)) as Record<string, string>
      const bytes = Buffer.from(json[field] ?? '', 'base64url')
      bytes[0] = (bytes[0] ?? 0) ^ 0x01
      json[field] = bytes.toString('base64url')
      await assert.rejects(
        openInput(workload.identity, encoder.encode(JSON.stringify(json))),
        (error) => error instanceof SealedInputError && error.code === 'ERR_OUTPUT_DECRYPTION',
      )
    })
  }

  it('rejects a relabelled input', async () => {
    const workload = await simWorkload()
    const sealed = await sealInput(workload.identity.publicKeys, encoder.encode('secret'), {
      label: 'party-a',
    })
    const json = JSON.parse(new TextDecoder().decode(sealed)) as Record<string, string>
    json.label = 'party-b'
    await assert.rejects(
      openInput(workload.identity, encoder.encode(JSON.stringify(json))),
      (error) => error instanceof SealedInputError && error.code === 'ERR_OUTPUT_DECRYPTION',
    )
  })

  it('rejects an unexpected label', async () => {
    const workload = await simWorkload()
    const sealed = await sealInput(workload.identity.publicKeys, encoder.encode('secret'), {
      label: 'party-a',
    })
    await assert.rejects(
      openInput(workload.identity, sealed, { label: 'party-b' }),
      (error) => error instanceof SealedInputError && error.code === 'ERR_OUTPUT_DECRYPTION',
    )
  })

  it('rejects malformed sealed input', async () => {
    const workload = await simWorkload()
    await assert.rejects(openInput(workload.identity, encoder.encode('[]')), ParseError)
    await assert.rejects(
      openInput(workload.identity, encoder.encode('{"format":"confide-sealed-input/9"}')),
      (error) => isConfideError(error, 'ERR_PARSE_UNSUPPORTED_VERSION'),
    )
  })

  it('rejects an empty label when sealing', async () => {
    const workload = await simWorkload()
    await assert.rejects(
      sealInput(workload.identity.publicKeys, encoder.encode('x'), { label: '' }),
      RangeError,
    )
  })

  it('returns the digest of the sealed bytes', async () => {
    const workload = await simWorkload()
    const sealed = await sealInput(workload.identity.publicKeys, encoder.encode('x'), {
      label: 'party-a',
    })
    const opened = await openInput(workload.identity, sealed)
    assert.deepEqual(opened.digest, sha256(sealed))
    assert.equal(opened.label, 'party-a')
    assert.deepEqual(opened.plaintext, encoder.encode('x'))
  })
})
