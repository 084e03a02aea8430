/**
 * EAR tokens: confide's own round trips, and every EAR case Veraison and Trustee publish.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  base64url,
  EmbeddedJWK,
  exportJWK,
  generateKeyPair,
  importPKCS8,
  type JWK,
  UnsecuredJWT,
} from 'jose'
import { appraise } from '../../src/appraisal/appraise.js'
import {
  earClaims,
  signEar,
  TRUSTEE_EAR_PROFILE,
  VERAISON_EAR_PROFILE,
} from '../../src/appraisal/ear.js'
import { parseEarClaims } from '../../src/appraisal/ear-claims.js'
import { verifyEar } from '../../src/appraisal/ear-verify.js'
import { earSignerJwk } from '../../src/appraisal/jwks.js'
import type { AppraisalResult } from '../../src/appraisal/types.js'
import { decodePem } from '../../src/core/bytes.js'
import { interopRoot } from '../helpers/corpus.js'

const issuedAt = new Date('2026-01-13T00:00:00Z')
const verifier = { build: 'confide test', developer: 'https://confide.example' }
const earRoot = join(interopRoot, 'ear')

function result(platform = 'tdx'): AppraisalResult {
  return appraise(
    { claims: { platform, measurement: 'aa', debug: false, raw: {} }, verdict: 'valid' },
    { id: 'test:policy' },
    { at: issuedAt },
  )
}

function readCase(name: string, file: string): string {
  return readFileSync(join(earRoot, name, file), 'utf8').trim()
}

function readJson(name: string, file: string): Record<string, unknown> {
  return JSON.parse(readCase(name, file)) as Record<string, unknown>
}

function expectOf(name: string): Record<string, unknown> {
  return readJson(name, 'expect.json').expected as Record<string, unknown>
}

async function p256() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  return { privateKey, publicKey }
}

/** Replaces the payload of a compact JWS, keeping the header and signature. */
function withPayload(token: string, payload: unknown): string {
  const [header, , signature] = token.split('.')
  return `${header}.${base64url.encode(JSON.stringify(payload))}.${signature}`
}

