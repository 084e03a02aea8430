import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ErrorCode } from '../../../src/core/errors.js'
import type { QeIdentity } from '../../../src/platforms/dcap/qe-identity.js'
import {
  convergeStatus,
  type EvaluationFailure,
  evaluateQeIdentity,
  evaluateTdxModule,
  isFailure,
  LEVEL_STATUSES,
  type LevelStatus,
  matchTcbLevel,
  type PlatformTcb,
  type QeReportIdentity,
} from '../../../src/platforms/dcap/tcb-evaluation.js'
import type {
  IsvSvnLevel,
  TcbInfo,
  TcbLevel,
  TdxModuleIdentity,
} from '../../../src/platforms/dcap/tcb-info.js'

const fill = (size: number, byte: number) => new Uint8Array(size).fill(byte)

/** Sixteen components from the first few; the rest are zero. */
function sixteen(...values: number[]): number[] {
  return Array.from({ length: 16 }, (_, i) => values[i] ?? 0)
}

/** Sixteen TEE_TCB_SVN bytes from the first few. */
function teeTcbSvn(...values: number[]): Uint8Array {
  return Uint8Array.from(sixteen(...values))
}

function level(
  status: string,
  sgx: number[],
  pceSvn: number,
  tdx?: number[],
  advisoryIds: string[] = [],
): TcbLevel {
  return {
    sgxComponents: sixteen(...sgx),
    pceSvn,
    ...(tdx === undefined ? {} : { tdxComponents: sixteen(...tdx) }),
    tcbDate: '2029-06-01T00:00:00Z',
    tcbStatus: status,
    advisoryIds,
  }
}

function isvLevel(isvSvn: number, tcbStatus: string, advisoryIds: string[] = []): IsvSvnLevel {
  return { isvSvn, tcbDate: '2029-06-01T00:00:00Z', tcbStatus, advisoryIds }
}

const MODULE_SIGNER = fill(48, 0x00)

function moduleIdentity(id: string, levels: IsvSvnLevel[]): TdxModuleIdentity {
  return {
    id,
    mrSigner: MODULE_SIGNER,
    attributes: new Uint8Array(8),
    attributesMask: fill(8, 0xff),
    tcbLevels: levels,
  }
}

function tcbInfo(levels: TcbLevel[], tdx?: Partial<TcbInfo>): TcbInfo {
  return {
    id: tdx === undefined ? 'SGX' : 'TDX',
    version: 3,
    issueDate: new Date('2029-12-20T00:00:00Z'),
    nextUpdate: new Date('2030-01-19T00:00:00Z'),
    fmspc: new Uint8Array(6),
    pceId: new Uint8Array(2),
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModuleIdentities: [],
    tcbLevels: levels,
    ...tdx,
  }
}

/** Asserts a failure and returns it. */
function expectFailure(value: object, code: ErrorCode): EvaluationFailure {
  assert.ok(isFailure(value), `expected a failure, got ${JSON.stringify(value)}`)
  assert.equal(value.code, code)

  return value
}

