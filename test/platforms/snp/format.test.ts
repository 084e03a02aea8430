import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { toHex } from '../../../src/core/bytes.js'
import { ParseError } from '../../../src/core/errors.js'
import {
  guidToText,
  parseCertificateTable,
  SNP_TABLE_GUIDS,
} from '../../../src/platforms/snp/certificate-table.js'
import {
  parseSnpEvidence,
  parseSnpReport,
  sniffSnpEvidence,
} from '../../../src/platforms/snp/format.js'
import { productFromCpuid, productFromName } from '../../../src/platforms/snp/product.js'
import {
  MAX_REPORT_VERSION,
  MIN_REPORT_VERSION,
  reportFields,
  SNP_REPORT_SIZE,
} from '../../../src/platforms/snp/report-layout.js'
import { corpusCases, readCaseFile } from '../../helpers/corpus.js'
import { CPUID, certificateTable, hclReport, TURIN_TCB, writeReport } from './fake-snp.js'

const corpusReport = readCaseFile(
  corpusCases('amd-sev-snp').find((c) => c.name === 'snp-v5-turin-vcek-msft')!,
  'report.bin',
)

function parseCode(bytes: Uint8Array): string | undefined {
  try {
    parseSnpEvidence(bytes)
    return undefined
  } catch (error) {
    assert.ok(error instanceof ParseError, `not a ParseError: ${String(error)}`)
    return error.code
  }
}

describe('SNP_REPORT_LAYOUT', () => {
  for (let version = MIN_REPORT_VERSION; version <= MAX_REPORT_VERSION; version++) {
    it(`tiles 0x4A0 bytes without gaps for version ${version}`, () => {
      let next = 0
      for (const field of reportFields(version)) {
        assert.equal(field.offset, next, `${field.name} starts at 0x${field.offset.toString(16)}`)
        next = field.offset + field.size
      }
      assert.equal(next, SNP_REPORT_SIZE)
      assert.equal(SNP_REPORT_SIZE, 0x4a0)
    })
  }
})

describe('parseSnpReport', () => {
  it('reads the fields of a version 5 Turin report', () => {
    const report = parseSnpReport(corpusReport)
    assert.equal(report.version, 5)
    assert.deepEqual(report.cpuid, { family: 0x1a, model: 0x02, stepping: 0x01 })
    assert.equal(report.cpuidProduct, 'Turin')
    assert.equal(report.signingKey, 'vcek')
    assert.equal(toHex(report.reportedTcb), '0101010400000051')
    assert.equal(report.launchMitVector, 63n)
    assert.equal(report.signedBytes.length, 0x2a0)
  })

  it('copies the bytes it keeps', () => {
    const input = corpusReport.slice()
    const report = parseSnpReport(input)
    input.fill(0)
    assert.notEqual(toHex(report.measurement), toHex(new Uint8Array(48)))
    assert.notEqual(report.bytes[0], 0)
  })

  it('rejects versions 1 and 6 before reading other fields', () => {
    for (const version of [0, 1, 6, 0xffffffff]) {
      const bytes = writeReport({ version: 3 })
      new DataView(bytes.buffer).setUint32(0, version, true)
      assert.throws(() => parseSnpReport(bytes.subarray(0, 4)), {
        code: 'ERR_PARSE_UNSUPPORTED_VERSION',
      })
    }
  })

  it('rejects non-zero reserved ranges of each version', () => {
    const cases: [number, number][] = [
      [2, 0x18a],
      [3, 0x1a0 - 1],
      [3, 0x04c],
      [3, 0x1eb],
      [3, 0x1f8],
      [5, 0x208],
      [5, 0x2a0 + 144],
      [4, 0x208],
    ]
    for (const [version, offset] of cases) {
      const bytes = writeReport({ version })
      bytes[offset] = 1
      assert.throws(
        () => parseSnpReport(bytes),
        { code: 'ERR_PARSE_RESERVED_NONZERO' },
        `${version} ${offset}`,
      )
    }
  })

  it('skips the version 4 bytes where version 5 keeps mitigation vectors', () => {
    const bytes = writeReport({ version: 4 })
    bytes[0x1f8] = 1
    const report = parseSnpReport(bytes)
    assert.equal(report.launchMitVector, undefined)
  })

  it('rejects policy, key info and algorithm values the specification forbids', () => {
    assert.throws(() => parseSnpReport(writeReport({ policy: 0x10000n })), {
      code: 'ERR_PARSE_MALFORMED',
      field: 'POLICY',
    })
    assert.throws(() => parseSnpReport(writeReport({ policy: 0x30000n | (1n << 26n) })), {
      code: 'ERR_PARSE_RESERVED_NONZERO',
    })
    assert.throws(() => parseSnpReport(writeReport({ keyInfo: 2 << 2 })), {
      code: 'ERR_PARSE_MALFORMED',
      field: 'KEY_INFO',
    })
    assert.throws(() => parseSnpReport(writeReport({ keyInfo: 1 << 5 })), {
      code: 'ERR_PARSE_RESERVED_NONZERO',
    })
    const algorithm = writeReport()
    algorithm[0x34] = 2
    assert.throws(() => parseSnpReport(algorithm), { code: 'ERR_PARSE_UNSUPPORTED_KEY_TYPE' })
  })

  it('reads the signing key and chip key bits', () => {
    assert.equal(parseSnpReport(writeReport({ keyInfo: 1 << 2 })).signingKey, 'vlek')
    const none = parseSnpReport(writeReport({ keyInfo: (7 << 2) | 0x3 }))
    assert.equal(none.signingKey, 'none')
    assert.equal(none.maskChipKey, true)
    assert.equal(none.authorKeyEn, true)
  })

  it('takes the product from CPUID, not from the version', () => {
    const milanV5 = parseSnpReport(writeReport({ version: 5, cpuid: CPUID.Milan }))
    assert.equal(milanV5.cpuidProduct, 'Milan')
    const turinV3 = parseSnpReport(
      writeReport({ version: 3, cpuid: CPUID.Turin, reportedTcb: TURIN_TCB }),
    )
    assert.equal(turinV3.cpuidProduct, 'Turin')
    assert.equal(parseSnpReport(writeReport({ version: 2 })).cpuid, undefined)
  })
})

