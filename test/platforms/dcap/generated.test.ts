import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { toHex } from '../../../src/core/bytes.js'
import { VerificationCache } from '../../../src/core/cache.js'
import { CollateralBundle } from '../../../src/core/collateral-bundle.js'
import { ConfigError, type ErrorCode, ParseError } from '../../../src/core/errors.js'
import type { TcbStatus, Verdict, VerificationResult } from '../../../src/core/types.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { parseQuote } from '../../../src/platforms/dcap/quote.js'
import { verifyQuote } from '../../../src/platforms/dcap/verify.js'
import {
  type CollateralSpec,
  createTestIntelPki,
  type EnclaveIdentityJson,
  enclaveIdentityJson,
  type IsvSvnLevelSpec,
  issuePck,
  type PckSpec,
  pckChainOf,
  type QuoteSpec,
  type SgxReportFields,
  type TcbInfoJson,
  type TcbInfoSpec,
  type TcbLevelSpec,
  type TdReportFields,
  TEST_AT,
  TEST_FMSPC,
  TEST_PCE_SVN,
  TEST_SGX_COMPONENTS,
  tcbInfoJson,
  tdxModuleIdentityJson,
  testQeReport,
  writeCollateralFiles,
  writeQuote,
} from '../../helpers/fake-dcap.js'
import { issue, issueCrl } from '../../helpers/fake-pki.js'

const crypto = createNodeCrypto()
const pki = createTestIntelPki()

const fill = (size: number, byte: number) => new Uint8Array(size).fill(byte)

/** Advisory IDs of the generated TCB levels. The 9xxxx numbers are made up, not Intel's. */
const SA = {
  hardening: 'INTEL-SA-90001',
  configuration: 'INTEL-SA-90002',
  outOfDate: 'INTEL-SA-90003',
  revoked: 'INTEL-SA-90004',
  qe: 'INTEL-SA-90005',
  module: 'INTEL-SA-90006',
} as const

/** The quoted enclave: ATTRIBUTES INIT and MODE64BIT, not DEBUG. */
const SGX_BODY: SgxReportFields = {
  attributes: Uint8Array.of(0x05),
  mrEnclave: fill(32, 0x11),
  mrSigner: fill(32, 0x22),
  isvProdId: 3,
  isvSvn: 5,
  reportData: fill(64, 0x44),
}

/** TEE_TCB_SVN: module SVN 3, module major version 1, TDX microcode SVN 2. */
const TEE_TCB_SVN = Uint8Array.of(3, 1, 2)

const TD_BODY: TdReportFields = {
  teeTcbSvn: TEE_TCB_SVN,
  mrSeam: fill(48, 0x55),
  mrTd: fill(48, 0x33),
  xfam: Uint8Array.of(0xe7, 0x02, 0x06),
  rtmrs: [fill(48, 0x60), fill(48, 0x61), fill(48, 0x62), fill(48, 0x63)],
  reportData: fill(64, 0x44),
}

/** Levels of the TDX_01 module identity in the default TDX TCB info. */
const TDX_01_LEVELS: readonly IsvSvnLevelSpec[] = [
  { isvSvn: 3, status: 'UpToDate' },
  { isvSvn: 1, status: 'OutOfDate', advisories: [SA.module] },
]

/** SGX components with component 1 replaced, the rest as the default PCK states them. */
function sgxWith(first: number): number[] {
  return [first, ...TEST_SGX_COMPONENTS.slice(1)]
}

function defaultLevels(tee: 'SGX' | 'TDX'): TcbLevelSpec[] {
  return [
    {
      sgx: TEST_SGX_COMPONENTS,
      pceSvn: TEST_PCE_SVN,
      ...(tee === 'TDX' ? { tdx: [0, 0, 2] } : {}),
      status: 'UpToDate',
    },
  ]
}

/** One generated quote with its collateral and the options it is verified with. */
interface Scenario {
  readonly tee?: 'SGX' | 'TDX'
  /** Default: 3 for SGX, 4 for TDX. */
  readonly version?: 3 | 4 | 5
  readonly bodyType?: 'td10' | 'td15'
  readonly pck?: PckSpec
  /** Merged over the default SGX or TD body. */
  readonly body?: SgxReportFields & TdReportFields
  /** Merged over the QE report that matches the default QE identity. */
  readonly qeReport?: SgxReportFields
  readonly quote?: Partial<Pick<QuoteSpec, 'qeReportSigner' | 'qeAuthData'>>
  readonly editQuote?: (quote: Uint8Array) => void
  readonly levels?: readonly TcbLevelSpec[]
  readonly tcbInfo?: Partial<TcbInfoSpec>
  readonly editTcbInfo?: (json: TcbInfoJson) => void
  /** Serializes the signed `tcbInfo` object. Default: JSON.stringify. */
  readonly tcbInfoText?: (json: TcbInfoJson) => string
  readonly qeLevels?: readonly IsvSvnLevelSpec[]
  readonly editQeIdentity?: (json: EnclaveIdentityJson) => void
  readonly collateral?: Partial<Omit<CollateralSpec, 'tcbInfo' | 'qeIdentity'>>
  readonly editFiles?: (files: Map<string, Uint8Array>) => void
  readonly noCollateral?: boolean
  /** Whether to verify against the pinned Intel root instead of the test root. */
  readonly pinnedRoot?: boolean
  readonly at?: Date
  readonly allowDebug?: boolean
  readonly expectedReportData?: Uint8Array
}