describe('matchTcbLevel', () => {
  const sgxInfo = tcbInfo([
    level('UpToDate', [5, 5], 13, undefined, []),
    level('SWHardeningNeeded', [5, 5], 12, undefined, ['SA-1']),
    level('OutOfDate', [4, 5], 11, undefined, ['SA-2']),
  ])
  const lateInfo = tcbInfo([level('UpToDate', [...sixteen().slice(0, 15), 1], 0)])
  const sgxCases: {
    name: string
    info?: TcbInfo
    platform: PlatformTcb
    index: number | null
  }[] = [
    {
      name: 'the first level met',
      platform: { sgxComponents: sixteen(5, 5), pceSvn: 13 },
      index: 0,
    },
    {
      name: 'the first level when all are exceeded',
      platform: { sgxComponents: sixteen(9, 9, 9), pceSvn: 20 },
      index: 0,
    },
    {
      name: 'the next level for a lower PCESVN',
      platform: { sgxComponents: sixteen(5, 5), pceSvn: 12 },
      index: 1,
    },
    {
      name: 'a later level for a lower SGX component',
      platform: { sgxComponents: sixteen(4, 9), pceSvn: 13 },
      index: 2,
    },
    {
      name: 'no level when one component is below every level',
      platform: { sgxComponents: sixteen(5, 4), pceSvn: 13 },
      index: null,
    },
    {
      name: 'no level when the PCESVN is below every level',
      platform: { sgxComponents: sixteen(5, 5), pceSvn: 10 },
      index: null,
    },
    {
      name: 'no level when component 16 is below',
      info: lateInfo,
      platform: { sgxComponents: sixteen(5, 5), pceSvn: 13 },
      index: null,
    },
  ]

  for (const testCase of sgxCases) {
    it(`finds ${testCase.name}`, () => {
      const info = testCase.info ?? sgxInfo
      const match = matchTcbLevel(info, testCase.platform)
      if (testCase.index === null) {
        expectFailure(match, 'ERR_VERIFY_TCB')
        return
      }
      assert.ok(!isFailure(match))
      assert.equal(match.index, testCase.index)
      assert.equal(match.status, info.tcbLevels[testCase.index]?.tcbStatus)
      assert.deepEqual(match.level.advisoryIds, info.tcbLevels[testCase.index]?.advisoryIds)
    })
  }

  it('fails on TCB info with no levels', () => {
    expectFailure(
      matchTcbLevel(tcbInfo([]), { sgxComponents: sixteen(), pceSvn: 0 }),
      'ERR_VERIFY_TCB',
    )
  })

  it('fails closed on an unknown status at the matching level', () => {
    const info = tcbInfo([level('Quarantined', [1], 1)])
    expectFailure(matchTcbLevel(info, { sgxComponents: sixteen(1), pceSvn: 1 }), 'ERR_VERIFY_TCB')
  })

  for (const status of LEVEL_STATUSES) {
    it(`returns the status ${status} of the matching level`, () => {
      const match = matchTcbLevel(tcbInfo([level(status, [1], 1)]), {
        sgxComponents: sixteen(1),
        pceSvn: 1,
      })
      assert.ok(!isFailure(match))
      assert.equal(match.status, status)
    })
  }

  describe('for TDX', () => {
    const tdxInfo = tcbInfo(
      [
        level('UpToDate', [1], 1, [5, 0, 3]),
        level('OutOfDate', [1], 1, [5, 0, 2], ['SA-3']),
        level('OutOfDate', [1], 1, [2, 0, 1], ['SA-4']),
      ],
      {},
    )
    const tdx = (svn: Uint8Array) => ({
      sgxComponents: sixteen(1),
      pceSvn: 1,
      tdx: { teeTcbSvn: svn, mrSignerSeam: MODULE_SIGNER, seamAttributes: new Uint8Array(8) },
    })
    const tdxCases: { name: string; svn: Uint8Array; index: number | null }[] = [
      { name: 'skips components 1 and 2 with a module version', svn: teeTcbSvn(0, 1, 3), index: 0 },
      { name: 'compares component 3 with a module version', svn: teeTcbSvn(0, 1, 2), index: 1 },
      { name: 'compares component 1 without a module version', svn: teeTcbSvn(4, 0, 3), index: 2 },
      { name: 'meets the top level without a module version', svn: teeTcbSvn(5, 0, 3), index: 0 },
      { name: 'finds no level below every TDX component', svn: teeTcbSvn(9, 1, 0), index: null },
      { name: 'finds no level for a low module SVN', svn: teeTcbSvn(1, 0, 9), index: null },
    ]
    for (const testCase of tdxCases) {
      it(testCase.name, () => {
        const match = matchTcbLevel(tdxInfo, tdx(testCase.svn))
        if (testCase.index === null) {
          expectFailure(match, 'ERR_VERIFY_TCB')
          return
        }
        assert.ok(!isFailure(match))
        assert.equal(match.index, testCase.index)
      })
    }

    it('needs the SGX components as well', () => {
      const platform = { ...tdx(teeTcbSvn(5, 0, 3)), sgxComponents: sixteen(0) }
      expectFailure(matchTcbLevel(tdxInfo, platform), 'ERR_VERIFY_TCB')
    })
  })
})