describe('signEar and verifyEar', () => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`round-trips an ${alg} token`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg)
      const submods = { cpu0: result() }
      const token = await signEar(submods, { key: privateKey, alg }, { verifier, issuedAt })
      const ear = await verifyEar(token, { key: publicKey, at: issuedAt })
      assert.deepEqual(ear.claims, earClaims(submods, { verifier, issuedAt }))
      assert.equal(ear.profile, VERAISON_EAR_PROFILE)
      assert.deepEqual(ear.verifier, verifier)
      assert.equal(ear.issuedAt.getTime(), issuedAt.getTime())
      assert.equal(ear.expiresAt?.getTime(), issuedAt.getTime() + 300_000)
      assert.equal(ear.submods.cpu0?.status, submods.cpu0.status)
      assert.equal(ear.submods.cpu0?.policyId, 'test:policy')
      assert.deepEqual(ear.submods.cpu0?.trustVector, submods.cpu0.trustVector)
    })
  }

  it('uses the EAR claim names of Veraison and Trustee', () => {
    const claims = earClaims({ cpu0: result() }, { verifier, issuedAt, nonce: 'n'.repeat(16) })
    assert.deepEqual(Object.keys(claims).sort(), [
      'ear.verifier-id',
      'eat_nonce',
      'eat_profile',
      'exp',
      'iat',
      'submods',
    ])
    const appraisal = (claims.submods as Record<string, Record<string, unknown>>).cpu0 ?? {}
    assert.deepEqual(Object.keys(appraisal).sort(), [
      'ear.appraisal-policy-id',
      'ear.status',
      'ear.trustworthiness-vector',
      'ear.veraison.annotated-evidence',
      'ear.veraison.policy-claims',
    ])
    const vector = appraisal['ear.trustworthiness-vector'] as Record<string, number>
    assert.equal(Object.keys(vector).length, 8)
  })

  it('carries one submodule per device', async () => {
    const { privateKey, publicKey } = await p256()
    const submods = { cpu0: result('tdx'), gpu0: result('nvidia') }
    const token = await signEar(submods, { key: privateKey, alg: 'ES256' }, { verifier, issuedAt })
    const ear = await verifyEar(token, { key: publicKey, at: issuedAt })
    assert.deepEqual(Object.keys(ear.submods).sort(), ['cpu0', 'gpu0'])
    assert.equal(ear.submods.gpu0?.annotatedEvidence?.platform, 'nvidia')
  })

  it('rejects a token whose payload was changed', async () => {
    const { privateKey, publicKey } = await p256()
    const submods = { cpu0: result() }
    const token = await signEar(submods, { key: privateKey, alg: 'ES256' }, { verifier, issuedAt })
    const claims = earClaims(submods, { verifier, issuedAt })
    const forged = withPayload(token, {
      ...claims,
      submods: { cpu0: { 'ear.status': 'affirming' } },
    })
    await assert.rejects(verifyEar(forged, { key: publicKey, at: issuedAt }), {
      code: 'ERR_VERIFY_SIGNATURE',
    })
  })

  it('rejects a token signed by another key', async () => {
    const signer = await p256()
    const other = await p256()
    const token = await signEar(
      { cpu0: result() },
      { key: signer.privateKey, alg: 'ES256' },
      { verifier, issuedAt },
    )
    await assert.rejects(verifyEar(token, { key: other.publicKey, at: issuedAt }), {
      code: 'ERR_VERIFY_SIGNATURE',
    })
  })

  it('rejects an expired token', async () => {
    const { privateKey, publicKey } = await p256()
    const expiresAt = new Date(issuedAt.getTime() + 60_000)
    const token = await signEar(
      { cpu0: result() },
      { key: privateKey, alg: 'ES256' },
      { verifier, issuedAt, expiresAt },
    )
    const after = new Date(expiresAt.getTime() + 1000)
    await assert.rejects(verifyEar(token, { key: publicKey, at: after }), {
      code: 'ERR_VERIFY_TOKEN_EXPIRED',
    })
    await verifyEar(token, { key: publicKey, at: after, clockTolerance: 5 })
  })

  it('rejects an unsigned token', async () => {
    const { publicKey } = await p256()
    const claims = earClaims({ cpu0: result() }, { verifier, issuedAt })
    const token = new UnsecuredJWT(claims as Record<string, unknown>).encode()
    await assert.rejects(verifyEar(token, { key: publicKey, at: issuedAt }), {
      code: 'ERR_VERIFY_SIGNATURE',
    })
  })

  it('rejects an algorithm outside the accepted list', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA')
    const token = await signEar(
      { cpu0: result() },
      { key: privateKey, alg: 'EdDSA' },
      { verifier, issuedAt },
    )
    await assert.rejects(
      verifyEar(token, { key: publicKey, at: issuedAt, algorithms: ['ES256'] }),
      { code: 'ERR_VERIFY_SIGNATURE' },
    )
  })

  it('rejects a profile outside the accepted list', async () => {
    const { privateKey, publicKey } = await p256()
    const token = await signEar(
      { cpu0: result() },
      { key: privateKey, alg: 'ES256' },
      { verifier, issuedAt },
    )
    await assert.rejects(
      verifyEar(token, { key: publicKey, at: issuedAt, profiles: [TRUSTEE_EAR_PROFILE] }),
      { code: 'ERR_PARSE_MALFORMED' },
    )
  })

  it('embeds the public key and key ID on request', async () => {
    const { privateKey, publicKey } = await p256()
    const jwk = await earSignerJwk(publicKey, 'ES256')
    const token = await signEar(
      { cpu0: result() },
      { key: privateKey, alg: 'ES256', jwk, kid: 'k1' },
      { verifier, issuedAt },
    )
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
      jwk: JWK
      kid: string
    }
    assert.deepEqual(header.jwk, jwk)
    assert.equal(header.kid, 'k1')
    await verifyEar(token, { key: EmbeddedJWK, at: issuedAt })
  })

  it('carries the nonce and raw evidence', async () => {
    const { privateKey, publicKey } = await p256()
    const rawEvidence = new Uint8Array([0xde, 0xad, 0xbe, 0xef])
    const nonce = 'nonce-0123456789'
    const options = { verifier, issuedAt, nonce, rawEvidence }
    const token = await signEar({ cpu0: result() }, { key: privateKey, alg: 'ES256' }, options)
    const ear = await verifyEar(token, { key: publicKey, at: issuedAt })
    assert.equal(ear.nonce, nonce)
    assert.deepEqual(ear.rawEvidence, rawEvidence)
    assert.equal(ear.claims['ear.raw-evidence'], '3q2-7w')
  })

  it('refuses options an EAR cannot carry', async () => {
    const { privateKey } = await p256()
    const signer = { key: privateKey, alg: 'ES256' as const }
    await assert.rejects(signEar({}, signer, { verifier, issuedAt }), {
      code: 'ERR_CONFIG_INVALID',
    })
    await assert.rejects(
      signEar({ cpu0: result() }, signer, { verifier, issuedAt, nonce: 'short' }),
      { code: 'ERR_CONFIG_INVALID' },
    )
    await assert.rejects(
      signEar({ cpu0: result() }, signer, { verifier, issuedAt, expiresAt: issuedAt }),
      { code: 'ERR_CONFIG_INVALID' },
    )
  })

  it('refuses a key that does not suit the algorithm', async () => {
    const { privateKey } = await generateKeyPair('EdDSA')
    await assert.rejects(
      signEar({ cpu0: result() }, { key: privateKey, alg: 'ES256' }, { verifier, issuedAt }),
      { code: 'ERR_CONFIG_INVALID' },
    )
  })
})