function buildQuote(scenario: Scenario): Uint8Array {
  const tee = scenario.tee ?? 'SGX'
  const pck = issuePck(pki, scenario.pck)
  const body: QuoteSpec['body'] =
    tee === 'SGX'
      ? { type: 'sgx', fields: { ...SGX_BODY, ...scenario.body } }
      : { type: scenario.bodyType ?? 'td10', fields: { ...TD_BODY, ...scenario.body } }
  const quote = writeQuote({
    version: scenario.version ?? (tee === 'SGX' ? 3 : 4),
    body,
    pck,
    pckChain: pckChainOf(pki, pck),
    qeReport: { ...testQeReport(tee === 'SGX' ? 'QE' : 'TD_QE'), ...scenario.qeReport },
    ...scenario.quote,
  })
  scenario.editQuote?.(quote)
  return quote
}

function buildCollateral(scenario: Scenario): CollateralBundle {
  const tee = scenario.tee ?? 'SGX'
  const tcbInfo = tcbInfoJson({
    id: tee,
    levels: scenario.levels ?? defaultLevels(tee),
    tdxModuleIdentities: [tdxModuleIdentityJson('TDX_01', TDX_01_LEVELS)],
    ...scenario.tcbInfo,
  })
  scenario.editTcbInfo?.(tcbInfo)
  const qeIdentity = enclaveIdentityJson({
    id: tee === 'SGX' ? 'QE' : 'TD_QE',
    ...(scenario.qeLevels === undefined ? {} : { levels: scenario.qeLevels }),
  })
  scenario.editQeIdentity?.(qeIdentity)
  const files = writeCollateralFiles(pki, {
    tcbInfo,
    qeIdentity,
    ...(scenario.tcbInfoText === undefined ? {} : { tcbInfoText: scenario.tcbInfoText(tcbInfo) }),
    ...scenario.collateral,
  })
  scenario.editFiles?.(files)
  return new CollateralBundle(files)
}

async function verifyScenario(scenario: Scenario): Promise<VerificationResult> {
  const quote = parseQuote(buildQuote(scenario))
  const platform = quote.header.teeType === 'SGX' ? 'sgx' : 'tdx'
  return verifyQuote(platform, quote, {
    at: scenario.at ?? TEST_AT,
    crypto,
    cache: new VerificationCache(),
    ...(scenario.pinnedRoot === true ? {} : { trustAnchors: [pki.root.der] }),
    ...(scenario.noCollateral === true ? {} : { collateral: buildCollateral(scenario) }),
    ...(scenario.allowDebug === undefined ? {} : { allowDebug: scenario.allowDebug }),
    ...(scenario.expectedReportData === undefined
      ? {}
      : { expectedReportData: scenario.expectedReportData }),
  })
}

interface Expected {
  readonly verdict: Verdict
  /** `null`: the result carries no TCB status. Absent: not asserted. */
  readonly tcbStatus?: TcbStatus | null
  readonly advisories?: readonly string[]
  /** The failed checks in order, as name and code. Default: none. */
  readonly failures?: readonly (readonly [string, ErrorCode])[]
}

function assertOutcome(result: VerificationResult, expected: Expected): void {
  const failures = result.checks
    .filter((check) => check.status === 'fail')
    .map((check) => [check.name, check.code])
  assert.deepEqual(failures, expected.failures ?? [])
  assert.equal(result.verdict, expected.verdict)
  if (expected.tcbStatus !== undefined) {
    assert.equal(result.tcbStatus, expected.tcbStatus ?? undefined)
  }
  if (expected.advisories !== undefined) assert.deepEqual(result.advisories, expected.advisories)
}

interface Case {
  readonly name: string
  readonly scenario: Scenario
  readonly expected: Expected
  /** Set while the verifier is known to get this case wrong. */
  readonly todo?: string
}

function runCases(cases: readonly Case[]): void {
  for (const testCase of cases) {
    const options = testCase.todo === undefined ? {} : { todo: testCase.todo }
    it(testCase.name, options, async () => {
      assertOutcome(await verifyScenario(testCase.scenario), testCase.expected)
    })
  }
}

/**
 * Asserts that collateral the verifier must not trust is either rejected while decoding or
 * judged invalid with `check` failed.
 */
async function assertRejected(scenario: Scenario, check: string, code: ErrorCode): Promise<void> {
  const outcome = await verifyScenario(scenario).catch((error: unknown) => error)
  if (outcome instanceof ParseError) {
    assert.equal(outcome.code, 'ERR_PARSE_COLLATERAL')
    return
  }
  const result = outcome as VerificationResult
  assert.equal(result.verdict, 'invalid')
  const failed = result.checks.find((candidate) => candidate.name === check)
  assert.equal(failed?.status, 'fail')
  assert.equal(failed?.code, code)
}

/**
 * Rewrites a signed document as `{"<key>":<signed object>,"<key>":<forged>,"signature":...}`,
 * so the signature still covers the first object while JSON.parse keeps the second.
 */
