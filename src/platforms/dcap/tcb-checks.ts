/**
 * Steps 7 and 8 of DCAP verification: the QE identity and the TCB info (each signed by Intel's TCB
 * Signing certificate, current, and for this platform), then the platform's TCB level with the QE
 * and TDX module statuses folded in.
 *
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import type { VerifyContext } from '../../core/platform.js'
import type { CheckList } from '../../core/result.js'
import type { ClaimValue, TcbStatus } from '../../core/types.js'
import type { Certificate } from '../../pki/certificate.js'
import { publicKeyOf, verifyChain } from '../../pki/chain.js'
import type { ParsedCollateral } from './collateral.js'
import type { PckExtensions } from './pck-extensions.js'
import type { DcapQuote } from './quote.js'
import {
  convergeStatus,
  evaluateQeIdentity,
  evaluateTdxModule,
  isFailure,
  type LevelStatus,
  type ModuleEvaluation,
  matchTcbLevel,
  type PlatformTcb,
  type QeEvaluation,
} from './tcb-evaluation.js'

/**
 * Only a certificate of this name, issued by the root, may sign collateral. The name is matched
 * at the end, so test PKIs can name theirs `Test SGX TCB Signing`.
 */
const TCB_SIGNING_NAME = /SGX TCB Signing$/
const ECDSA_P256 = { name: 'ECDSA', hash: 'SHA-256' } as const

/**
 * Verifies one signed collateral document: its issuer chain, its signature and its dates. The
 * signature result is cached for the pair (decoded document, issuer certificate). The cache keeps
 * both objects per content, so quotes verified against the same collateral check that signature
 * once. The dates are judged on every call.
 */
async function checkSignedCollateral(
  name: string,
  what: string,
  signed: { readonly body: Uint8Array; readonly signature: Uint8Array },
  validity: { readonly issueDate: Date; readonly nextUpdate: Date },
  chain: readonly Certificate[] | undefined,
  anchors: readonly Certificate[],
  collateral: ParsedCollateral,
  context: VerifyContext,
  checks: CheckList,
): Promise<'ok' | 'expired' | 'failed'> {
  const [leaf, ...intermediates] = chain ?? []
  if (leaf === undefined) {
    checks.skip(
      name,
      `${what} issuer chain is missing from the collateral, so ${what} cannot be trusted`,
    )
    return 'failed'
  }
  const crls = collateral.rootCaCrl === undefined ? [] : [collateral.rootCaCrl]
  const result = await verifyChain(leaf, intermediates, {
    at: context.at,
    anchors,
    crls,
    crypto: context.crypto,
    cache: context.cache,
  })
  if (!result.ok) {
    checks.fail(name, result.code ?? 'ERR_VERIFY_CHAIN', `${what} issuer chain: ${result.detail}`)
    return 'failed'
  }
  if (result.path.length !== 2 || !TCB_SIGNING_NAME.test(leaf.commonName)) {
    const detail = `${what} is signed by "${leaf.commonName}", not by a TCB Signing certificate issued by the root`
    checks.fail(name, 'ERR_VERIFY_CHAIN', detail)
    return 'failed'
  }
  const ok = await context.cache.memoPair(signed, leaf, async () => {
    const key = await publicKeyOf(leaf, context.crypto, context.cache)
    return context.crypto.verify(ECDSA_P256, key, signed.signature, signed.body)
  })
  if (!ok) {
    checks.fail(
      name,
      'ERR_VERIFY_SIGNATURE',
      `${what} signature does not verify with "${leaf.commonName}"`,
    )
    return 'failed'
  }
  if (context.at < validity.issueDate || context.at > validity.nextUpdate) {
    checks.fail(
      name,
      'ERR_COLLATERAL_EXPIRED',
      `${what} is valid from ${validity.issueDate.toISOString()} to ${validity.nextUpdate.toISOString()}, not at ${context.at.toISOString()}`,
    )
    return 'expired'
  }
  return 'ok'
}

