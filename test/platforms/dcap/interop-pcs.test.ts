/**
 * Intel PCS v4 responses as sent (URL-encoded issuer chains in headers, exact bodies): each parses
 * as collateral, its issuer chain verifies to the pinned root, and its signature verifies.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { decodePem } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { parseCertificate } from '../../../src/pki/certificate.js'
import { publicKeyOf, signedBy, verifyChain } from '../../../src/pki/chain.js'
import { parseCrl } from '../../../src/pki/crl.js'
import { INTEL_SGX_ROOT_CA_PEM } from '../../../src/platforms/dcap/anchors.js'
import {
  decodeIssuerChainHeader,
  parseCertificateChain,
} from '../../../src/platforms/dcap/collateral.js'
import { parseQeIdentity } from '../../../src/platforms/dcap/qe-identity.js'
import { parseTcbInfo } from '../../../src/platforms/dcap/tcb-info.js'
import { interopRoot } from '../../helpers/corpus.js'

const crypto = createNodeCrypto()
const cache = new VerificationCache()
const root = decodePem(INTEL_SGX_ROOT_CA_PEM).map((block) => parseCertificate(block.der))
const pcsRoot = join(interopRoot, 'intel-pcs')

interface Response {
  readonly url: string
  readonly headers: Record<string, string>
}

function commonNameOf(subject: string): string | undefined {
  return /(?:^|,)CN=([^,]*)/.exec(subject)?.[1]
}

describe('Intel PCS responses', () => {
  for (const name of readdirSync(pcsRoot).sort()) {
    const dir = join(pcsRoot, name)
    const response = JSON.parse(readFileSync(join(dir, 'headers.json'), 'utf8')) as Response
    const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8'))
    const chainHeader = Object.entries(response.headers).find(([key]) => /issuer-chain$/i.test(key))

    it(`${name}: parses and verifies`, async () => {
      const bodyFile = ['body.json', 'body.der'].find((file) => existsSync(join(dir, file)))
      assert.ok(bodyFile !== undefined, 'the case has a body')
      const body = new Uint8Array(readFileSync(join(dir, bodyFile)))

      if (chainHeader === undefined) {
        // The Root CA CRL comes without a chain: it is signed by the root itself.
        const crl = parseCrl(body)
        assert.ok(await signedBy(crl, root[0]!, crypto, cache))
        return
      }

      const chain = parseCertificateChain(decodeIssuerChainHeader(chainHeader[1]), 'IssuerChain')
      if (existsSync(join(dir, 'issuer-chain.pem'))) {
        const file = parseCertificateChain(
          new Uint8Array(readFileSync(join(dir, 'issuer-chain.pem'))),
          'IssuerChain',
        )
        assert.deepEqual(
          chain.map((c) => c.der),
          file.map((c) => c.der),
        )
      }
      const subjects: string[] = expect.header_checks?.subjects ?? []
      assert.deepEqual(
        chain.map((c) => c.commonName),
        subjects.map(commonNameOf),
      )

      const [leaf, ...intermediates] = chain
      assert.ok(leaf !== undefined)
      const at = new Date('2023-07-01T00:00:00Z')
      const result = await verifyChain(leaf, intermediates, { at, anchors: root, crypto, cache })
      assert.equal(result.ok, true, result.detail)

      if (bodyFile === 'body.der') {
        assert.ok(await signedBy(parseCrl(body), leaf, crypto, cache))
        return
      }
      const signed = /\/tcb\?/.test(response.url) ? parseTcbInfo(body) : parseQeIdentity(body)
      const key = await publicKeyOf(leaf, crypto, cache)
      const algorithm = { name: 'ECDSA', hash: 'SHA-256' } as const
      assert.ok(await crypto.verify(algorithm, key, signed.signature, signed.body))
    })
  }
})