describe('evaluateQeIdentity', () => {
  const identity: QeIdentity = {
    id: 'QE',
    version: 2,
    issueDate: new Date('2029-12-20T00:00:00Z'),
    nextUpdate: new Date('2030-01-19T00:00:00Z'),
    tcbEvaluationDataNumber: 17,
    miscSelect: 0,
    miscSelectMask: 0xffffffff,
    attributes: Uint8Array.of(0x11, ...new Uint8Array(15)),
    attributesMask: Uint8Array.of(0xfb, ...fill(7, 0xff), ...new Uint8Array(8)),
    mrSigner: fill(32, 0xa5),
    isvProdId: 1,
    tcbLevels: [
      isvLevel(8, 'UpToDate'),
      isvLevel(6, 'OutOfDate', ['SA-QE-1']),
      isvLevel(5, 'Revoked', ['SA-QE-2']),
    ],
  }
  const report: QeReportIdentity = {
    miscSelect: new Uint8Array(4),
    attributes: Uint8Array.of(0x11, ...new Uint8Array(15)),
    mrSigner: fill(32, 0xa5),
    isvProdId: 1,
    isvSvn: 8,
  }

  const statusCases: { isvSvn: number; status: LevelStatus; advisories: string[] }[] = [
    { isvSvn: 8, status: 'UpToDate', advisories: [] },
    { isvSvn: 30, status: 'UpToDate', advisories: [] },
    { isvSvn: 7, status: 'OutOfDate', advisories: ['SA-QE-1'] },
    { isvSvn: 6, status: 'OutOfDate', advisories: ['SA-QE-1'] },
    { isvSvn: 5, status: 'Revoked', advisories: ['SA-QE-2'] },
    { isvSvn: 4, status: 'Revoked', advisories: [] },
  ]
  for (const testCase of statusCases) {
    it(`gives ${testCase.status} for ISVSVN ${testCase.isvSvn}`, () => {
      const evaluation = evaluateQeIdentity(identity, { ...report, isvSvn: testCase.isvSvn })
      assert.ok(!isFailure(evaluation))
      assert.equal(evaluation.status, testCase.status)
      assert.equal(evaluation.isvSvn, testCase.isvSvn)
      assert.deepEqual(evaluation.advisoryIds, testCase.advisories)
    })
  }

  const accepted: { name: string; report: Partial<QeReportIdentity> }[] = [
    {
      name: 'an ATTRIBUTES bit outside the mask',
      report: { attributes: Uint8Array.of(0x15, ...new Uint8Array(15)) },
    },
    {
      name: 'XFRM bits outside the mask',
      report: { attributes: Uint8Array.of(0x11, ...new Uint8Array(7), ...fill(8, 0xff)) },
    },
  ]
  for (const testCase of accepted) {
    it(`accepts ${testCase.name}`, () => {
      const evaluation = evaluateQeIdentity(identity, { ...report, ...testCase.report })
      assert.ok(!isFailure(evaluation))
      assert.equal(evaluation.status, 'UpToDate')
    })
  }

  it('ignores MISCSELECT bits outside its mask', () => {
    const evaluation = evaluateQeIdentity(
      { ...identity, miscSelectMask: 0xfffffffe },
      { ...report, miscSelect: Uint8Array.of(1, 0, 0, 0) },
    )
    assert.ok(!isFailure(evaluation))
  })

  it('reads MISCSELECT of the report as little-endian', () => {
    const evaluation = evaluateQeIdentity(
      { ...identity, miscSelect: 0x00000100 },
      { ...report, miscSelect: Uint8Array.of(0, 1, 0, 0) },
    )
    assert.ok(!isFailure(evaluation))
  })

  const rejected: {
    name: string
    identity?: Partial<QeIdentity>
    report?: Partial<QeReportIdentity>
    code: ErrorCode
  }[] = [
    {
      name: 'a MISCSELECT bit under the mask',
      report: { miscSelect: Uint8Array.of(1, 0, 0, 0) },
      code: 'ERR_VERIFY_IDENTITY',
    },
    {
      name: 'a DEBUG attribute under the mask',
      report: { attributes: Uint8Array.of(0x13, ...new Uint8Array(15)) },
      code: 'ERR_VERIFY_IDENTITY',
    },
    { name: 'another MRSIGNER', report: { mrSigner: fill(32, 0xa4) }, code: 'ERR_VERIFY_IDENTITY' },
    { name: 'another ISVPRODID', report: { isvProdId: 2 }, code: 'ERR_VERIFY_IDENTITY' },
    {
      name: 'an unknown status at the matching level',
      identity: { tcbLevels: [isvLevel(8, 'Quarantined')] },
      code: 'ERR_VERIFY_TCB',
    },
  ]
  for (const testCase of rejected) {
    it(`rejects ${testCase.name}`, () => {
      expectFailure(
        evaluateQeIdentity(
          { ...identity, ...testCase.identity },
          { ...report, ...testCase.report },
        ),
        testCase.code,
      )
    })
  }
})

