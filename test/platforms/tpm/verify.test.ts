import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concatBytes, encodePem, toHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import { ConfigError, ParseError } from '../../../src/core/errors.js'
import type { VerifyOptions } from '../../../src/core/platform.js'
import type { VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { tpmPlatform } from '../../../src/platforms/tpm/index.js'
import { issue } from '../../helpers/fake-pki.js'
import {
  type AttestSpec,
  createAk,
  createQuote,
  DEFAULT_NONCE,
  type FakeQuote,
  pcrFile,
  signAttest,
  trusteeJson,
  u16,
  writeAttest,
  writeTpm2bPublic,
} from '../../helpers/fake-tpm.js'

const platform = tpmPlatform()
const crypto = createNodeCrypto()
const at = new Date('2030-01-01T00:00:00Z')
const rsaAk = createAk('rsa')

/** Verifies a bare TPMS_ATTEST with its signature and PCR values as collateral. */
async function verifyRaw(
  quote: FakeQuote,
  options: VerifyOptions = {},
  files: readonly [string, Uint8Array][] = [
    ['tpmt_signature.bin', quote.signature],
    ['pcrs_sha256.json', pcrFile(pcrsByIndex(quote))],
  ],
): Promise<VerificationResult> {
  return platform.verify(platform.parse(quote.attest), {
    at,
    crypto,
    cache: new VerificationCache(),
    collateral: new CollateralBundle(files),
    trustedKeys: [quote.ak.spki],
    ...options,
  })
}

async function verifyBytes(
  bytes: Uint8Array,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  return platform.verify(platform.parse(bytes), {
    at,
    crypto,
    cache: new VerificationCache(),
    ...options,
  })
}

/** Returns the 24 PCR values of the default selection, indexed by PCR number. */
function pcrsByIndex(quote: FakeQuote): Uint8Array[] {
  return [...quote.pcrs]
}

function failures(result: VerificationResult): string[] {
  return result.checks
    .filter((check) => check.status === 'fail')
    .map((check) => `${check.name}:${check.code}`)
}

function statusOf(result: VerificationResult, name: string): string | undefined {
  return result.checks.find((check) => check.name === name)?.status
}

describe('verifyTpmQuote: signature schemes', () => {
  const cases: [string, FakeQuote][] = [
    ['RSASSA with SHA-256', createQuote({}, rsaAk, 'rsassa')],
    ['RSAPSS salted with the digest size', createQuote({}, rsaAk, 'rsapss')],
    ['RSAPSS salted with the largest salt', createQuote({}, rsaAk, 'rsapss-max-salt')],
    ['ECDSA on P-256', createQuote({}, createAk('p256'))],
    ['ECDSA on P-384', createQuote({}, createAk('p384'))],
  ]
  for (const [name, quote] of cases) {
    it(`accepts ${name}`, async () => {
      const result = await verifyRaw(quote, { expectedNonce: DEFAULT_NONCE })
      assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
      assert.deepEqual(
        result.checks.map((check) => check.name),
        ['quote-signature', 'attestation-key', 'nonce', 'pcr-digest'],
      )
    })
  }

  it('rejects a signature hashed with SHA-1', async () => {
    const quote = createQuote()
    const signature = signAttest(quote.attest, quote.ak)
    signature.set(u16(0x0004), 2)
    const result = await verifyRaw(quote, {}, [['tpmt_signature.bin', signature]])
    assert.deepEqual(failures(result).slice(0, 1), ['quote-signature:ERR_VERIFY_SIGNATURE'])
  })

  it('rejects an ECDSA signature from an RSA key', async () => {
    const quote = createQuote({}, createAk('p256'))
    const result = await verifyRaw(quote, { trustedKeys: [rsaAk.spki] })
    assert.deepEqual(failures(result), [
      'quote-signature:ERR_VERIFY_SIGNATURE',
      'attestation-key:ERR_VERIFY_UNTRUSTED_KEY',
    ])
  })
})

describe('verifyTpmQuote: negatives', () => {
  it('rejects a replayed quote whose extraData is an old nonce', async () => {
    const quote = createQuote({ extraData: new Uint8Array(32).fill(7) }, rsaAk)
    const result = await verifyRaw(quote, { expectedNonce: DEFAULT_NONCE })
    assert.deepEqual(failures(result), ['nonce:ERR_VERIFY_BINDING'])
  })

  it('rejects PCR values that do not give the pcrDigest', async () => {
    const quote = createQuote({}, rsaAk)
    const values = pcrsByIndex(quote)
    values[7] = new Uint8Array(32).fill(0xee)
    const result = await verifyRaw(quote, {}, [
      ['tpmt_signature.bin', quote.signature],
      ['pcrs_sha256.json', pcrFile(values)],
    ])
    assert.deepEqual(failures(result), ['pcr-digest:ERR_VERIFY_BINDING'])
  })

  it('rejects a PCR value of the wrong size', async () => {
    const quote = createQuote({}, rsaAk)
    const values = pcrsByIndex(quote)
    values[3] = new Uint8Array(48)
    const files: [string, Uint8Array][] = [
      ['tpmt_signature.bin', quote.signature],
      ['pcrs_sha256.json', pcrFile(values)],
    ]
    assert.deepEqual(failures(await verifyRaw(quote, {}, files)), ['pcr-digest:ERR_VERIFY_BINDING'])
  })

  it('rejects a quote signed by a key that is not trusted', async () => {
    const quote = createQuote({}, rsaAk)
    const result = await verifyRaw(quote, { trustedKeys: [createAk('rsa').spki] })
    assert.deepEqual(failures(result), [
      'quote-signature:ERR_VERIFY_SIGNATURE',
      'attestation-key:ERR_VERIFY_UNTRUSTED_KEY',
    ])
  })

  it('rejects a TPMS_ATTEST changed after signing', async () => {
    const quote = createQuote({}, rsaAk)
    const changed = writeAttest({ firmwareVersion: 1n })
    const result = await verifyRaw({ ...quote, attest: changed })
    assert.deepEqual(failures(result), [
      'quote-signature:ERR_VERIFY_SIGNATURE',
      'attestation-key:ERR_VERIFY_UNTRUSTED_KEY',
    ])
  })

  it('compares report data zero-padded to the length of extraData', async () => {
    const nonce = concatBytes(new Uint8Array(20).fill(9), new Uint8Array(44))
    const quote = createQuote({ extraData: nonce }, rsaAk)
    const good = await verifyRaw(quote, { expectedReportData: new Uint8Array(20).fill(9) })
    assert.equal(statusOf(good, 'report-data'), 'pass')
    const bad = await verifyRaw(quote, { expectedReportData: new Uint8Array(20).fill(8) })
    assert.deepEqual(failures(bad), ['report-data:ERR_VERIFY_REPORT_DATA'])
    await assert.rejects(verifyRaw(quote, { expectedReportData: new Uint8Array(67) }), ConfigError)
  })
})

describe('verifyTpmQuote: missing inputs', () => {
  it('skips the signature when none is given', async () => {
    const quote = createQuote({}, rsaAk)
    const result = await verifyRaw(quote, {}, [['pcrs_sha256.json', pcrFile(pcrsByIndex(quote))]])
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(statusOf(result, 'quote-signature'), 'skipped')
    assert.equal(statusOf(result, 'attestation-key'), 'skipped')
  })

  it('skips the PCR digest without PCR values', async () => {
    const quote = createQuote({}, rsaAk)
    const result = await verifyRaw(quote, {}, [['tpmt_signature.bin', quote.signature]])
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(statusOf(result, 'pcr-digest'), 'skipped')
    assert.equal(result.claims.raw.pcrs, null)
  })

  it('skips the PCR digest when a selected PCR has no value', async () => {
    const quote = createQuote({}, rsaAk)
    const files: [string, Uint8Array][] = [
      ['tpmt_signature.bin', quote.signature],
      ['pcrs_sha256.json', pcrFile(quote.pcrs.slice(0, 20))],
    ]
    const result = await verifyRaw(quote, {}, files)
    assert.equal(statusOf(result, 'pcr-digest'), 'skipped')
  })

  it('leaves a Trustee quote indeterminate without trusted keys', async () => {
    const result = await verifyBytes(trusteeJson(createQuote({}, rsaAk)))
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(statusOf(result, 'quote-signature'), 'pass')
    assert.equal(statusOf(result, 'attestation-key'), 'skipped')
  })

  it('rejects a Trustee quote whose AK is not trusted', async () => {
    const result = await verifyBytes(trusteeJson(createQuote({}, rsaAk)), {
      trustedKeys: [createAk('rsa').spki],
    })
    assert.deepEqual(failures(result), ['attestation-key:ERR_VERIFY_UNTRUSTED_KEY'])
  })

  it('rejects a malformed trusted key', async () => {
    const quote = createQuote({}, rsaAk)
    await assert.rejects(verifyRaw(quote, { trustedKeys: [Uint8Array.of(1, 2, 3)] }), ConfigError)
  })

  it('throws ParseError for a malformed PCR file', async () => {
    const quote = createQuote({}, rsaAk)
    const files: [string, Uint8Array][] = [['pcrs_sha256.json', new TextEncoder().encode('["zz"]')]]
    await assert.rejects(
      verifyRaw(quote, {}, files),
      (error: unknown) => error instanceof ParseError && error.code === 'ERR_PARSE_COLLATERAL',
    )
  })
})

describe('verifyTpmQuote: key forms', () => {
  it('accepts a trusted AK given as PEM', async () => {
    const quote = createQuote({}, rsaAk)
    const pem = new TextEncoder().encode(encodePem('PUBLIC KEY', rsaAk.spki))
    assert.equal((await verifyRaw(quote, { trustedKeys: [pem] })).verdict, 'valid')
  })

  for (const kind of ['rsa', 'p256'] as const) {
    it(`accepts a trusted ${kind} AK given as TPM2B_PUBLIC and checks its attributes`, async () => {
      const ak = kind === 'rsa' ? rsaAk : createAk('p256')
      const quote = createQuote({}, ak)
      const result = await verifyRaw(quote, { trustedKeys: [writeTpm2bPublic(ak)] })
      assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
      assert.equal(statusOf(result, 'ak-attributes'), 'pass')
    })
  }

  it('rejects an AK that is not a restricted signing key', async () => {
    const quote = createQuote({}, rsaAk)
    const unrestricted = writeTpm2bPublic(rsaAk, 0x00040072)
    const result = await verifyRaw(quote, { trustedKeys: [unrestricted] })
    assert.deepEqual(failures(result), ['ak-attributes:ERR_VERIFY_UNTRUSTED_KEY'])
  })

  it('picks the AK among several trusted keys', async () => {
    const quote = createQuote({}, rsaAk)
    const result = await verifyRaw(quote, { trustedKeys: [createAk('p256').spki, rsaAk.spki] })
    assert.equal(result.verdict, 'valid')
    assert.match(result.checks[0]?.detail ?? '', /candidate key 2 of 2/)
    assert.equal(result.claims.raw.attestationKey, toHex(rsaAk.spki))
  })
})

describe('verifyTpmQuote: AK certificate', () => {
  const root = issue({ commonName: 'Test AK Root', isCa: true, kind: 'P-256' })
  const intermediate = issue({ commonName: 'Test AK CA', isCa: true, serial: 2 }, root)
  const akCert = issue(
    {
      commonName: 'Test AK',
      keyPair: rsaAk,
      serial: 3,
      notAfter: new Date('2035-01-01T00:00:00Z'),
    },
    intermediate,
  )
  const chain = new TextEncoder().encode(encodePem('CERTIFICATE', intermediate.der))
  const withCertificate = (quote: FakeQuote): [string, Uint8Array][] => [
    ['tpmt_signature.bin', quote.signature],
    ['pcrs_sha256.json', pcrFile(quote.pcrs)],
    ['ak_cert.der', akCert.der],
    ['ak_chain.pem', chain],
  ]

  it('trusts an AK certified by a trusted root', async () => {
    const quote = createQuote({}, rsaAk)
    const result = await verifyRaw(
      quote,
      { trustedKeys: [], trustAnchors: [root.der] },
      withCertificate(quote),
    )
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.deepEqual(
      result.checks.map((check) => `${check.name}:${check.status}`),
      ['ak-certificate:pass', 'quote-signature:pass', 'attestation-key:pass', 'pcr-digest:pass'],
    )
  })

  it('rejects an AK certificate from another root', async () => {
    const quote = createQuote({}, rsaAk)
    const other = issue({ commonName: 'Other Root', isCa: true })
    const result = await verifyRaw(
      quote,
      { trustedKeys: [], trustAnchors: [other.der] },
      withCertificate(quote),
    )
    assert.deepEqual(failures(result), [
      'ak-certificate:ERR_VERIFY_CHAIN',
      'attestation-key:ERR_VERIFY_UNTRUSTED_KEY',
    ])
  })

  it('rejects an expired AK certificate', async () => {
    const quote = createQuote({}, rsaAk)
    const late = new Date('2036-01-01T00:00:00Z')
    const result = await verifyRaw(
      quote,
      { at: late, trustedKeys: [], trustAnchors: [root.der] },
      withCertificate(quote),
    )
    assert.equal(failures(result)[0], 'ak-certificate:ERR_VERIFY_EXPIRED')
  })

  it('skips the certificate without a root to check it against', async () => {
    const quote = createQuote({}, rsaAk)
    const result = await verifyRaw(quote, { trustedKeys: [] }, withCertificate(quote))
    assert.equal(result.verdict, 'indeterminate')
    assert.equal(statusOf(result, 'ak-certificate'), 'skipped')
  })

  it('rejects evidence whose AK is not the certified key', async () => {
    const other = createAk('rsa')
    const quote = createQuote({}, other)
    const files = withCertificate(quote)
    const result = await verifyBytes(trusteeJson(quote), {
      trustAnchors: [root.der],
      collateral: new CollateralBundle(files),
    })
    assert.deepEqual(failures(result), ['attestation-key:ERR_VERIFY_UNTRUSTED_KEY'])
  })
})

describe('verifyTpmQuote: forms and banks', () => {
  it('reads a TPM2B_ATTEST followed by its signature', async () => {
    const quote = createQuote({}, rsaAk)
    const bytes = concatBytes(u16(quote.attest.length), quote.attest, quote.signature)
    const collateral = new CollateralBundle([['pcrs_sha256.json', pcrFile(quote.pcrs)]])
    const result = await verifyBytes(bytes, { trustedKeys: [rsaAk.spki], collateral })
    assert.equal(result.verdict, 'valid')
    assert.equal(result.claims.raw.form, 'tpm2b-attest')
  })

  it('recomputes a digest over two banks from pcrs.json', async () => {
    const sha256 = [0, 1, 7].map((index) => new Uint8Array(32).fill(index + 1))
    const sha384 = [10].map((index) => new Uint8Array(48).fill(index + 1))
    const spec: AttestSpec = {
      banks: [
        { hash: 0x000b, pcrs: [0, 1, 7] },
        { hash: 0x000c, pcrs: [10] },
      ],
      pcrs: [...sha256, ...sha384],
    }
    const quote = createQuote(spec, rsaAk)
    const json = {
      sha256: { 0: toHex(sha256[0]!), 1: toHex(sha256[1]!), 7: toHex(sha256[2]!) },
      sha384: { 10: toHex(sha384[0]!) },
    }
    const files: [string, Uint8Array][] = [
      ['tpmt_signature.bin', quote.signature],
      ['pcrs.json', new TextEncoder().encode(JSON.stringify(json))],
    ]
    const result = await verifyRaw(quote, {}, files)
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
    assert.deepEqual(Object.keys(result.claims.raw.pcrs as object), ['sha256', 'sha384'])
  })

  it('recomputes a SHA-384 digest for a SHA-384 signature', async () => {
    const spec: AttestSpec = { digestHash: 'sha384' }
    const attest = writeAttest(spec)
    const quote = {
      ak: rsaAk,
      attest,
      signature: signAttest(attest, rsaAk, 'rsassa', 'sha384'),
      pcrs: createQuote(spec, rsaAk).pcrs,
    }
    const result = await verifyRaw(quote)
    assert.equal(result.verdict, 'valid', JSON.stringify(result.checks, null, 1))
  })
})