export interface TcbOutcome {
  readonly status?: TcbStatus
  readonly advisories: readonly string[]
  readonly detail: Record<string, ClaimValue>
}

/** Step 7 for the QE identity. */
async function checkQeIdentity(
  quote: DcapQuote,
  anchors: readonly Certificate[],
  collateral: ParsedCollateral,
  context: VerifyContext,
  checks: CheckList,
): Promise<{ evaluation?: QeEvaluation; expired: boolean }> {
  const signed = collateral.qeIdentity
  if (signed === undefined) {
    checks.skip(
      'qe-identity',
      'no QE identity in the collateral: the Quoting Enclave identity and TCB were not checked',
    )
    return { expired: false }
  }
  const identity = signed.qeIdentity
  const state = await checkSignedCollateral(
    'qe-identity',
    'QE identity',
    signed,
    identity,
    collateral.qeIdentityChain,
    anchors,
    collateral,
    context,
    checks,
  )
  if (state === 'failed') return { expired: false }

  const expectedId = quote.header.teeType === 'TDX' ? 'TD_QE' : 'QE'
  if (identity.id !== expectedId) {
    checks.fail(
      'qe-identity',
      'ERR_COLLATERAL_MISMATCH',
      `QE identity is for "${identity.id}", but a ${quote.header.teeType} quote needs "${expectedId}"`,
    )
    return { expired: state === 'expired' }
  }
  const evaluation = evaluateQeIdentity(identity, quote.qeReport)
  if (isFailure(evaluation)) {
    checks.fail('qe-identity', evaluation.code, evaluation.detail)
    return { expired: state === 'expired' }
  }
  if (state === 'ok') {
    checks.pass(
      'qe-identity',
      `Quoting Enclave matches the ${identity.id} identity; ISVSVN ${evaluation.isvSvn} is ${evaluation.status}`,
    )
  }
  return { evaluation, expired: state === 'expired' }
}

/** Steps 7 and 8 for the TCB info and the TCB level. */
export async function checkTcb(
  quote: DcapQuote,
  pck: PckExtensions | undefined,
  anchors: readonly Certificate[],
  collateral: ParsedCollateral | undefined,
  context: VerifyContext,
  checks: CheckList,
): Promise<TcbOutcome> {
  if (collateral === undefined) {
    checks.skip('qe-identity', 'no collateral: the Quoting Enclave identity was not checked')
    checks.skip('tcb-info', 'no collateral: the TCB info was not checked')
    checks.skip('tcb-level', 'no collateral: the TCB status is unknown')
    return { advisories: [], detail: {} }
  }
  const qe = await checkQeIdentity(quote, anchors, collateral, context, checks)

  const signed = collateral.tcbInfo
  if (signed === undefined) {
    checks.skip('tcb-info', 'no TCB info in the collateral')
    checks.skip('tcb-level', 'no TCB info: the TCB status is unknown')
    return { advisories: [], detail: {} }
  }
  const tcbInfo = signed.tcbInfo
  const state = await checkSignedCollateral(
    'tcb-info',
    'TCB info',
    signed,
    tcbInfo,
    collateral.tcbInfoChain,
    anchors,
    collateral,
    context,
    checks,
  )
  if (state === 'failed') {
    checks.skip('tcb-level', 'the TCB info could not be trusted')
    return { advisories: [], detail: {} }
  }
  if (pck === undefined) {
    checks.skip(
      'tcb-level',
      'the PCK certificate could not be read, so the platform TCB is unknown',
    )
    return { advisories: [], detail: {} }
  }
  const mismatch =
    tcbInfo.id !== quote.header.teeType
      ? `TCB info is for ${tcbInfo.id}, but the quote is ${quote.header.teeType}`
      : !bytesEqual(tcbInfo.fmspc, pck.fmspc)
        ? `TCB info FMSPC ${toHex(tcbInfo.fmspc)} is not the PCK certificate's ${toHex(pck.fmspc)}`
        : !bytesEqual(tcbInfo.pceId, pck.pceId)
          ? `TCB info PCE ID ${toHex(tcbInfo.pceId)} is not the PCK certificate's ${toHex(pck.pceId)}`
          : undefined
  if (mismatch !== undefined) {
    checks.fail('tcb-info', 'ERR_COLLATERAL_MISMATCH', mismatch)
    checks.skip('tcb-level', 'the TCB info is for another platform')
    return { advisories: [], detail: {} }
  }
  if (state === 'ok') {
    checks.pass(
      'tcb-info',
      `TCB info for FMSPC ${toHex(tcbInfo.fmspc)} is signed by Intel and current (evaluation data number ${tcbInfo.tcbEvaluationDataNumber})`,
    )
  }
  const expired =
    state === 'expired' ||
    qe.expired ||
    checks.checks.some((c) => c.code === 'ERR_COLLATERAL_EXPIRED')
  return evaluateLevel(quote, pck, tcbInfo, qe.evaluation, expired, checks)
}

