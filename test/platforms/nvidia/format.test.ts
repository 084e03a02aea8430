import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { concatBytes, toHex } from '../../../src/core/bytes.js'
import { ParseError } from '../../../src/core/errors.js'
import {
  driverRimId,
  NVIDIA_CHAIN_FILES,
  vbiosRimId,
} from '../../../src/platforms/nvidia/collateral.js'
import { parseNvidiaReport, sniffNvidiaReport } from '../../../src/platforms/nvidia/format.js'
import {
  BLOCK_HEADER_LAYOUT,
  DMTF_MEASUREMENT_LAYOUT,
  REQUEST_LAYOUT,
  REQUEST_SIZE,
  RESPONSE_HEADER_LAYOUT,
  RESPONSE_HEADER_SIZE,
} from '../../../src/platforms/nvidia/layout.js'
import { formatVbiosVersion, parseOpaqueData } from '../../../src/platforms/nvidia/opaque-data.js'
import {
  blockValue,
  buildReport,
  createFakeDevice,
  defaultOpaque,
  FAKE_DRIVER_VERSION,
  FAKE_FWID,
  FAKE_NONCE,
  FAKE_VBIOS_VERSION,
  hexText,
  type OpaqueEntry,
  textField,
} from '../../helpers/fake-nvidia.js'

const device = createFakeDevice()
const signer = device.leaf

function end(layout: readonly { offset: number; size: number }[]): number {
  return Math.max(...layout.map((field) => field.offset + field.size))
}

function parseCode(bytes: Uint8Array): string {
  try {
    parseNvidiaReport(bytes)
  } catch (error) {
    if (error instanceof ParseError) return error.code
    throw error
  }
  return 'parsed'
}

describe('layout tables', () => {
  it('end where the sizes say', () => {
    assert.equal(end(REQUEST_LAYOUT), REQUEST_SIZE)
    assert.equal(REQUEST_SIZE, 37)
    assert.equal(end(RESPONSE_HEADER_LAYOUT), RESPONSE_HEADER_SIZE)
    assert.equal(end(BLOCK_HEADER_LAYOUT), 4)
    assert.equal(end(DMTF_MEASUREMENT_LAYOUT), 3)
  })
})

describe('parseNvidiaReport', () => {
  it('reads every field of a generated report', () => {
    const report = parseNvidiaReport(buildReport({ signer, blocks: [1, 2, 9] }))
    assert.equal(report.form, 'binary')
    assert.deepEqual(report.request.nonce, FAKE_NONCE)
    assert.equal(report.request.measurementOperation, 0xff)
    assert.equal(report.request.slotId, 0)
    assert.deepEqual(
      report.response.blocks.map((block) => block.index),
      [1, 2, 9],
    )
    assert.deepEqual(report.response.blocks[2]?.value, blockValue(9))
    assert.equal(report.response.numberOfBlocks, 3)
    assert.equal(report.response.measurementRecordLength, 3 * 55)
    assert.equal(report.response.opaqueData.driverVersion, FAKE_DRIVER_VERSION)
    assert.equal(report.response.opaqueData.vbiosVersion, FAKE_VBIOS_VERSION)
    assert.deepEqual(report.response.opaqueData.fwid, FAKE_FWID)
    assert.equal(report.response.opaqueData.nvdec0Status, 0x55)
    assert.equal(report.trailingBytes, 0)
  })

  it('reads hex text like the binary it encodes', () => {
    const binary = buildReport({ signer })
    const fromText = parseNvidiaReport(hexText(binary))
    assert.equal(fromText.form, 'hex')
    assert.deepEqual(fromText.signedBytes, parseNvidiaReport(binary).signedBytes)
  })

  it('tolerates zero bytes after the signature', () => {
    const report = parseNvidiaReport(buildReport({ signer, trailing: new Uint8Array(3) }))
    assert.equal(report.trailingBytes, 3)
  })

  it('rejects a non-zero byte after the signature', () => {
    assert.equal(
      parseCode(buildReport({ signer, trailing: Uint8Array.of(0, 1) })),
      'ERR_PARSE_MALFORMED',
    )
  })

  it('rejects SPDM versions other than 1.1', () => {
    const bytes = buildReport({ signer })
    bytes[0] = 0x12
    assert.equal(parseCode(bytes), 'ERR_PARSE_UNSUPPORTED_VERSION')
    const response = buildReport({ signer })
    response[REQUEST_SIZE] = 0x10
    assert.equal(parseCode(response), 'ERR_PARSE_UNSUPPORTED_VERSION')
  })

  it('rejects a request without a signature requested', () => {
    const bytes = buildReport({ signer })
    bytes[2] = 0
    assert.equal(parseCode(bytes), 'ERR_PARSE_MALFORMED')
  })

  it('rejects a block given twice', () => {
    assert.equal(parseCode(buildReport({ signer, blocks: [1, 1] })), 'ERR_PARSE_MALFORMED')
  })

  it('rejects a record longer than its blocks', () => {
    const bytes = buildReport({ signer, blocks: [1, 2] })
    bytes[REQUEST_SIZE + 4] = 1
    assert.equal(parseCode(bytes), 'ERR_PARSE_MALFORMED')
  })

  it('rejects an SPDM ERROR response', () => {
    const bytes = buildReport({ signer })
    bytes[REQUEST_SIZE + 1] = 0x7f
    assert.equal(parseCode(bytes), 'ERR_PARSE_MALFORMED')
  })

  it('rejects hex text with an odd number of digits', () => {
    assert.equal(parseCode(new TextEncoder().encode('11e0f')), 'ERR_PARSE_MALFORMED')
  })

  it('reads text that is not hex as binary', () => {
    assert.equal(
      parseCode(new TextEncoder().encode('z'.repeat(40))),
      'ERR_PARSE_UNSUPPORTED_VERSION',
    )
  })

  it('rejects input over the size limit', () => {
    assert.equal(parseCode(new Uint8Array(64 * 1024 * 3 + 1).fill(0x11)), 'ERR_PARSE_OVERSIZED')
  })
})

