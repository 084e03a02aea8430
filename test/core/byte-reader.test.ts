import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ByteReader } from '../../src/core/byte-reader.js'
import { ParseError } from '../../src/core/errors.js'

describe('ByteReader', () => {
  it('reads little-endian integers in order', () => {
    const reader = new ByteReader(
      Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      'T',
    )
    assert.equal(reader.u8('a'), 0x01)
    assert.equal(reader.u16le('b'), 0x0302)
    assert.equal(reader.u32le('c'), 0x07060504)
    assert.equal(reader.u64le('d'), 0x0f0e0d0c0b0a0908n)
    assert.equal(reader.remaining, 0)
  })

  it('rejects a read past the end with ERR_PARSE_TRUNCATED', () => {
    const reader = new ByteReader(new Uint8Array(3), 'Header', 100)
    reader.u16le('VERSION')
    assert.throws(
      () => reader.u16le('ATT_KEY_TYPE'),
      (error: unknown) =>
        error instanceof ParseError &&
        error.code === 'ERR_PARSE_TRUNCATED' &&
        error.structure === 'Header' &&
        error.field === 'ATT_KEY_TYPE' &&
        error.offset === 102,
    )
  })

  it('copies byte fields so later input changes do not reach them', () => {
    const input = Uint8Array.of(1, 2, 3)
    const field = new ByteReader(input, 'T').bytes(3, 'f')
    input[0] = 9
    assert.deepEqual([...field], [1, 2, 3])
  })

  it('rejects a negative length as malformed', () => {
    const reader = new ByteReader(new Uint8Array(4), 'T')
    assert.throws(() => reader.bytes(-1, 'f'), { code: 'ERR_PARSE_MALFORMED' })
  })

  it('never reads outside its range, for any reads', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.constantFrom('u8', 'u16le', 'u32le', 'u64le', 'bytes', 'sub'), {
          maxLength: 20,
        }),
        fc.nat(80),
        (input, reads, length) => {
          const reader = new ByteReader(input, 'T')
          for (const read of reads) {
            const before = reader.offset
            try {
              if (read === 'bytes') reader.bytes(length, 'f')
              else if (read === 'sub') reader.sub(length, 'f')
              else reader[read]('f')
            } catch (error) {
              assert.ok(error instanceof ParseError)
              assert.equal(error.code, 'ERR_PARSE_TRUNCATED')
              assert.equal(reader.offset, before)
            }
            assert.ok(reader.offset <= input.length)
          }
        },
      ),
    )
  })
})
