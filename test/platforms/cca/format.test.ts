import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Tag } from 'cbor-x'
import fc from 'fast-check'
import { ParseError } from '../../../src/core/errors.js'
import { parseCcaToken, sniffCcaToken } from '../../../src/platforms/cca/format.js'
import { parseCoseEc2Key } from '../../../src/platforms/cose/key.js'
import {
  type CcaTokenSpec,
  coseSign1,
  createCcaToken,
  createEcKey,
  encodeCbor,
} from '../../helpers/fake-cca.js'

function parseCode(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (error instanceof ParseError) return error.code
    throw error
  }
  return 'no error'
}

const remove = (key: number) => (claims: Map<number, unknown>) => {
  claims.delete(key)
}
const replace = (key: number, value: unknown) => (claims: Map<number, unknown>) => {
  claims.set(key, value)
}

describe('parseCcaToken', () => {
  it('reads both collection forms', () => {
    assert.equal(parseCcaToken(createCcaToken().bytes).form, 'eat-collection')
    assert.equal(
      parseCcaToken(createCcaToken({ form: 'cmw-collection' }).bytes).form,
      'cmw-collection',
    )
  })

  const rejections: [string, CcaTokenSpec][] = [
    ['a realm token without a challenge', { editRealm: remove(10) }],
    ['a realm challenge of 32 bytes', { editRealm: replace(10, new Uint8Array(32)) }],
    ['a personalization value of 63 bytes', { editRealm: replace(44235, new Uint8Array(63)) }],
    ['a RIM of 20 bytes', { editRealm: replace(44238, new Uint8Array(20)) }],
    [
      'three REMs',
      { editRealm: replace(44239, [new Uint8Array(32), new Uint8Array(32), new Uint8Array(32)]) },
    ],
    ['a REM that is text', { editRealm: replace(44239, ['a', 'b', 'c', 'd']) }],
    ['a hash algorithm that is empty', { editRealm: replace(44236, '') }],
    [
      'a RAK that is not a COSE_Key under a profile',
      { editRealm: replace(44237, new Uint8Array(97).fill(4)) },
    ],
    [
      'a raw RAK of 65 bytes without a profile',
      { rakForm: 'raw-point', editRealm: replace(44237, new Uint8Array(65).fill(4)) },
    ],
    ['a platform token without an instance ID', { editPlatform: remove(256) }],
    [
      'an instance ID that is not a RAND UEID',
      { editPlatform: replace(256, new Uint8Array(33).fill(2)) },
    ],
    ['an implementation ID of 16 bytes', { editPlatform: replace(2396, new Uint8Array(16)) }],
    ['a lifecycle over 0xffff', { editPlatform: replace(2395, 0x10000) }],
    ['software components that are not an array', { editPlatform: replace(2399, 5) }],
    [
      'a software component without a measurement',
      { editPlatform: replace(2399, [new Map<number, unknown>([[5, new Uint8Array(32)]])]) },
    ],
    ['a platform challenge of 20 bytes', { platformChallenge: new Uint8Array(20) }],
  ]
  for (const [name, spec] of rejections) {
    it(`rejects ${name}`, () => {
      assert.equal(
        parseCode(() => parseCcaToken(createCcaToken(spec).bytes)),
        'ERR_PARSE_MALFORMED',
      )
    })
  }

  it('rejects a claim of more than 4096 bytes', () => {
    const token = createCcaToken({ editPlatform: replace(2401, new Uint8Array(4097)) })
    assert.equal(
      parseCode(() => parseCcaToken(token.bytes)),
      'ERR_PARSE_OVERSIZED',
    )
  })

  it('ignores claims it does not know', () => {
    const token = createCcaToken({ editRealm: replace(44243, 'private') })
    assert.equal(parseCcaToken(token.bytes).realm.claims.challenge.length, 64)
  })

  it('rejects another tag, a collection missing a token, and a bare COSE_Sign1', () => {
    const key = createEcKey()
    const sign1 = coseSign1(encodeCbor(new Map<number, unknown>([[10, new Uint8Array(64)]])), key)
    for (const value of [
      new Tag(
        new Map<number, unknown>([
          [44234, sign1],
          [44241, sign1],
        ]),
        400,
      ),
      new Tag(new Map<number, unknown>([[44234, sign1]]), 399),
      new Tag(
        new Map<number, unknown>([
          [44234, sign1],
          [44242, sign1],
        ]),
        399,
      ),
      new Tag(
        new Map<number, unknown>([
          [44234, 'x'],
          [44241, sign1],
        ]),
        399,
      ),
      new Tag(
        new Map<number, unknown>([
          [44234, [263]],
          [44241, [263, sign1]],
        ]),
        907,
      ),
    ]) {
      assert.equal(
        parseCode(() => parseCcaToken(encodeCbor(value))),
        'ERR_PARSE_MALFORMED',
      )
    }
    assert.equal(
      parseCode(() => parseCcaToken(sign1)),
      'ERR_PARSE_MALFORMED',
    )
  })

  it('rejects a COSE_Sign1 with crit, an unknown alg or a short signature', () => {
    const key = createEcKey()
    const protectedWith = (header: Map<number, unknown>) => {
      const bytes = createCcaToken().bytes
      const token = parseCcaToken(bytes)
      const realm = encodeCbor(
        new Tag(
          [encodeCbor(header), new Map(), token.realm.cose.payload, token.realm.cose.signature],
          18,
        ),
      )
      const platform = coseSign1(token.platform.cose.payload, key)
      return encodeCbor(
        new Tag(
          new Map([
            [44234, platform],
            [44241, realm],
          ]),
          399,
        ),
      )
    }
    assert.equal(
      parseCode(() =>
        parseCcaToken(
          protectedWith(
            new Map<number, unknown>([
              [1, -35],
              [2, [4]],
            ]),
          ),
        ),
      ),
      'ERR_PARSE_MALFORMED',
    )
    assert.equal(
      parseCode(() => parseCcaToken(protectedWith(new Map([[1, -37]])))),
      'ERR_PARSE_MALFORMED',
    )
    assert.equal(
      parseCode(() => parseCcaToken(protectedWith(new Map([[1, -7]])))),
      'ERR_PARSE_MALFORMED',
    )
  })

  it('rejects a token over 64 KiB', () => {
    assert.equal(
      parseCode(() => parseCcaToken(new Uint8Array(65 * 1024))),
      'ERR_PARSE_OVERSIZED',
    )
  })
})