function duplicateMember(
  files: Map<string, Uint8Array>,
  file: string,
  key: string,
  forged: unknown,
): void {
  const text = new TextDecoder().decode(files.get(file))
  const prefix = `{"${key}":`
  const signatureAt = text.lastIndexOf(',"signature":')
  assert.ok(text.startsWith(prefix))
  assert.ok(signatureAt > 0)
  const signed = text.slice(prefix.length, signatureAt)
  const second = `"${key}":${JSON.stringify(forged)}`
  const rewritten = `${prefix}${signed},${second}${text.slice(signatureAt)}`
  files.set(file, new TextEncoder().encode(rewritten))
}

const VALID_UP_TO_DATE: Expected = {
  verdict: 'valid',
  tcbStatus: 'UpToDate',
  advisories: [],
  failures: [],
}

/** One TCB level per status, in Intel's order (highest SVN first), all but the SVN equal. */
const LADDER = [
  { svn: 7, status: 'UpToDate', advisories: [] },
  { svn: 6, status: 'SWHardeningNeeded', advisories: [SA.hardening] },
  { svn: 5, status: 'ConfigurationNeeded', advisories: [SA.configuration] },
  {
    svn: 4,
    status: 'ConfigurationAndSWHardeningNeeded',
    advisories: [SA.hardening, SA.configuration],
  },
  { svn: 3, status: 'OutOfDate', advisories: [SA.outOfDate] },
  { svn: 2, status: 'OutOfDateConfigurationNeeded', advisories: [SA.configuration, SA.outOfDate] },
  { svn: 1, status: 'Revoked', advisories: [SA.revoked] },
] as const satisfies readonly { svn: number; status: TcbStatus; advisories: readonly string[] }[]

/** The ladder for SGX: component 1 of the PCK decides the level. */
const SGX_LADDER: TcbLevelSpec[] = LADDER.map((rung) => ({
  sgx: sgxWith(rung.svn),
  pceSvn: TEST_PCE_SVN,
  status: rung.status,
  advisories: rung.advisories,
}))

/** The ladder for TDX: TDX component 3 (TEE_TCB_SVN[2]) decides the level. */
const TDX_LADDER: TcbLevelSpec[] = LADDER.map((rung) => ({
  sgx: TEST_SGX_COMPONENTS,
  pceSvn: TEST_PCE_SVN,
  tdx: [0, 0, rung.svn],
  status: rung.status,
  advisories: rung.advisories,
}))

function expectedForRung(rung: (typeof LADDER)[number]): Expected {
  if (rung.status === 'Revoked') {
    return {
      verdict: 'invalid',
      tcbStatus: 'Revoked',
      advisories: rung.advisories,
      failures: [['tcb-level', 'ERR_VERIFY_TCB']],
    }
  }
  return { verdict: 'valid', tcbStatus: rung.status, advisories: rung.advisories, failures: [] }
}

const NO_MATCH: Expected = {
  verdict: 'invalid',
  tcbStatus: 'NoMatchingTcbLevel',
  advisories: [],
  failures: [['tcb-level', 'ERR_VERIFY_TCB']],
}

