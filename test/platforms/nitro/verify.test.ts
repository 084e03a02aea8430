import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { decodePem, toHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import type { VerifyContext } from '../../../src/core/platform.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto, digestSync } from '../../../src/crypto/node.js'
import type { CryptoPort } from '../../../src/crypto/port.js'
import {
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
} from '../../../src/platforms/nitro/anchors.js'
import { parseNitroEvidence } from '../../../src/platforms/nitro/evidence.js'
import { TIMESTAMP_SKEW_MS, verifyNitro } from '../../../src/platforms/nitro/verify.js'
import { corpusRoot } from '../../helpers/corpus.js'
import { type Issued, issue } from '../../helpers/fake-pki.js'
import {
  AT,
  buildDocument,
  createNitroPki,
  debugPcrs,
  issueLeaf,
  productionPcrs,
  validDocument,
} from './fake-nitro.js'

const crypto = createNodeCrypto()

function contextFor(
  root: Issued | undefined,
  overrides: Partial<VerifyContext> = {},
): VerifyContext {
  return {
    at: AT,
    crypto,
    cache: new VerificationCache(),
    ...(root === undefined ? {} : { trustAnchors: [root.der] }),
    ...overrides,
  }
}

async function verify(bytes: Uint8Array, context: VerifyContext): Promise<VerificationResult> {
  return verifyNitro(parseNitroEvidence(bytes), context)
}

function check(result: VerificationResult, name: string) {
  const found = result.checks.find((c) => c.name === name)
  assert.ok(found, `no check named ${name}`)
  return found
}

describe('verifyNitro', () => {
  it('accepts a generated document, untagged and tagged', async () => {
    const { pki, leaf } = validDocument()
    for (const tagged of [false, true]) {
      const bytes = buildDocument({ leaf, cabundle: [pki.root.der, pki.intermediate.der], tagged })
      const result = await verify(bytes, contextFor(pki.root))
      assert.equal(result.verdict, 'valid', JSON.stringify(result.checks))
      assert.deepEqual(
        result.checks.map((c) => c.name),
        ['cose-signature', 'certificate-chain', 'timestamp', 'debug'],
      )
      assert.equal(result.platform, 'nitro')
      assert.equal(result.verifiedAt, AT.toISOString())
    }
  })

  it('rejects a self-signed leaf with an empty cabundle', async () => {
    const leaf = issue({ commonName: 'self-signed attester', kind: 'P-384' })
    const bytes = buildDocument({ leaf, cabundle: [] })
    for (const context of [contextFor(undefined), contextFor(createNitroPki().root)]) {
      const result = await verify(bytes, context)
      assert.equal(result.verdict, 'invalid')
      assert.equal(check(result, 'cose-signature').status, 'pass')
      assert.equal(check(result, 'certificate-chain').code, 'ERR_VERIFY_CHAIN')
    }
  })

  it('rejects a cabundle whose first entry is not the pinned root', async () => {
    const trusted = createNitroPki()
    const impostor = createNitroPki()
    const leaf = issueLeaf(impostor.intermediate)
    const bundles = [
      [impostor.root.der, impostor.intermediate.der],
      [trusted.root.der, impostor.intermediate.der],
    ]
    for (const cabundle of bundles) {
      const result = await verify(buildDocument({ leaf, cabundle }), contextFor(trusted.root))
      assert.equal(result.verdict, 'invalid')
      assert.equal(check(result, 'certificate-chain').status, 'fail')
      assert.equal(check(result, 'cose-signature').status, 'pass')
    }
  })

  it('rejects a generated chain under the pinned AWS root', async () => {
    const { bytes } = validDocument()
    const result = await verify(bytes, contextFor(undefined))
    assert.equal(check(result, 'certificate-chain').status, 'fail')
    assert.equal(result.verdict, 'invalid')
  })

  it('rejects an expired or not yet valid leaf', async () => {
    const pki = createNitroPki()
    const windows = [
      { notBefore: new Date('2029-12-31T20:00:00Z'), notAfter: new Date('2029-12-31T23:00:00Z') },
      { notBefore: new Date('2030-01-01T01:00:00Z'), notAfter: new Date('2030-01-01T04:00:00Z') },
    ]
    for (const window of windows) {
      const leaf = issueLeaf(pki.intermediate, window)
      const bytes = buildDocument({ leaf, cabundle: [pki.root.der, pki.intermediate.der] })
      const result = await verify(bytes, contextFor(pki.root))
      assert.equal(check(result, 'certificate-chain').code, 'ERR_VERIFY_EXPIRED')
      assert.equal(result.verdict, 'invalid')
    }
  })

  it('rejects a leaf whose key does not fit ES384', async () => {
    const pki = createNitroPki()
    const leaf = issue({ commonName: 'P-256 leaf', kind: 'P-256', serial: 4 }, pki.intermediate)
    const p384 = issueLeaf(pki.intermediate)
    const bytes = buildDocument({
      leaf: p384,
      certificate: leaf.der,
      cabundle: [pki.root.der, pki.intermediate.der],
    })
    const result = await verify(bytes, contextFor(pki.root))
    assert.equal(check(result, 'cose-signature').code, 'ERR_VERIFY_SIGNATURE')
  })

  it('rejects a document signed by another key than its certificate', async () => {
    const pki = createNitroPki()
    const named = issueLeaf(pki.intermediate)
    const signer = issueLeaf(pki.intermediate)
    const cabundle = [pki.root.der, pki.intermediate.der]
    const bytes = buildDocument({ leaf: signer, certificate: named.der, cabundle })
    const result = await verify(bytes, contextFor(pki.root))
    assert.equal(check(result, 'cose-signature').code, 'ERR_VERIFY_SIGNATURE')
    assert.equal(check(result, 'certificate-chain').status, 'pass')
  })

  it('rejects a document created after the verification time', async () => {
    const early = { timestamp: AT.getTime() + TIMESTAMP_SKEW_MS + 1 }
    const { pki, bytes } = validDocument(early)
    const result = await verify(bytes, contextFor(pki.root))
    assert.equal(check(result, 'timestamp').code, 'ERR_VERIFY_TIMESTAMP')

    const withinSkew = validDocument({ timestamp: AT.getTime() + TIMESTAMP_SKEW_MS })
    const accepted = await verify(withinSkew.bytes, contextFor(withinSkew.pki.root))
    assert.equal(check(accepted, 'timestamp').status, 'pass')
  })

  it('rejects a debug enclave unless debug is allowed', async () => {
    const { pki, bytes } = validDocument({ pcrs: debugPcrs() })
    const strict = await verify(bytes, contextFor(pki.root))
    assert.equal(check(strict, 'debug').code, 'ERR_VERIFY_DEBUG')
    assert.equal(strict.verdict, 'invalid')
    assert.equal(strict.claims.debug, true)

    const allowed = await verify(bytes, contextFor(pki.root, { allowDebug: true }))
    assert.equal(allowed.verdict, 'valid')
  })

  it('treats a missing PCR2 as possible debug mode', async () => {
    const pcrs = productionPcrs()
    pcrs.delete(2)
    const { pki, bytes } = validDocument({ pcrs })
    const strict = await verify(bytes, contextFor(pki.root))
    assert.equal(check(strict, 'debug').code, 'ERR_VERIFY_DEBUG')
    assert.equal(strict.claims.debug, undefined)
    const allowed = await verify(bytes, contextFor(pki.root, { allowDebug: true }))
    assert.equal(allowed.verdict, 'valid')
  })

  it('compares the expected nonce and user data', async () => {
    const nonce = Uint8Array.of(1, 2, 3)
    const userData = Uint8Array.of(4, 5)
    const { pki, bytes } = validDocument({ nonce, userData })
    const matching = await verify(
      bytes,
      contextFor(pki.root, { expectedNonce: nonce, expectedUserData: userData }),
    )
    assert.equal(matching.verdict, 'valid')
    assert.equal(check(matching, 'nonce').status, 'pass')
    assert.equal(check(matching, 'user-data').status, 'pass')

    const wrong = await verify(
      bytes,
      contextFor(pki.root, {
        expectedNonce: Uint8Array.of(1, 2),
        expectedUserData: Uint8Array.of(4, 6),
      }),
    )
    assert.equal(check(wrong, 'nonce').code, 'ERR_VERIFY_BINDING')
    assert.equal(check(wrong, 'user-data').code, 'ERR_VERIFY_BINDING')
  })

  it('rejects an expected nonce when the document has none', async () => {
    const { pki, bytes } = validDocument()
    const result = await verify(bytes, contextFor(pki.root, { expectedNonce: new Uint8Array(0) }))
    assert.equal(check(result, 'nonce').code, 'ERR_VERIFY_BINDING')
  })

  it('throws ConfigError for expected report data', async () => {
    const { pki, bytes } = validDocument()
    await assert.rejects(
      verify(bytes, contextFor(pki.root, { expectedReportData: new Uint8Array(64) })),
      {
        code: 'ERR_CONFIG_INVALID',
      },
    )
  })

  it('throws ConfigError for a trust anchor that is no certificate', async () => {
    const { bytes } = validDocument()
    await assert.rejects(
      verify(bytes, contextFor(undefined, { trustAnchors: [Uint8Array.of(1, 2)] })),
      {
        code: 'ERR_CONFIG_INVALID',
      },
    )
  })

  it('fails the chain for a cabundle entry that is no certificate', async () => {
    const pki = createNitroPki()
    const leaf = issueLeaf(pki.intermediate)
    const bytes = buildDocument({
      leaf,
      cabundle: [pki.root.der, Uint8Array.of(0x30, 0x03, 1, 2, 3)],
    })
    const result = await verify(bytes, contextFor(pki.root))
    assert.equal(check(result, 'certificate-chain').code, 'ERR_PARSE_CERTIFICATE')
  })

  it('checks that a carried document binds its certificate', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    const spki = new Uint8Array(keys.publicKey.export({ type: 'spki', format: 'der' }))
    const pki = createNitroPki()
    const leaf = issueLeaf(pki.intermediate)
    const cabundle = [pki.root.der, pki.intermediate.der]
    const carrierOf = (document: Uint8Array) =>
      issue({
        commonName: 'carrier',
        keyPair: keys,
        extensions: [{ oid: '1.3.6.1.4.1.99999.1', value: document }],
      })

    for (const field of ['userData', 'publicKey'] as const) {
      const bound = carrierOf(buildDocument({ leaf, cabundle, [field]: spki }))
      const result = await verify(bound.der, contextFor(pki.root))
      assert.equal(check(result, 'certificate-binding').status, 'pass')
      assert.equal(result.verdict, 'valid')
    }

    const unbound = carrierOf(buildDocument({ leaf, cabundle, userData: spki.slice(1) }))
    const result = await verify(unbound.der, contextFor(pki.root))
    assert.equal(check(result, 'certificate-binding').code, 'ERR_VERIFY_BINDING')
  })

  it('costs two verifications once the bundle is cached', async () => {
    let verifications = 0
    const counting: CryptoPort = {
      ...crypto,
      verify: (algorithm, key, signature, data) => {
        verifications++
        return crypto.verify(algorithm, key, signature, data)
      },
    }
    const pki = createNitroPki()
    const cabundle = [pki.root.der, pki.intermediate.der]
    const context = contextFor(pki.root, { crypto: counting })
    const first = await verify(
      buildDocument({ leaf: issueLeaf(pki.intermediate), cabundle }),
      context,
    )
    assert.equal(first.verdict, 'valid')
    assert.equal(verifications, 3)

    for (let i = 0; i < 3; i++) {
      verifications = 0
      const next = await verify(
        buildDocument({ leaf: issueLeaf(pki.intermediate), cabundle }),
        context,
      )
      assert.equal(next.verdict, 'valid')
      assert.equal(verifications, 2)
    }
  })

  it('judges cached certificates at each verification time', async () => {
    const root = issue({ commonName: 'Short Root', isCa: true, kind: 'P-384' })
    const intermediate = issue(
      { commonName: 'Short Zone', isCa: true, serial: 2, notAfter: new Date('2031-01-01Z') },
      root,
    )
    const cabundle = [root.der, intermediate.der]
    const context = contextFor(root)
    const leaf = issueLeaf(intermediate)
    const bytes = buildDocument({ leaf, cabundle })
    assert.equal((await verify(bytes, context)).verdict, 'valid')
    const later = await verify(bytes, { ...context, at: new Date('2032-01-01Z') })
    assert.equal(check(later, 'certificate-chain').code, 'ERR_VERIFY_EXPIRED')
  })
})

describe('AWS Nitro Enclaves Root G1', () => {
  const der = decodePem(AWS_NITRO_ROOT_G1_PEM)[0]!.der

  it('has the published SHA-256 fingerprint', () => {
    assert.equal(toHex(digestSync('SHA-256', der)), AWS_NITRO_ROOT_G1_SHA256)
  })

  it('equals the root beside the corpus', () => {
    const path = join(
      corpusRoot,
      'aws-nitro',
      'nitro-blocky-prod',
      'trust',
      'aws_nitro_enclaves_root_g1.pem',
    )
    const corpusDer = decodePem(readFileSync(path, 'utf8'))[0]!.der
    assert.deepEqual(der, corpusDer)
  })
})
