import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KbsError } from '../../src/kbs/errors.js'
import { protectedHeaderAad } from '../../src/kbs/jwe.js'
import {
  KBS_TEES,
  parseKbsAttestation,
  parseKbsChallenge,
  parseKbsRequest,
  parseKbsResponse,
} from '../../src/kbs/protocol.js'
import { interopJson } from './interop.js'

const SAMPLES = 'kbs-types-message-samples'

function sample(file: string): unknown {
  return interopJson(SAMPLES, file)
}

function rejectsAsParseError(parse: (json: unknown) => unknown, json: unknown): void {
  assert.throws(
    () => parse(json),
    (error: unknown) => (error as { code?: string }).code === 'ERR_PARSE_MALFORMED',
  )
}

describe('parseKbsRequest', () => {
  it('reads the kbs-types samples', () => {
    assert.deepEqual(parseKbsRequest(sample('request.json')), {
      version: '0.0.0',
      tee: 'tdx',
      'extra-params': '',
    })
    const sev = parseKbsRequest(sample('sev_request.json'))
    assert.equal(typeof sev.tee, 'string')
  })

  it('reads the interop sample request', () => {
    const request = parseKbsRequest(interopJson('trustee-sample-tee-evidence', 'request.json'))
    assert.deepEqual(request, { version: '0.4.0', tee: 'sample', 'extra-params': {} })
  })

  it('knows every TEE name of kbs-types', () => {
    const listed = (interopJson(SAMPLES, 'expect.json') as { tee_values: string[] }).tee_values
    for (const tee of listed) assert.ok((KBS_TEES as readonly string[]).includes(tee), tee)
  })

  it('rejects malformed requests', () => {
    for (const json of [
      null,
      [],
      'tdx',
      { tee: 'tdx', 'extra-params': '' },
      { version: 1, tee: 'tdx' },
      { version: '0.4.0', tee: 'TDX' },
      { version: '0.4.0', tee: 'toString' },
      { version: '0.4.0' },
    ])
      rejectsAsParseError(parseKbsRequest, json)
  })
})

describe('parseKbsChallenge', () => {
  it('reads the kbs-types samples', () => {
    assert.deepEqual(parseKbsChallenge(sample('challenge.json')), {
      nonce: '42',
      'extra-params': '',
    })
    const sev = parseKbsChallenge(sample('sev_challenge.json'))
    assert.equal(sev.nonce, '42')
    assert.equal((sev['extra-params'] as { id: string }).id, 'fakeid')
  })

  it('rejects a challenge without a string nonce', () => {
    rejectsAsParseError(parseKbsChallenge, { 'extra-params': '' })
    rejectsAsParseError(parseKbsChallenge, { nonce: 42 })
  })
})