describe('verifyQuote with generated collateral', () => {
  describe('quote versions and bodies', () => {
    const versions = [
      { name: 'SGX quote v3', scenario: { tee: 'SGX', version: 3 } },
      { name: 'SGX quote v4', scenario: { tee: 'SGX', version: 4 } },
      { name: 'SGX quote v5', scenario: { tee: 'SGX', version: 5 } },
      { name: 'TDX quote v4, TD 1.0', scenario: { tee: 'TDX', version: 4 } },
      {
        name: 'TDX quote v5, TD 1.0',
        scenario: { tee: 'TDX', version: 5, bodyType: 'td10' },
      },
      {
        name: 'TDX quote v5, TD 1.5',
        scenario: { tee: 'TDX', version: 5, bodyType: 'td15' },
      },
    ] as const satisfies readonly { name: string; scenario: Scenario }[]
    const steps = [
      'pck-chain',
      'pck-revocation',
      'qe-report-signature',
      'qe-report-binding',
      'qe-report-not-debug',
      'quote-signature',
      'qe-identity',
      'tcb-info',
      'tcb-level',
      'debug',
    ]

    for (const { name, scenario } of versions) {
      it(`accepts an up-to-date ${name}`, async () => {
        const result = await verifyScenario(scenario)
        assertOutcome(result, VALID_UP_TO_DATE)
        assert.deepEqual(
          result.checks.map((check) => check.name),
          steps,
        )
        assert.equal(result.claims.platformId, TEST_FMSPC)
        assert.equal(result.claims.reportData, toHex(fill(64, 0x44)))
        assert.equal(result.claims.raw.quoteVersion, scenario.version)
      })
    }

    it('reads the written SGX fields', async () => {
      const result = await verifyScenario({ tee: 'SGX', version: 4 })
      assert.equal(result.claims.measurement, toHex(fill(32, 0x11)))
      assert.equal(result.claims.signer, toHex(fill(32, 0x22)))
      assert.equal(result.claims.raw.isvProdId, 3)
      assert.equal(result.claims.raw.isvSvn, 5)
      assert.equal(result.claims.debug, false)
    })

    it('reads the written TD 1.5 fields', async () => {
      const result = await verifyScenario({
        tee: 'TDX',
        version: 5,
        bodyType: 'td15',
        body: { teeTcbSvn2: Uint8Array.of(9), mrServiceTd: fill(48, 0x77) },
      })
      assertOutcome(result, VALID_UP_TO_DATE)
      assert.equal(result.claims.measurement, toHex(fill(48, 0x33)))
      assert.equal(result.claims.raw.rtmr3, toHex(fill(48, 0x63)))
      assert.equal(
        result.claims.raw.teeTcbSvn,
        toHex(Uint8Array.of(3, 1, 2, ...new Uint8Array(13))),
      )
      assert.equal(result.claims.raw.mrServiceTd, toHex(fill(48, 0x77)))
      assert.equal(result.claims.raw.teeTcbSvn2, toHex(Uint8Array.of(9, ...new Uint8Array(15))))
    })

    it('reports QE and module detail', async () => {
      const result = await verifyScenario({ tee: 'TDX' })
      assert.equal(result.tcb?.qeStatus, 'UpToDate')
      assert.deepEqual(result.tcb?.tdxModule, {
        id: 'TDX_01',
        mrSignerMatch: true,
        attributesMatch: true,
        isvSvn: 3,
        status: 'UpToDate',
      })
    })
  })

  describe('TCB status of an SGX platform', () => {
    runCases([
      ...LADDER.map((rung) => ({
        name: `${rung.status} at PCK SVN ${rung.svn}`,
        scenario: { pck: { sgxComponents: sgxWith(rung.svn) }, levels: SGX_LADDER },
        expected: expectedForRung(rung),
      })),
      {
        name: 'SVN above every level',
        scenario: { pck: { sgxComponents: sgxWith(200) }, levels: SGX_LADDER },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'SVN below every level',
        scenario: { pck: { sgxComponents: sgxWith(0) }, levels: SGX_LADDER },
        expected: NO_MATCH,
      },
      {
        name: 'lower PCESVN takes the next level',
        scenario: {
          pck: { pceSvn: TEST_PCE_SVN - 1 },
          levels: [
            { sgx: TEST_SGX_COMPONENTS, pceSvn: TEST_PCE_SVN, status: 'UpToDate' },
            {
              sgx: TEST_SGX_COMPONENTS,
              pceSvn: TEST_PCE_SVN - 1,
              status: 'OutOfDate',
              advisories: [SA.outOfDate],
            },
          ],
        },
        expected: {
          verdict: 'valid',
          tcbStatus: 'OutOfDate',
          advisories: [SA.outOfDate],
          failures: [],
        },
      },
      {
        name: 'TCB info version 2',
        scenario: { tcbInfo: { version: 2 } },
        expected: VALID_UP_TO_DATE,
      },
    ])

    it('fails closed on an unknown status string', async () => {
      const result = await verifyScenario({
        levels: [{ sgx: TEST_SGX_COMPONENTS, pceSvn: TEST_PCE_SVN, status: 'Quarantined' }],
      })
      assertOutcome(result, { verdict: 'invalid', failures: [['tcb-level', 'ERR_VERIFY_TCB']] })
      const levelStatuses: readonly (TcbStatus | undefined)[] = LADDER.map((rung) => rung.status)
      assert.ok(!levelStatuses.includes(result.tcbStatus), `tcbStatus ${result.tcbStatus}`)
    })
  })

  describe('TCB status of a TDX platform', () => {
    runCases([
      ...LADDER.map((rung) => ({
        name: `${rung.status} at TEE_TCB_SVN[2] ${rung.svn}`,
        scenario: {
          tee: 'TDX' as const,
          body: { teeTcbSvn: Uint8Array.of(3, 1, rung.svn) },
          levels: TDX_LADDER,
        },
        expected: expectedForRung(rung),
      })),
      {
        name: 'TDX SVN below every level',
        scenario: { tee: 'TDX', body: { teeTcbSvn: Uint8Array.of(3, 1, 0) }, levels: TDX_LADDER },
        expected: NO_MATCH,
      },
      {
        name: 'SGX SVN below every level',
        scenario: { tee: 'TDX', pck: { sgxComponents: sgxWith(0) } },
        expected: NO_MATCH,
      },
    ])
  })

  describe('QE identity', () => {
    const qeOutOfDate: IsvSvnLevelSpec[] = [
      { isvSvn: 9, status: 'UpToDate' },
      { isvSvn: 8, status: 'OutOfDate', advisories: [SA.qe] },
    ]
    const folds = [
      ['UpToDate', 'OutOfDate'],
      ['SWHardeningNeeded', 'OutOfDate'],
      ['ConfigurationNeeded', 'OutOfDateConfigurationNeeded'],
      ['ConfigurationAndSWHardeningNeeded', 'OutOfDateConfigurationNeeded'],
      ['OutOfDate', 'OutOfDate'],
      ['OutOfDateConfigurationNeeded', 'OutOfDateConfigurationNeeded'],
    ] as const
    runCases([
      ...folds.map(([platform, combined]) => {
        const rung = LADDER.find((candidate) => candidate.status === platform)!
        return {
          name: `OutOfDate QE makes ${platform} ${combined}`,
          scenario: {
            pck: { sgxComponents: sgxWith(rung.svn) },
            levels: SGX_LADDER,
            qeLevels: qeOutOfDate,
          },
          expected: {
            verdict: 'valid' as const,
            tcbStatus: combined,
            advisories: [...rung.advisories, SA.qe],
            failures: [],
          },
        }
      }),
      {
        name: 'OutOfDate TD QE makes UpToDate OutOfDate',
        scenario: { tee: 'TDX', qeLevels: qeOutOfDate },
        expected: { verdict: 'valid', tcbStatus: 'OutOfDate', advisories: [SA.qe], failures: [] },
      },
      {
        name: 'Revoked QE level',
        scenario: {
          qeLevels: [
            { isvSvn: 9, status: 'UpToDate' },
            { isvSvn: 8, status: 'Revoked' },
          ],
        },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'Revoked',
          failures: [['tcb-level', 'ERR_VERIFY_TCB']],
        },
      },
      {
        name: 'QE ISVSVN below every level',
        scenario: { qeLevels: [{ isvSvn: 9, status: 'UpToDate' }] },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'Revoked',
          failures: [['tcb-level', 'ERR_VERIFY_TCB']],
        },
      },
      {
        name: 'unknown QE status',
        scenario: { qeLevels: [{ isvSvn: 8, status: 'Quarantined' }] },
        expected: { verdict: 'invalid', failures: [['qe-identity', 'ERR_VERIFY_TCB']] },
      },
      {
        name: 'QE MRSIGNER mismatch',
        scenario: { qeReport: { mrSigner: fill(32, 0x5a) } },
        expected: { verdict: 'invalid', failures: [['qe-identity', 'ERR_VERIFY_IDENTITY']] },
      },
      {
        name: 'QE ISVPRODID mismatch',
        scenario: { qeReport: { isvProdId: 7 } },
        expected: { verdict: 'invalid', failures: [['qe-identity', 'ERR_VERIFY_IDENTITY']] },
      },
      {
        name: 'QE MISCSELECT bit under mask',
        scenario: { qeReport: { miscSelect: 1 } },
        expected: { verdict: 'invalid', failures: [['qe-identity', 'ERR_VERIFY_IDENTITY']] },
      },
      {
        name: 'QE MISCSELECT bit outside mask',
        scenario: {
          qeReport: { miscSelect: 1 },
          editQeIdentity: (json) => {
            json.miscselectMask = '00000000'
          },
        },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'QE MODE64BIT outside mask',
        scenario: { qeReport: { attributes: Uint8Array.of(0x15) } },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'SGX QE identity, TDX quote',
        scenario: {
          tee: 'TDX',
          editQeIdentity: (json) => {
            json.id = 'QE'
          },
        },
        expected: { verdict: 'invalid', failures: [['qe-identity', 'ERR_COLLATERAL_MISMATCH']] },
      },
    ])
  })

  describe('TDX module', () => {
    runCases([
      {
        name: 'OutOfDate TDX_01 level',
        scenario: { tee: 'TDX', body: { teeTcbSvn: Uint8Array.of(1, 1, 2) } },
        expected: {
          verdict: 'valid',
          tcbStatus: 'OutOfDate',
          advisories: [SA.module],
          failures: [],
        },
      },
      {
        name: 'module SVN below every level',
        scenario: { tee: 'TDX', body: { teeTcbSvn: Uint8Array.of(0, 1, 2) } },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'Revoked',
          failures: [['tcb-level', 'ERR_VERIFY_TCB']],
        },
      },
      {
        name: 'MRSIGNERSEAM mismatch',
        scenario: { tee: 'TDX', body: { mrSignerSeam: fill(48, 0x01) } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-level', 'ERR_VERIFY_IDENTITY']],
        },
      },
      {
        name: 'SEAMATTRIBUTES mismatch under mask',
        scenario: { tee: 'TDX', body: { seamAttributes: Uint8Array.of(0x01) } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-level', 'ERR_VERIFY_IDENTITY']],
        },
      },
      {
        name: 'missing TDX_02 identity',
        scenario: { tee: 'TDX', body: { teeTcbSvn: Uint8Array.of(3, 2, 2) } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-level', 'ERR_VERIFY_TCB']],
        },
      },
      {
        name: 'lower-case identity id',
        scenario: {
          tee: 'TDX',
          tcbInfo: { tdxModuleIdentities: [tdxModuleIdentityJson('tdx_01', TDX_01_LEVELS)] },
        },
        expected: VALID_UP_TO_DATE,
      },
    ])

    describe('with TEE_TCB_SVN[1] = 0, the plain tdxModule', () => {
      const plainLevels: TcbLevelSpec[] = [
        { sgx: TEST_SGX_COMPONENTS, pceSvn: TEST_PCE_SVN, tdx: [3, 0, 2], status: 'UpToDate' },
        {
          sgx: TEST_SGX_COMPONENTS,
          pceSvn: TEST_PCE_SVN,
          tdx: [2, 0, 2],
          status: 'OutOfDate',
          advisories: [SA.outOfDate],
        },
      ]
      runCases([
        {
          name: 'module SVN meets the level',
          scenario: {
            tee: 'TDX',
            body: { teeTcbSvn: Uint8Array.of(3, 0, 2) },
            levels: plainLevels,
          },
          expected: VALID_UP_TO_DATE,
        },
        {
          name: 'lower module SVN takes next level',
          scenario: {
            tee: 'TDX',
            body: { teeTcbSvn: Uint8Array.of(2, 0, 2) },
            levels: plainLevels,
          },
          expected: {
            verdict: 'valid',
            tcbStatus: 'OutOfDate',
            advisories: [SA.outOfDate],
            failures: [],
          },
        },
        {
          name: 'MRSIGNERSEAM mismatch',
          scenario: {
            tee: 'TDX',
            body: { teeTcbSvn: Uint8Array.of(3, 0, 2), mrSignerSeam: fill(48, 0x01) },
            levels: plainLevels,
          },
          expected: {
            verdict: 'invalid',
            tcbStatus: null,
            failures: [['tcb-level', 'ERR_VERIFY_IDENTITY']],
          },
        },
      ])

      it('rejects TDX TCB info without tdxModule', {}, async () => {
        const outcome = await verifyScenario({
          tee: 'TDX',
          body: { teeTcbSvn: Uint8Array.of(3, 0, 2), mrSignerSeam: fill(48, 0x01) },
          levels: plainLevels,
          tcbInfo: { tdxModule: null },
        }).catch((error: unknown) => error)
        if (outcome instanceof ParseError) {
          assert.equal(outcome.code, 'ERR_PARSE_COLLATERAL')
        } else {
          assert.equal((outcome as VerificationResult).verdict, 'invalid')
        }
      })
    })
  })

  describe('collateral for another platform', () => {
    runCases([
      {
        name: 'FMSPC in upper case',
        scenario: { tcbInfo: { fmspc: TEST_FMSPC.toUpperCase() } },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'FMSPC of another platform',
        scenario: { tcbInfo: { fmspc: '00906ed50000' } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          advisories: [],
          failures: [['tcb-info', 'ERR_COLLATERAL_MISMATCH']],
        },
      },
      {
        name: 'PCE ID of another platform',
        scenario: { tcbInfo: { pceId: '0001' } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-info', 'ERR_COLLATERAL_MISMATCH']],
        },
      },
      {
        name: 'SGX TCB info for a TDX quote',
        scenario: { tee: 'TDX', tcbInfo: { id: 'SGX' } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-info', 'ERR_COLLATERAL_MISMATCH']],
        },
      },
      {
        name: 'TDX TCB info for an SGX quote',
        scenario: { tee: 'SGX', tcbInfo: { id: 'TDX' }, levels: defaultLevels('TDX') },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-info', 'ERR_COLLATERAL_MISMATCH']],
        },
      },
    ])
  })

  describe('collateral signatures and validity', () => {
    const other = createTestIntelPki('Other Root CA')
    const strangerKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
    runCases([
      {
        name: 'pretty-printed signed TCB info',
        scenario: { tcbInfoText: (json) => JSON.stringify(json, null, 2) },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'TCB info edited after signing',
        scenario: {
          editFiles: (files) => {
            const text = new TextDecoder().decode(files.get('tcb_info.json'))
            const edited = text.replace(
              '"tcbEvaluationDataNumber":17',
              '"tcbEvaluationDataNumber":18',
            )
            assert.notEqual(edited, text)
            files.set('tcb_info.json', new TextEncoder().encode(edited))
          },
        },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-info', 'ERR_VERIFY_SIGNATURE']],
        },
      },
      {
        name: 'TCB info signed by another key',
        scenario: { collateral: { tcbInfoSigner: strangerKey } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-info', 'ERR_VERIFY_SIGNATURE']],
        },
      },
      {
        name: 'QE identity signed by another key',
        scenario: { collateral: { qeIdentitySigner: strangerKey } },
        expected: { verdict: 'invalid', failures: [['qe-identity', 'ERR_VERIFY_SIGNATURE']] },
      },
      {
        name: 'TCB info under another root',
        scenario: {
          collateral: {
            tcbInfoSigner: other.tcbSigning.privateKey,
            tcbInfoIssuerChain: [other.tcbSigning.der, other.root.der],
          },
        },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [['tcb-info', 'ERR_VERIFY_CHAIN']],
        },
      },
      {
        name: 'TCB info without its issuer chain',
        scenario: { collateral: { omit: ['tcb_info_issuer_chain.pem'] } },
        // Missing collateral cannot be judged: the check is skipped, never passed or failed.
        expected: { verdict: 'indeterminate', tcbStatus: null, failures: [] },
      },
      {
        name: 'TCB info past its next update',
        scenario: { tcbInfo: { nextUpdate: '2029-12-31T00:00:00Z' } },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'CollateralExpired',
          failures: [['tcb-info', 'ERR_COLLATERAL_EXPIRED']],
        },
      },
      {
        name: 'TCB info before its issue date',
        scenario: { tcbInfo: { issueDate: '2030-01-02T00:00:00Z' } },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'CollateralExpired',
          failures: [['tcb-info', 'ERR_COLLATERAL_EXPIRED']],
        },
      },
      {
        name: 'QE identity past its next update',
        scenario: {
          editQeIdentity: (json) => {
            json.nextUpdate = '2029-12-31T00:00:00Z'
          },
        },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'CollateralExpired',
          failures: [['qe-identity', 'ERR_COLLATERAL_EXPIRED']],
        },
      },
      {
        name: 'no collateral at all',
        scenario: { noCollateral: true },
        expected: { verdict: 'indeterminate', tcbStatus: null, advisories: [], failures: [] },
      },
    ])

    it('rejects TCB info signed by a PCK key', {}, async () => {
      const signer = issuePck(pki, { serial: 9 })
      await assertRejected(
        {
          collateral: {
            tcbInfoSigner: signer.privateKey,
            tcbInfoIssuerChain: pckChainOf(pki, signer),
          },
        },
        'tcb-info',
        'ERR_VERIFY_CHAIN',
      )
    })

    it('rejects a QE identity signed by the PCK CA', {}, async () => {
      await assertRejected(
        {
          collateral: {
            qeIdentitySigner: pki.pckCa.privateKey,
            qeIdentityIssuerChain: [pki.pckCa.der, pki.root.der],
          },
        },
        'qe-identity',
        'ERR_VERIFY_CHAIN',
      )
    })

    it('rejects a duplicate tcbInfo member', {}, async () => {
      const forged = tcbInfoJson({
        id: 'SGX',
        levels: [{ sgx: sgxWith(0), pceSvn: TEST_PCE_SVN, status: 'UpToDate' }],
      })
      await assertRejected(
        {
          pck: { sgxComponents: sgxWith(0) },
          levels: SGX_LADDER,
          editFiles: (files) => duplicateMember(files, 'tcb_info.json', 'tcbInfo', forged),
        },
        'tcb-level',
        'ERR_VERIFY_TCB',
      )
    })

    it('rejects a duplicate enclaveIdentity member', {}, async () => {
      const forged = enclaveIdentityJson({ id: 'QE', levels: [{ isvSvn: 0, status: 'UpToDate' }] })
      await assertRejected(
        {
          qeLevels: [{ isvSvn: 9, status: 'UpToDate' }],
          editFiles: (files) =>
            duplicateMember(files, 'qe_identity.json', 'enclaveIdentity', forged),
        },
        'tcb-level',
        'ERR_VERIFY_TCB',
      )
    })

    it('rejects an unknown tcbType', {}, async () => {
      await assertRejected(
        {
          editTcbInfo: (json) => {
            json.tcbType = 1
          },
        },
        'tcb-info',
        'ERR_COLLATERAL_MISMATCH',
      )
    })
  })

  describe('PCK chain and revocation', () => {
    const pckCaImpostor = issue({ commonName: 'Test SGX PCK Platform CA', isCa: true, serial: 2 })
    const rootImpostor = issue({ commonName: 'Test SGX Root CA', isCa: true, serial: 1 })
    runCases([
      {
        name: 'a PCK on the PCK CRL',
        scenario: { collateral: { pckCrl: { revoked: [4] } } },
        expected: { verdict: 'invalid', failures: [['pck-revocation', 'ERR_VERIFY_REVOKED']] },
      },
      {
        name: 'another serial on the PCK CRL',
        scenario: { collateral: { pckCrl: { revoked: [5] } } },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'a PCK CA on the Root CA CRL',
        scenario: { collateral: { rootCaCrl: { revoked: [2] } } },
        expected: { verdict: 'invalid', failures: [['pck-revocation', 'ERR_VERIFY_REVOKED']] },
      },
      {
        name: 'TCB signing certificate revoked',
        scenario: { collateral: { rootCaCrl: { revoked: [3] } } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [
            ['qe-identity', 'ERR_VERIFY_REVOKED'],
            ['tcb-info', 'ERR_VERIFY_REVOKED'],
          ],
        },
      },
      {
        name: 'PCK CRL signed by another key',
        scenario: { collateral: { pckCrl: { signer: pckCaImpostor } } },
        expected: { verdict: 'invalid', failures: [['pck-revocation', 'ERR_VERIFY_CRL']] },
      },
      {
        name: 'Root CA CRL signed by another key',
        scenario: { collateral: { rootCaCrl: { signer: rootImpostor } } },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [
            ['pck-revocation', 'ERR_VERIFY_CRL'],
            ['qe-identity', 'ERR_VERIFY_CRL'],
            ['tcb-info', 'ERR_VERIFY_CRL'],
          ],
        },
      },
      {
        name: 'a PCK CRL past its next update',
        scenario: { collateral: { pckCrl: { nextUpdate: new Date('2029-12-31T00:00:00Z') } } },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'CollateralExpired',
          failures: [['pck-revocation', 'ERR_COLLATERAL_EXPIRED']],
        },
      },
      {
        name: 'CRL of another PCK CA',
        scenario: {
          editFiles: (files) => {
            const processorCa = issue(
              { commonName: 'Test SGX PCK Processor CA', isCa: true, serial: 5 },
              pki.root,
            )
            files.set('pck_crl_processor.der', issueCrl(processorCa, { revoked: [4] }))
          },
        },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'a PCK past its validity',
        scenario: { pck: { notAfter: new Date('2029-12-31T00:00:00Z') } },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'UpToDate',
          failures: [['pck-chain', 'ERR_VERIFY_EXPIRED']],
        },
      },
      {
        name: 'no Root CA CRL',
        scenario: { collateral: { omit: ['root_ca_crl.der'] } },
        expected: { verdict: 'indeterminate', tcbStatus: 'UpToDate', failures: [] },
      },
      {
        name: 'no PCK CRL',
        scenario: { collateral: { omit: ['pck_crl.der'] } },
        expected: { verdict: 'indeterminate', tcbStatus: 'UpToDate', failures: [] },
      },
      {
        name: 'test root not trusted by default',
        scenario: { pinnedRoot: true },
        expected: {
          verdict: 'invalid',
          tcbStatus: null,
          failures: [
            ['pck-chain', 'ERR_VERIFY_CHAIN'],
            ['qe-identity', 'ERR_VERIFY_CHAIN'],
            ['tcb-info', 'ERR_VERIFY_CHAIN'],
          ],
        },
      },
    ])
  })

  describe('quote and QE report signatures', () => {
    const strangerKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
    const MRENCLAVE_OFFSET = 48 + 64
    runCases([
      {
        name: 'a body byte changed after signing',
        scenario: {
          editQuote: (quote) => {
            quote[MRENCLAVE_OFFSET] = (quote[MRENCLAVE_OFFSET] ?? 0) ^ 0x01
          },
        },
        expected: { verdict: 'invalid', failures: [['quote-signature', 'ERR_VERIFY_SIGNATURE']] },
      },
      {
        name: 'a QE report signed by another key',
        scenario: { quote: { qeReportSigner: strangerKey } },
        expected: {
          verdict: 'invalid',
          failures: [['qe-report-signature', 'ERR_VERIFY_SIGNATURE']],
        },
      },
      {
        name: 'QE report data not binding',
        scenario: { qeReport: { reportData: fill(64, 0x77) } },
        expected: { verdict: 'invalid', failures: [['qe-report-binding', 'ERR_VERIFY_BINDING']] },
      },
      {
        name: 'QE auth data of 0 bytes',
        scenario: { quote: { qeAuthData: new Uint8Array(0) } },
        expected: VALID_UP_TO_DATE,
      },
    ])
  })

  describe('debug', () => {
    const DEBUG_QE_ATTRIBUTES = Uint8Array.of(0x13)
    const ignoreQeDebugBit = (json: EnclaveIdentityJson) => {
      json.attributesMask = 'F9FFFFFFFFFFFFFF0000000000000000'
    }
    const debugFailure: Expected = {
      verdict: 'invalid',
      tcbStatus: 'UpToDate',
      failures: [['debug', 'ERR_VERIFY_DEBUG']],
    }
    runCases([
      {
        name: 'debug enclave by default',
        scenario: { body: { attributes: Uint8Array.of(0x07) } },
        expected: debugFailure,
      },
      {
        name: 'debug enclave with allowDebug',
        scenario: { body: { attributes: Uint8Array.of(0x07) }, allowDebug: true },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'debug TD by default',
        scenario: { tee: 'TDX', body: { tdAttributes: Uint8Array.of(0x01) } },
        expected: debugFailure,
      },
      {
        name: 'debug TD with allowDebug',
        scenario: { tee: 'TDX', body: { tdAttributes: Uint8Array.of(0x01) }, allowDebug: true },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'debug TD 1.5 by default',
        scenario: {
          tee: 'TDX',
          version: 5,
          bodyType: 'td15',
          body: { tdAttributes: Uint8Array.of(0x01) },
        },
        expected: debugFailure,
      },
      {
        name: 'debug QE',
        scenario: { qeReport: { attributes: DEBUG_QE_ATTRIBUTES } },
        expected: {
          verdict: 'invalid',
          failures: [
            ['qe-report-not-debug', 'ERR_VERIFY_DEBUG'],
            ['qe-identity', 'ERR_VERIFY_IDENTITY'],
          ],
        },
      },
      {
        name: 'debug QE, identity ignoring DEBUG',
        scenario: {
          qeReport: { attributes: DEBUG_QE_ATTRIBUTES },
          editQeIdentity: ignoreQeDebugBit,
        },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'UpToDate',
          failures: [['qe-report-not-debug', 'ERR_VERIFY_DEBUG']],
        },
      },
      {
        name: 'debug QE with allowDebug',
        scenario: {
          qeReport: { attributes: DEBUG_QE_ATTRIBUTES },
          editQeIdentity: ignoreQeDebugBit,
          allowDebug: true,
        },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'UpToDate',
          failures: [['qe-report-not-debug', 'ERR_VERIFY_DEBUG']],
        },
      },
    ])
  })

  describe('expected report data', () => {
    const full = Uint8Array.from({ length: 64 }, (_, i) => i + 1)
    const half = full.slice(0, 32)
    runCases([
      {
        name: 'equal 64 bytes',
        scenario: { body: { reportData: full }, expectedReportData: full },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'shorter value, zero tail',
        scenario: { body: { reportData: half }, expectedReportData: half },
        expected: VALID_UP_TO_DATE,
      },
      {
        name: 'shorter value, non-zero tail',
        scenario: { body: { reportData: full }, expectedReportData: half },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'UpToDate',
          failures: [['report-data', 'ERR_VERIFY_REPORT_DATA']],
        },
      },
      {
        name: 'a different value',
        scenario: { body: { reportData: full }, expectedReportData: fill(64, 0x01) },
        expected: {
          verdict: 'invalid',
          tcbStatus: 'UpToDate',
          failures: [['report-data', 'ERR_VERIFY_REPORT_DATA']],
        },
      },
      {
        name: 'equal 64 bytes in a TD',
        scenario: { tee: 'TDX', body: { reportData: full }, expectedReportData: full },
        expected: VALID_UP_TO_DATE,
      },
    ])

    it('records a passing report-data check', async () => {
      const result = await verifyScenario({ body: { reportData: full }, expectedReportData: full })
      const check = result.checks.find((candidate) => candidate.name === 'report-data')
      assert.equal(check?.status, 'pass')
    })

    it('rejects more than 64 bytes', async () => {
      const error = await verifyScenario({ expectedReportData: new Uint8Array(65) }).then(
        () => assert.fail('verification did not throw'),
        (caught: unknown) => caught,
      )
      assert.ok(error instanceof ConfigError)
      assert.equal(error.code, 'ERR_CONFIG_INVALID')
    })
  })
})
