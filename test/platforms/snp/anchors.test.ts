import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { bytesEqual, decodePem } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { verifyChain } from '../../../src/pki/chain.js'
import { pinnedArk } from '../../../src/platforms/snp/anchors.js'
import { productFromName, SNP_PRODUCTS } from '../../../src/platforms/snp/product.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'

const crypto = createNodeCrypto()

describe('pinnedArk', () => {
  for (const product of SNP_PRODUCTS) {
    it(`pins a self-signed ARK-${product}`, async () => {
      const ark = pinnedArk(product)
      assert.match(ark.subject, new RegExp(`CN=ARK-${product}$`))
      assert.equal(ark.subject, ark.issuer)
      assert.equal(ark.isCa, true)
      assert.equal(ark.signatureAlgorithm?.name, 'RSA-PSS')
      const result = await verifyChain(ark, [], {
        at: new Date('2030-01-01Z'),
        anchors: [ark],
        crypto,
        cache: new VerificationCache(),
      })
      assert.equal(result.ok, true, result.detail)
      const signed = await crypto.verify(
        ark.signatureAlgorithm!,
        await crypto.importSpki(ark.spki),
        ark.signature,
        ark.tbs,
      )
      assert.equal(signed, true)
    })
  }

  it('equals the ARK of every corpus chain of its product', () => {
    let compared = 0
    for (const testCase of corpusCases('amd-sev-snp')) {
      const format = testCase.expect.format as { product?: string } | undefined
      const product = productFromName(format?.product ?? '')
      const file = ['certs/ask_ark.pem', 'certs/asvk_ark.pem'].find((f) =>
        existsSync(join(testCase.dir, f)),
      )
      if (product === undefined || file === undefined || testCase.expect.derived !== undefined)
        continue
      const blocks = decodePem(new TextDecoder().decode(readCaseFile(testCase, file)))
      assert.ok(bytesEqual(blocks[1]!.der, pinnedArk(product).der), testCase.name)
      compared++
    }
    assert.ok(compared >= 3)
  })
})