describe('evaluateTdxModule', () => {
  const identities = [
    moduleIdentity('TDX_03', [isvLevel(3, 'UpToDate')]),
    moduleIdentity('TDX_01', [
      isvLevel(6, 'UpToDate'),
      isvLevel(4, 'OutOfDate', ['SA-M-1']),
      isvLevel(2, 'Revoked', ['SA-M-2']),
    ]),
    moduleIdentity('tdx_0a', [isvLevel(1, 'UpToDate')]),
  ]
  const info = tcbInfo([], {
    tdxModule: {
      mrSigner: MODULE_SIGNER,
      attributes: new Uint8Array(8),
      attributesMask: fill(8, 0xff),
    },
    tdxModuleIdentities: identities,
  })
  const module = (svn: Uint8Array, extra: Partial<NonNullable<PlatformTcb['tdx']>> = {}) => ({
    teeTcbSvn: svn,
    mrSignerSeam: MODULE_SIGNER,
    seamAttributes: new Uint8Array(8),
    ...extra,
  })

  const statusCases: {
    name: string
    svn: Uint8Array
    id: string
    status: LevelStatus | undefined
    advisories: string[]
  }[] = [
    {
      name: 'TDX_01 at its top level',
      svn: teeTcbSvn(7, 1),
      id: 'TDX_01',
      status: 'UpToDate',
      advisories: [],
    },
    {
      name: 'TDX_01 between levels',
      svn: teeTcbSvn(5, 1),
      id: 'TDX_01',
      status: 'OutOfDate',
      advisories: ['SA-M-1'],
    },
    {
      name: 'TDX_01 at a Revoked level',
      svn: teeTcbSvn(2, 1),
      id: 'TDX_01',
      status: 'Revoked',
      advisories: ['SA-M-2'],
    },
    {
      name: 'TDX_01 below every level',
      svn: teeTcbSvn(1, 1),
      id: 'TDX_01',
      status: 'Revoked',
      advisories: [],
    },
    {
      name: 'TDX_03 among several identities',
      svn: teeTcbSvn(3, 3),
      id: 'TDX_03',
      status: 'UpToDate',
      advisories: [],
    },
    {
      name: 'a lower-case identity for version 0x0a',
      svn: teeTcbSvn(1, 0x0a),
      id: 'TDX_0A',
      status: 'UpToDate',
      advisories: [],
    },
    {
      name: 'the plain tdxModule for version 0',
      svn: teeTcbSvn(9, 0),
      id: 'tdxModule',
      status: undefined,
      advisories: [],
    },
  ]
  for (const testCase of statusCases) {
    it(`evaluates ${testCase.name}`, () => {
      const evaluation = evaluateTdxModule(info, module(testCase.svn))
      assert.ok(evaluation !== undefined)
      assert.ok(!isFailure(evaluation))
      assert.equal(evaluation.id, testCase.id)
      assert.equal(evaluation.status, testCase.status)
      assert.equal(evaluation.isvSvn, testCase.svn[0])
      assert.equal(evaluation.mrSignerMatch, true)
      assert.equal(evaluation.attributesMatch, true)
      assert.deepEqual(evaluation.advisoryIds, testCase.advisories)
    })
  }

  const rejected: {
    name: string
    info?: TcbInfo
    tdx: NonNullable<PlatformTcb['tdx']>
    code: ErrorCode
  }[] = [
    { name: 'a missing TDX_02 identity', tdx: module(teeTcbSvn(3, 2)), code: 'ERR_VERIFY_TCB' },
    {
      name: 'MRSIGNERSEAM of another module signer',
      tdx: module(teeTcbSvn(7, 1), { mrSignerSeam: fill(48, 0x01) }),
      code: 'ERR_VERIFY_IDENTITY',
    },
    {
      name: 'SEAMATTRIBUTES under the mask',
      tdx: module(teeTcbSvn(7, 1), { seamAttributes: Uint8Array.of(0x80) }),
      code: 'ERR_VERIFY_IDENTITY',
    },
    {
      name: 'MRSIGNERSEAM against the plain tdxModule',
      tdx: module(teeTcbSvn(7, 0), { mrSignerSeam: fill(48, 0x01) }),
      code: 'ERR_VERIFY_IDENTITY',
    },
    {
      name: 'an unknown status at the matching level',
      info: tcbInfo([], {
        tdxModuleIdentities: [moduleIdentity('TDX_01', [isvLevel(1, 'Quarantined')])],
      }),
      tdx: module(teeTcbSvn(7, 1)),
      code: 'ERR_VERIFY_TCB',
    },
  ]
  for (const testCase of rejected) {
    it(`rejects ${testCase.name}`, () => {
      const evaluation = evaluateTdxModule(testCase.info ?? info, testCase.tdx)
      assert.ok(evaluation !== undefined)
      expectFailure(evaluation, testCase.code)
    })
  }
})