function evaluateLevel(
  quote: DcapQuote,
  pck: PckExtensions,
  tcbInfo: NonNullable<ParsedCollateral['tcbInfo']>['tcbInfo'],
  qe: QeEvaluation | undefined,
  collateralExpired: boolean,
  checks: CheckList,
): TcbOutcome {
  const body = quote.body
  const platform: PlatformTcb = {
    sgxComponents: pck.cpuSvnComponents,
    pceSvn: pck.pceSvn,
    ...(body.type === 'sgx'
      ? {}
      : {
          tdx: {
            teeTcbSvn: body.teeTcbSvn,
            mrSignerSeam: body.mrSignerSeam,
            seamAttributes: body.seamAttributes,
          },
        }),
  }
  const detail: Record<string, ClaimValue> = {
    tcbEvaluationDataNumber: tcbInfo.tcbEvaluationDataNumber,
  }
  if (qe !== undefined) {
    detail.qeStatus = qe.status
    detail.qeIsvSvn = qe.isvSvn
  }
  let module: ModuleEvaluation | undefined
  if (platform.tdx !== undefined) {
    const result = evaluateTdxModule(tcbInfo, platform.tdx)
    if (result !== undefined && isFailure(result)) {
      checks.fail('tcb-level', result.code, result.detail)
      return { advisories: [], detail }
    }
    module = result
    if (module !== undefined) {
      detail.tdxModule = {
        id: module.id,
        mrSignerMatch: module.mrSignerMatch,
        attributesMatch: module.attributesMatch,
        isvSvn: module.isvSvn,
        ...(module.status === undefined ? {} : { status: module.status }),
      }
    }
  }

  const match = matchTcbLevel(tcbInfo, platform)
  if (isFailure(match)) {
    checks.fail('tcb-level', match.code, match.detail)
    if (collateralExpired) return { status: 'CollateralExpired', advisories: [], detail }
    if (match.noMatchingLevel !== true) return { advisories: [], detail }
    const platformStatus = 'NoMatchingTcbLevel'
    return { status: platformStatus, advisories: [], detail: { ...detail, platformStatus } }
  }
  detail.platformStatus = match.status
  detail.tcbLevel = match.index
  detail.tcbDate = match.level.tcbDate

  const combined: LevelStatus = convergeStatus(
    convergeStatus(match.status, module?.status),
    qe?.status,
  )
  const advisories = [
    ...new Set([
      ...match.level.advisoryIds,
      ...(module?.advisoryIds ?? []),
      ...(qe?.advisoryIds ?? []),
    ]),
  ]
  const advisoryText = advisories.length > 0 ? ` (${advisories.join(', ')})` : ''
  if (combined === 'Revoked') {
    checks.fail('tcb-level', 'ERR_VERIFY_TCB', `TCB status is Revoked${advisoryText}`)
  } else {
    checks.pass(
      'tcb-level',
      `TCB status ${combined} at level ${match.index} (${match.level.tcbDate})${advisoryText}`,
    )
  }
  return { status: collateralExpired ? 'CollateralExpired' : combined, advisories, detail }
}