describe('parseEarClaims', () => {
  const valid = () =>
    earClaims({ cpu0: result() }, { verifier, issuedAt }) as Record<string, unknown>

  const BROKEN: readonly [string, (claims: Record<string, unknown>) => void][] = [
    ['eat_profile', (c) => delete c.eat_profile],
    ['eat_profile', (c) => (c.eat_profile = 'tag:example.com,2026:other')],
    ['iat', (c) => (c.iat = 'yesterday')],
    ['ear.verifier-id', (c) => (c['ear.verifier-id'] = { build: 'x' })],
    ['submods', (c) => (c.submods = {})],
    ['submods.cpu0.ear.status', (c) => (c.submods = { cpu0: { 'ear.status': 'fine' } })],
    [
      'submods.cpu0.ear.trustworthiness-vector.hardware',
      (c) =>
        (c.submods = {
          cpu0: { 'ear.status': 'none', 'ear.trustworthiness-vector': { hardware: 300 } },
        }),
    ],
    [
      'submods.cpu0.ear.trustworthiness-vector.firmware',
      (c) =>
        (c.submods = {
          cpu0: { 'ear.status': 'none', 'ear.trustworthiness-vector': { firmware: 2 } },
        }),
    ],
    ['eat_nonce', (c) => (c.eat_nonce = 'short')],
    ['ear.raw-evidence', (c) => (c['ear.raw-evidence'] = '3q2+7w==')],
  ]

  for (const [field, breakIt] of BROKEN) {
    it(`rejects a bad ${field}`, () => {
      const claims = valid()
      breakIt(claims)
      assert.throws(
        () => parseEarClaims(claims),
        (error: unknown) => {
          assert.ok(
            error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_MALFORMED',
            String(error),
          )
          assert.ok(error.message.includes(field), error.message)
          return true
        },
      )
    })
  }

  it('reads numeric statuses as Veraison does', () => {
    const claims = { ...valid(), submods: { cpu0: { 'ear.status': 96 } } }
    assert.equal(parseEarClaims(claims).submods.cpu0?.status, 'contraindicated')
  })
})