describe('sniffNvidiaReport', () => {
  it('accepts binary and hex reports', () => {
    const binary = buildReport({ signer })
    assert.equal(sniffNvidiaReport(binary), true)
    assert.equal(sniffNvidiaReport(hexText(binary)), true)
    assert.equal(sniffNvidiaReport(new TextEncoder().encode('\n 11E001ff')), true)
  })

  it('rejects other input', () => {
    assert.equal(sniffNvidiaReport(Uint8Array.of(0x11, 0x60)), false)
    assert.equal(sniffNvidiaReport(new TextEncoder().encode('-----BEGIN')), false)
    assert.equal(sniffNvidiaReport(new Uint8Array()), false)
  })
})

describe('parseOpaqueData', () => {
  const encode = (fields: readonly OpaqueEntry[]) =>
    concatBytes(
      ...fields.map((f) =>
        concatBytes(
          Uint8Array.of(f.type & 0xff, f.type >> 8, f.value.length & 0xff, f.value.length >> 8),
          f.value,
        ),
      ),
    )

  it('names known types and keeps unknown ones', () => {
    const data = parseOpaqueData(
      encode([textField(35, 'GH100'), { type: 99, value: Uint8Array.of(7) }]),
    )
    assert.deepEqual(
      data.fields.map((field) => field.name),
      ['CHIP_INFO', 'TYPE_99'],
    )
    assert.equal(data.chipInfo, 'GH100')
  })

  it('reads measurement counts as u32 values', () => {
    const data = parseOpaqueData(
      encode([{ type: 12, value: Uint8Array.of(1, 0, 0, 0, 2, 1, 0, 0) }]),
    )
    assert.deepEqual(data.measurementCounts, [1, 258])
  })

  it('rejects a type given twice', () => {
    const bytes = encode([textField(3, '1'), textField(3, '2')])
    assert.throws(() => parseOpaqueData(bytes), { code: 'ERR_PARSE_MALFORMED' })
  })

  it('rejects a field running past the end', () => {
    const bytes = encode([textField(3, '550')]).subarray(0, 6)
    assert.throws(() => parseOpaqueData(bytes), { code: 'ERR_PARSE_TRUNCATED' })
  })

  it('rejects a driver version that is not text', () => {
    assert.throws(() => parseOpaqueData(encode([{ type: 3, value: Uint8Array.of(0x35, 0x01) }])), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })

  it('formats VBIOS versions the way NVIDIA does', () => {
    assert.equal(formatVbiosVersion(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), '04.03.02.01.05')
  })
})

describe('RIM file IDs', () => {
  it('derive from the opaque data', () => {
    const report = parseNvidiaReport(buildReport({ signer }))
    assert.equal(driverRimId(report), `NV_GPU_DRIVER_GH100_${FAKE_DRIVER_VERSION}`)
    assert.equal(vbiosRimId(report), 'NV_GPU_VBIOS_1010_0200_882_96009F0001')
    assert.ok(NVIDIA_CHAIN_FILES.includes('cert_chain.pem'))
  })
})

describe('parser properties', () => {
  const blockIndexes = fc.uniqueArray(fc.integer({ min: 1, max: 254 }), {
    minLength: 1,
    maxLength: 12,
  })
  const opaqueExtras = fc.array(
    fc.record({
      type: fc.integer({ min: 40, max: 250 }),
      value: fc.uint8Array({ maxLength: 40 }),
    }),
    { maxLength: 4 },
  )

  it('round-trips generated reports', () => {
    fc.assert(
      fc.property(
        blockIndexes,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        opaqueExtras,
        (blocks, nonce, extras) => {
          const unique = extras.filter((e, i) => extras.findIndex((f) => f.type === e.type) === i)
          const opaque = [...defaultOpaque(), ...unique]
          const report = parseNvidiaReport(buildReport({ signer, blocks, nonce, opaque }))
          assert.deepEqual(
            report.response.blocks.map((b) => b.index),
            blocks,
          )
          assert.equal(toHex(report.request.nonce), toHex(nonce))
          assert.equal(report.response.opaqueData.fields.length, opaque.length)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('throws only ParseError for arbitrary bytes after a valid request', () => {
    const request = buildReport({ signer }).subarray(0, REQUEST_SIZE)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (tail) => {
        const code = parseCode(concatBytes(request, Uint8Array.of(0x11, 0x60), tail))
        assert.ok(code.startsWith('ERR_PARSE_') || code === 'parsed', code)
      }),
      { numRuns: 500 },
    )
  })
})