describe('parseKbsAttestation', () => {
  it('reads the EC sample', () => {
    const attestation = parseKbsAttestation(sample('attestation-ec.json'))
    assert.deepEqual(attestation['runtime-data']['tee-pubkey'], {
      kty: 'EC',
      crv: 'fakecrv',
      alg: 'fakealgorithm',
      x: 'fakex',
      y: 'fakey',
    })
    assert.equal(attestation['tee-evidence'].primary_evidence, 'test_primary_evidence')
    assert.equal(attestation['tee-evidence'].additional_evidence, 'test_additional_evidence')
  })

  it('reads the RSA sample', () => {
    const attestation = parseKbsAttestation(sample('attestation-rsa.json'))
    assert.equal(attestation['runtime-data'].nonce, 'test_nonce')
    assert.deepEqual(attestation['runtime-data']['tee-pubkey'], {
      kty: 'RSA',
      alg: 'fakealgorithm',
      n: 'fakemodulus',
      e: 'fakeexponent',
    })
  })

  it('reads the interop sample attestation', () => {
    const json = interopJson('trustee-sample-tee-evidence', 'attestation.json')
    const attestation = parseKbsAttestation(json)
    assert.deepEqual(attestation['tee-evidence'].primary_evidence, {
      svn: '1',
      report_data: 'RPk8w/GftfhH8Ge7iaE6aDqwGo3Y3dI1Dgj9v5f7vdnGFewzkAgDdJkfbF4fY3Iv',
    })
    assert.equal(attestation['init-data'], undefined)
  })

  it('reads init-data', () => {
    const json = {
      ...(sample('attestation-ec.json') as object),
      'init-data': { format: 'toml', body: 'a = 1' },
    }
    assert.deepEqual(parseKbsAttestation(json)['init-data'], { format: 'toml', body: 'a = 1' })
  })

  it('rejects malformed attestations', () => {
    const good = sample('attestation-ec.json') as Record<string, Record<string, unknown>>
    const runtime = good['runtime-data']!
    const key = runtime['tee-pubkey'] as Record<string, unknown>
    const cases: unknown[] = [
      null,
      { 'tee-evidence': good['tee-evidence'] },
      { 'runtime-data': runtime },
      { ...good, 'runtime-data': { ...runtime, nonce: 7 } },
      { ...good, 'runtime-data': { nonce: 'n' } },
      { ...good, 'runtime-data': { ...runtime, 'tee-pubkey': { ...key, kty: 'OKP' } } },
      { ...good, 'runtime-data': { ...runtime, 'tee-pubkey': { ...key, x: undefined } } },
      { ...good, 'runtime-data': { ...runtime, 'tee-pubkey': { kty: 'RSA', n: 'n', e: 'e' } } },
      { ...good, 'runtime-data': { ...runtime, 'tee-pubkey': { ...key, d: 'private' } } },
      { ...good, 'tee-evidence': { additional_evidence: '' } },
      { ...good, 'tee-evidence': { primary_evidence: {}, additional_evidence: {} } },
      { ...good, 'init-data': { format: 'json' } },
    ]
    for (const json of cases) rejectsAsParseError(parseKbsAttestation, json)
  })
})

describe('parseKbsResponse', () => {
  it('reads every response sample', () => {
    const plain = parseKbsResponse(sample('response.json'))
    assert.equal(plain.encrypted_key, 'ZmFrZWtleQ')
    assert.equal(plain.aad, undefined)
    assert.equal(parseKbsResponse(sample('response-with-aad.json')).aad, 'fakeaad')
    const epk = parseKbsResponse(sample('response-epk-in-protected.json'))
    const header = JSON.parse(Buffer.from(epk.protected, 'base64url').toString('utf8'))
    assert.equal(header.epk.crv, 'X25519')
    const extra = parseKbsResponse(sample('response-extra-protected-field.json'))
    const extraHeader = JSON.parse(Buffer.from(extra.protected, 'base64url').toString('utf8'))
    assert.equal(extraHeader.fakefield, 'fakevalue')
  })

  it('rejects a response without its members', () => {
    rejectsAsParseError(parseKbsResponse, { protected: 'e30' })
    rejectsAsParseError(parseKbsResponse, { ...(sample('response.json') as object), aad: 1 })
  })
})

describe('protectedHeaderAad', () => {
  it('equals the kbs-types generate_aad vector', () => {
    const aad = protectedHeaderAad({ alg: 'fakealg', enc: 'fakeenc' })
    assert.equal(new TextDecoder().decode(aad), 'eyJhbGciOiJmYWtlYWxnIiwiZW5jIjoiZmFrZWVuYyJ9')
  })

  it('gives the protected value of the extra-field sample', () => {
    const aad = protectedHeaderAad({ alg: 'fakealg', enc: 'fakeenc', fakefield: 'fakevalue' })
    const response = sample('response-extra-protected-field.json') as { protected: string }
    assert.equal(new TextDecoder().decode(aad), response.protected)
  })
})

describe('KbsError', () => {
  it('gives Trustee error information', () => {
    const error = new KbsError('ERR_KBS_DENIED', 'policy p denies r')
    assert.equal(error.status, 403)
    assert.deepEqual(error.toErrorInformation(), {
      type: 'https://github.com/confidential-containers/kbs/errors/PolicyDeny',
      detail: 'policy p denies r',
    })
    const shape = Object.keys(sample('error-information.json') as object).sort()
    assert.deepEqual(Object.keys(error.toErrorInformation()).sort(), shape)
  })
})