/** How each interop case is checked; a new case folder without an entry fails the test. */
const INTEROP: Readonly<Record<string, (name: string) => Promise<void>>> = {
  'ear-claim-set-examples': async (name) => {
    const dir = join(earRoot, name, 'veraison')
    for (const file of readdirSync(dir)) {
      const claims = JSON.parse(readFileSync(join(dir, file), 'utf8'))
      if (file === 'bad-raw-evidence-std-base64.json') {
        assert.throws(() => parseEarClaims(claims), {
          code: 'ERR_PARSE_MALFORMED',
          field: 'ear.raw-evidence',
        })
        continue
      }
      const ear = parseEarClaims(claims)
      assert.equal(ear.profile, VERAISON_EAR_PROFILE, file)
      if (file === 'ear-claims-key-attestation-ko.json') {
        const appraisal = ear.submods.PARSEC_TPM
        assert.equal(appraisal?.status, 'contraindicated')
        assert.equal(appraisal?.trustVector.executables, 96)
      }
      if (file === 'example-encode-hefty.json')
        assert.deepEqual(ear.rawEvidence, new Uint8Array([0xde, 0xad, 0xbe, 0xef]))
    }
    const trustee = parseEarClaims(readJson(name, 'trustee/example.token.json'))
    assert.equal(trustee.profile, TRUSTEE_EAR_PROFILE)
    assert.equal(trustee.submods.cpu0?.status, 'contraindicated')
  },

  'trustee-as-jwks-fixture': async (name) => {
    const key = await importPKCS8(readCase(name, 'signing-key.pem'), 'ES256', { extractable: true })
    const chain = decodePem(readCase(name, 'cert-chain.pem')).map((block) => block.der)
    const expected = readJson(name, 'expected-jwks.json')
    assert.deepEqual({ keys: [await earSignerJwk(key, 'ES256', chain)] }, expected)
  },

  'trustee-ear-cca-realm-expired': async (name) => {
    const token = readCase(name, 'ear.jwt')
    const expected = expectOf(name)
    await assert.rejects(verifyEar(token, { key: EmbeddedJWK }), {
      code: 'ERR_VERIFY_TOKEN_EXPIRED',
    })
    const iat = readJson(name, 'claims.json').iat as number
    const ear = await verifyEar(token, { key: EmbeddedJWK, at: new Date(iat * 1000) })
    assert.equal(ear.profile, expected.eat_profile)
    assert.deepEqual(Object.keys(ear.submods), expected.submods)
    const binding = expected.runtime_data_binding as { report_data_claim: string }
    assert.equal(ear.submods.cpu0?.annotatedEvidence?.report_data, binding.report_data_claim)
    const header = readJson(name, 'header.json') as { jwk: JWK }
    await verifyEar(token, { key: header.jwk, at: new Date(iat * 1000) })
  },

  'veraison-ear-es256-external-key': async (name) => {
    const token = readCase(name, 'ear.jwt')
    const expected = expectOf(name)
    const key = readJson(name, 'pkey.jwk.json')
    const ear = await verifyEar(token, { key, algorithms: ['ES256'] })
    assert.equal(ear.profile, expected.eat_profile)
    assert.equal(ear.submods.test?.status, expected['submods.test.ear.status'])
    assert.equal(ear.issuedAt.getTime() / 1000, expected.iat)
    assert.equal(ear.expiresAt, undefined)
    assert.deepEqual(ear.claims, readJson(name, 'claims.json'))
    // The header carries no key, so a verifier that insists on one must reject the token.
    await assert.rejects(verifyEar(token, { key: EmbeddedJWK }))
  },

  'veraison-ear-es256-jwk-in-header': async (name) => {
    const ear = await verifyEar(readCase(name, 'ear.jwt'), { key: EmbeddedJWK })
    assert.equal(ear.profile, expectOf(name).eat_profile)
    assert.deepEqual(ear.claims, readJson(name, 'claims.json'))
    const header = readJson(name, 'header.json') as { jwk: Record<string, unknown> }
    const pkey = JSON.parse(readCase('veraison-ear-es256-external-key', 'pkey.jwk.json'))
    assert.deepEqual(
      { kty: header.jwk.kty, crv: header.jwk.crv, x: header.jwk.x, y: header.jwk.y },
      pkey,
    )
    const cut = readCase(name, 'ear-first-char-removed.jwt')
    await assert.rejects(verifyEar(cut, { key: EmbeddedJWK }), { code: 'ERR_PARSE_MALFORMED' })
  },

  'veraison-ear-verify-fail-vectors': async (name) => {
    const key = readJson(name, 'pkey.jwk.json')
    const vectors = expectOf(name).vectors as {
      file: string
      builder_es256_valid: boolean | null
    }[]
    assert.equal(vectors.length, 5)
    for (const vector of vectors) {
      // A signature that verifies leaves the claims to blame; one that does not, the signature;
      // one the builder could not even check, the token's form.
      const code =
        vector.builder_es256_valid === true
          ? 'ERR_PARSE_MALFORMED'
          : vector.builder_es256_valid === false
            ? 'ERR_VERIFY_SIGNATURE'
            : 'ERR_PARSE_MALFORMED'
      await assert.rejects(
        verifyEar(readCase(name, vector.file), { key, algorithms: ['ES256'] }),
        { code },
        vector.file,
      )
    }
    await assert.rejects(
      verifyEar(readCase(name, 'fail-3.jwt'), { key }),
      /eat_profile.*ear\.verifier-id.*submods/,
    )
  },

  'veraison-ear-verify-pass-extensions': async (name) => {
    const key = readJson(name, 'pkey.jwk.json')
    const ear = await verifyEar(readCase(name, 'ear.jwt'), { key, algorithms: ['ES256'] })
    assert.deepEqual(ear.claims, readJson(name, 'expected-serialization.json'))
    const appraisal = ear.submods.test
    assert.deepEqual(appraisal?.annotatedEvidence, { k1: 'v1', k2: 'v2' })
    assert.deepEqual(appraisal?.policyClaims, { bar: 'baz', foo: 'bar' })
    assert.deepEqual(appraisal?.keyAttestation, { akpub: 'YWtwdWIK' })
  },
}

describe('EAR interop cases', () => {
  it('has a check for every case folder', () => {
    assert.deepEqual(readdirSync(earRoot).sort(), Object.keys(INTEROP).sort())
  })

  for (const [name, check] of Object.entries(INTEROP)) {
    it(name, async () => {
      await check(name)
    })
  }

  it('reads a confide EAR with the checks Veraison applies', async () => {
    const { privateKey } = await p256()
    const jwk = await exportJWK(privateKey)
    const token = await signEar(
      { cpu0: result() },
      { key: jwk, alg: 'ES256' },
      { verifier, issuedAt },
    )
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
    assert.equal(payload.eat_profile, 'tag:github.com,2023:veraison/ear')
    assert.equal(typeof payload.iat, 'number')
    assert.equal(typeof payload['ear.verifier-id'].build, 'string')
    assert.equal(typeof payload['ear.verifier-id'].developer, 'string')
    assert.ok(
      ['none', 'affirming', 'warning', 'contraindicated'].includes(
        payload.submods.cpu0['ear.status'],
      ),
    )
  })
})