describe('product names', () => {
  it('accepts names with and without a stepping suffix', () => {
    assert.equal(productFromName('Milan-B0'), 'Milan')
    assert.equal(productFromName('Genoa'), 'Genoa')
    assert.equal(productFromName('Turin-C1'), 'Turin')
    assert.equal(productFromName('Rome'), undefined)
    assert.equal(productFromCpuid(0x19, 0x11), 'Genoa')
    assert.equal(productFromCpuid(0x17, 0x31), undefined)
  })
})

describe('parseSnpEvidence', () => {
  it('throws only ParseError for every truncation of a report', () => {
    for (let length = 0; length < corpusReport.length; length++) {
      assert.ok(parseCode(corpusReport.subarray(0, length)) !== undefined, `length ${length}`)
    }
  })

  it('throws ParseError for extended and HCL truncations', () => {
    const table = certificateTable([
      { guid: SNP_TABLE_GUIDS.vcek, data: new Uint8Array(40).fill(7) },
    ])
    const extended = new Uint8Array([...corpusReport, ...table])
    const hcl = hclReport(corpusReport, new TextEncoder().encode('{"keys":[]}'))
    for (const bytes of [extended, hcl]) {
      for (let length = 0; length < bytes.length; length++) parseCode(bytes.subarray(0, length))
    }
    assert.equal(parseCode(extended.subarray(0, extended.length - 1)), 'ERR_PARSE_TRUNCATED')
  })

  it('reads the certificate table of an extended report', () => {
    const vcek = new Uint8Array(30).fill(1)
    const ask = new Uint8Array(20).fill(2)
    const table = certificateTable([
      { guid: SNP_TABLE_GUIDS.vcek, data: vcek },
      { guid: SNP_TABLE_GUIDS.ask, data: ask },
      { guid: '00112233-4455-6677-8899-aabbccddeeff', data: Uint8Array.of(9) },
    ])
    const evidence = parseSnpEvidence(new Uint8Array([...corpusReport, ...table]))
    assert.equal(evidence.container, 'extended-report')
    assert.deepEqual(
      evidence.certificates.map((e) => e.kind),
      ['vcek', 'ask', undefined],
    )
    assert.deepEqual(evidence.certificates[0]?.data, vcek)
    assert.equal(evidence.certificates[2]?.guid, '00112233-4455-6677-8899-aabbccddeeff')
  })

  it('rejects certificate tables that point outside or repeat a GUID', () => {
    const table = certificateTable([{ guid: SNP_TABLE_GUIDS.vcek, data: new Uint8Array(8) }])
    const view = new DataView(table.buffer)
    view.setUint32(16, 4, true)
    assert.throws(() => parseCertificateTable(table), { code: 'ERR_PARSE_MALFORMED' })
    view.setUint32(16, 48, true)
    view.setUint32(20, 9, true)
    assert.throws(() => parseCertificateTable(table), { code: 'ERR_PARSE_TRUNCATED' })
    const twice = certificateTable([
      { guid: SNP_TABLE_GUIDS.ark, data: Uint8Array.of(1) },
      { guid: SNP_TABLE_GUIDS.ark, data: Uint8Array.of(2) },
    ])
    assert.throws(() => parseCertificateTable(twice), { code: 'ERR_PARSE_MALFORMED' })
    assert.deepEqual(parseCertificateTable(new Uint8Array(0)), [])
  })

  it('formats GUIDs in RFC 4122 byte order', () => {
    const bytes = Uint8Array.of(
      0x63,
      0xda,
      0x75,
      0x8d,
      0xe6,
      0x64,
      0x45,
      0x64,
      0xad,
      0xc5,
      0xf4,
      0xb9,
      0x3b,
      0xe8,
      0xac,
      0xcd,
    )
    assert.equal(guidToText(bytes), SNP_TABLE_GUIDS.vcek)
  })

  it('reads the report and runtime data of an HCL report', () => {
    const runtime = new TextEncoder().encode('{"keys":[]}')
    const evidence = parseSnpEvidence(hclReport(corpusReport, runtime, 2))
    assert.equal(evidence.container, 'hcl')
    assert.equal(evidence.hcl?.hashAlgorithm, 'SHA-384')
    assert.deepEqual(evidence.hcl?.variableData, runtime)
    assert.equal(evidence.report.version, 5)
  })

  it('rejects HCL reports of another TEE or hash type', () => {
    const tdx = hclReport(corpusReport, new Uint8Array(4))
    new DataView(tdx.buffer).setUint32(0x4c8, 4, true)
    assert.throws(() => parseSnpEvidence(tdx), { code: 'ERR_PARSE_UNSUPPORTED_TEE_TYPE' })
    assert.throws(() => parseSnpEvidence(hclReport(corpusReport, new Uint8Array(4), 9)), {
      code: 'ERR_PARSE_MALFORMED',
    })
  })

  it('parses any bytes or throws a ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        assert.equal(typeof sniffSnpEvidence(bytes), 'boolean')
        parseCode(bytes)
      }),
    )
  })

  it('parses a report with random bytes overwritten or throws a ParseError', () => {
    const hcl = hclReport(corpusReport, new TextEncoder().encode('{"keys":[]}'))
    const writes = fc.array(fc.tuple(fc.nat({ max: hcl.length - 1 }), fc.nat({ max: 255 })), {
      maxLength: 8,
    })
    fc.assert(
      fc.property(fc.boolean(), writes, (wrapped, changes) => {
        const bytes = (wrapped ? hcl : corpusReport).slice()
        for (const [offset, value] of changes) if (offset < bytes.length) bytes[offset] = value
        assert.equal(typeof sniffSnpEvidence(bytes), 'boolean')
        parseCode(bytes)
      }),
    )
  })

  it('parses any report it can write, keeping each field', () => {
    const fields = fc.record({
      version: fc.integer({ min: 2, max: 5 }),
      guestSvn: fc.nat({ max: 0xffffffff }),
      vmpl: fc.integer({ min: 0, max: 3 }),
      policyBits: fc.nat({ max: 0x3ff }),
      reportData: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      measurement: fc.uint8Array({ minLength: 48, maxLength: 48 }),
      chipId: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      reportedTcb: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      signingKey: fc.constantFrom(0, 1, 7),
      mitVector: fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
    })
    fc.assert(
      fc.property(fields, (f) => {
        const policy = (BigInt(f.policyBits) << 16n) | 0x20000n
        const bytes = writeReport({
          version: f.version,
          guestSvn: f.guestSvn,
          vmpl: f.vmpl,
          policy,
          reportData: f.reportData,
          measurement: f.measurement,
          chipId: f.chipId,
          reportedTcb: f.reportedTcb,
          keyInfo: f.signingKey << 2,
          launchMitVector: f.mitVector,
        })
        assert.equal(sniffSnpEvidence(bytes), true)
        const report = parseSnpReport(bytes)
        assert.equal(report.version, f.version)
        assert.equal(report.guestSvn, f.guestSvn)
        assert.equal(report.vmpl, f.vmpl)
        assert.equal(report.policy, policy)
        assert.deepEqual(report.reportData, f.reportData)
        assert.deepEqual(report.measurement, f.measurement)
        assert.deepEqual(report.chipId, f.chipId)
        assert.deepEqual(report.reportedTcb, f.reportedTcb)
        assert.equal(report.signingKey, { 0: 'vcek', 1: 'vlek', 7: 'none' }[f.signingKey])
        assert.equal(report.launchMitVector, f.version === 5 ? f.mitVector : undefined)
      }),
    )
  })
})

describe('sniffSnpEvidence', () => {
  it('accepts reports, extended reports and HCL reports', () => {
    assert.equal(sniffSnpEvidence(corpusReport), true)
    const table = certificateTable([{ guid: SNP_TABLE_GUIDS.vcek, data: Uint8Array.of(1) }])
    assert.equal(sniffSnpEvidence(new Uint8Array([...corpusReport, ...table])), true)
    assert.equal(sniffSnpEvidence(hclReport(corpusReport, Uint8Array.of(1))), true)
  })

  it('rejects other bytes', () => {
    assert.equal(sniffSnpEvidence(new Uint8Array(0)), false)
    assert.equal(sniffSnpEvidence(corpusReport.subarray(0, 1183)), false)
    assert.equal(sniffSnpEvidence(new Uint8Array([...corpusReport, 0, 0, 0, 0])), false)
    const dcapLike = corpusReport.slice()
    dcapLike.set([0x04, 0x00, 0x02, 0x00], 0)
    assert.equal(sniffSnpEvidence(dcapLike), false)
    const noPolicyBit = corpusReport.slice()
    noPolicyBit[0x0a] = 0
    assert.equal(sniffSnpEvidence(noPolicyBit), false)
  })
})