describe('convergeStatus', () => {
  const platforms = LEVEL_STATUSES
  /** What an OutOfDate QE or module makes of each platform status, as Intel's QVL folds it. */
  const withOutOfDate: Record<LevelStatus, LevelStatus> = {
    UpToDate: 'OutOfDate',
    SWHardeningNeeded: 'OutOfDate',
    ConfigurationNeeded: 'OutOfDateConfigurationNeeded',
    ConfigurationAndSWHardeningNeeded: 'OutOfDateConfigurationNeeded',
    OutOfDate: 'OutOfDate',
    OutOfDateConfigurationNeeded: 'OutOfDateConfigurationNeeded',
    Revoked: 'Revoked',
  }

  for (const platform of platforms) {
    it(`keeps ${platform} when the component is absent or UpToDate`, () => {
      assert.equal(convergeStatus(platform, undefined), platform)
      assert.equal(convergeStatus(platform, 'UpToDate'), platform)
    })

    it(`folds an OutOfDate component into ${platform}`, () => {
      assert.equal(convergeStatus(platform, 'OutOfDate'), withOutOfDate[platform])
    })

    it(`revokes ${platform} when the component is Revoked`, () => {
      assert.equal(convergeStatus(platform, 'Revoked'), 'Revoked')
    })
  }
})