describe('parseCoseEc2Key', () => {
  it('rejects keys that are not EC2 keys with both coordinates', () => {
    const x = new Uint8Array(48)
    for (const key of [
      new Map<number, unknown>([
        [1, 1],
        [-1, 2],
        [-2, x],
        [-3, x],
      ]),
      new Map<number, unknown>([
        [1, 2],
        [-1, 9],
        [-2, x],
        [-3, x],
      ]),
      new Map<number, unknown>([
        [1, 2],
        [-1, 2],
        [-2, x],
        [-3, true],
      ]),
      new Map<number, unknown>([
        [1, 2],
        [-1, 2],
        [-2, x],
        [-3, new Uint8Array(32)],
      ]),
    ]) {
      assert.equal(
        parseCode(() => parseCoseEc2Key(encodeCbor(key), 'Test')),
        'ERR_PARSE_MALFORMED',
      )
    }
  })
})

describe('parseCcaToken properties', () => {
  it('throws only ParseError for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => {
        assert.equal(typeof sniffCcaToken(bytes), 'boolean')
        try {
          parseCcaToken(bytes)
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('throws only ParseError for arbitrary claim values', () => {
    const cborValue = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.string(),
        fc.uint8Array({ maxLength: 100 }),
        fc.constantFrom(null, true, false),
        fc.array(tie('value'), { maxLength: 5 }),
        fc
          .array(fc.tuple(fc.oneof(fc.string(), fc.integer()), tie('value')), { maxLength: 4 })
          .map((entries) => new Map(entries)),
      ),
    })).value
    const realmKeys = [10, 265, 44235, 44236, 44237, 44238, 44239, 44240]
    const platformKeys = [10, 256, 265, 2395, 2396, 2399, 2400, 2401, 2402]
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(...realmKeys, ...platformKeys),
        cborValue,
        (inRealm, key, value) => {
          const edit = replace(key, value)
          const token = createCcaToken(inRealm ? { editRealm: edit } : { editPlatform: edit })
          try {
            parseCcaToken(token.bytes)
          } catch (error) {
            assert.ok(error instanceof ParseError, String(error))
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
