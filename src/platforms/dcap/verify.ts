/**
 * Verification of a DCAP quote, step by step. Each step is a named check in the result:
 *
 * 1. `pck-chain`: the PCK chain verifies to the Intel SGX Root CA at the verification time.
 * 2. `pck-revocation`: neither the PCK nor its CA is revoked (PCK CRL and Root CA CRL).
 * 3. `qe-report-signature`: the QE report is signed by the PCK key.
 * 4. `qe-report-binding`: the QE report data binds the attestation key and QE auth data.
 * 5. `qe-report-not-debug`: the QE is not a debug enclave.
 * 6. `quote-signature`: the header and body are signed by the attestation key.
 * 7. `tcb-info`, `qe-identity`: the collateral is signed by Intel, current, and for this platform.
 * 8. `tcb-level`: the platform's TCB level, folded with the QE and TDX module statuses.
 * 9. `debug`, and `report-data` when the caller expects report data.
 *
 * @module
 */
import { bytesEqual, concatBytes, decodePem, isAllZero, toHex } from '../../core/bytes.js'
import { ConfigError, ParseError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { ClaimValue, TcbStatus, VerificationResult } from '../../core/types.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { checkPathRevocation, publicKeyOf, verifyChain } from '../../pki/chain.js'
import type { Crl } from '../../pki/crl.js'
import { INTEL_SGX_ROOT_CA_PEM } from './anchors.js'
import { isDebug, quoteClaims } from './claims.js'
import { decodeBundle, type ParsedCollateral } from './collateral.js'
import { type PckExtensions, parsePckExtensions } from './pck-extensions.js'
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

const REPORT_DATA_SIZE = 64

/**
 * Names of the CAs Intel's root issues. Only the TCB Signing certificate may sign collateral, and
 * a PCK certificate is issued by the PCK Platform or Processor CA. The names are matched at the
 * end, so test PKIs can name their certificates `Test SGX TCB Signing` and so on.
 */
const TCB_SIGNING_NAME = /SGX TCB Signing$/
const PCK_CA_NAME = /SGX PCK (Platform|Processor) CA$/
const ECDSA_P256 = { name: 'ECDSA', hash: 'SHA-256' } as const

/** The PCK certificate chain of a quote, decoded once per chain content. */
interface PckChain {
  readonly certificates: readonly Certificate[]
  readonly extensions: PckExtensions
}

async function trustAnchors(context: VerifyContext): Promise<readonly Certificate[]> {
  const given = context.trustAnchors
  if (given === undefined) {
    return context.cache.memo('dcap:anchors:pinned', () =>
      decodePem(INTEL_SGX_ROOT_CA_PEM).map((block) => parseCertificate(block.der)),
    )
  }
  return given.map((der) => parseCertificate(der))
}

async function decodePckChain(
  quote: DcapQuote,
  context: VerifyContext,
): Promise<PckChain | string> {
  const key = `dcap:pck-chain:${toHex(await context.crypto.digest('SHA-256', quote.pckChainPem))}`
  return context.cache.memo(key, () => {
    try {
      const text = new TextDecoder().decode(quote.pckChainPem)
      const certificates = decodePem(text, true)
        .filter((block) => block.label === 'CERTIFICATE')
        .map((block) => parseCertificate(block.der))
      const leaf = certificates[0]
      if (leaf === undefined) return 'the quote carries no PCK certificate'
      return { certificates, extensions: parsePckExtensions(leaf) }
    } catch (error) {
      if (error instanceof ParseError) return error.message
      throw error
    }
  })
}

/** Pads expected report data to 64 bytes; longer values are a caller error. */
function expectedReportData(value: Uint8Array): Uint8Array {
  if (value.length > REPORT_DATA_SIZE) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `expected report data is ${value.length} bytes; at most ${REPORT_DATA_SIZE} are allowed`,
    )
  }
  const padded = new Uint8Array(REPORT_DATA_SIZE)
  padded.set(value)
  return padded
}

/** Steps 1 and 2: the PCK chain and its revocation. Returns the path when the chain verified. */
async function checkPck(
  chain: PckChain | string,
  anchors: readonly Certificate[],
  collateral: ParsedCollateral | undefined,
  context: VerifyContext,
  checks: CheckList,
): Promise<readonly Certificate[] | undefined> {
  if (typeof chain === 'string') {
    checks.fail(
      'pck-chain',
      'ERR_VERIFY_CHAIN',
      `PCK certificate chain could not be read: ${chain}`,
    )
    return undefined
  }
  const [leaf, ...intermediates] = chain.certificates
  if (leaf === undefined) return undefined
  const options = { at: context.at, anchors, crypto: context.crypto, cache: context.cache }
  const result = await verifyChain(leaf, intermediates, options)
  if (!result.ok) {
    checks.fail('pck-chain', result.code ?? 'ERR_VERIFY_CHAIN', `PCK chain: ${result.detail}`)
    return undefined
  }
  const issuer = result.path[1]
  if (result.path.length !== 3 || issuer === undefined || !PCK_CA_NAME.test(issuer.commonName)) {
    const detail = `PCK chain ${result.detail} is not PCK certificate → PCK Platform or Processor CA → root`
    checks.fail('pck-chain', 'ERR_VERIFY_CHAIN', detail)
    return undefined
  }
  checks.pass('pck-chain', `PCK chain verifies to the Intel SGX Root CA: ${result.detail}`)

  if (collateral === undefined) {
    checks.skip('pck-revocation', 'no collateral: the PCK CRL and Root CA CRL were not checked')
    return result.path
  }
  const crls: Crl[] = [
    ...collateral.pckCrls,
    ...(collateral.rootCaCrl === undefined ? [] : [collateral.rootCaCrl]),
  ]
  const revocation = await checkPathRevocation(result.path, { ...options, crls })
  if (revocation.failure !== undefined) {
    checks.fail('pck-revocation', revocation.failure.code, revocation.failure.detail)
  } else {
    const unchecked = revocation.statuses.filter((status) => !status.checked)
    if (unchecked.length > 0) {
      const names = unchecked.map((status) => `"${status.subject}"`).join(', ')
      checks.skip('pck-revocation', `no CRL from the issuer of ${names}: revocation not checked`)
    } else {
      checks.pass(
        'pck-revocation',
        'PCK and its CA are not revoked (PCK CRL and Root CA CRL are current)',
      )
    }
  }
  return result.path
}

async function qeReportSignedBy(quote: DcapQuote, pck: Certificate, context: VerifyContext) {
  try {
    const key = await publicKeyOf(pck, context.crypto, context.cache)
    return await context.crypto.verify(
      ECDSA_P256,
      key,
      quote.qeReportSignature,
      quote.qeReport.bytes,
    )
  } catch {
    // A PCK key the port cannot import cannot have signed the QE report.
    return false
  }
}

/**
 * Steps 3 to 6: the QE report, its binding of the attestation key, and the quote signature. The
 * QE report signature is checked with the PCK leaf's key even when the PCK chain failed, so the
 * result shows every fault. The failed chain alone already makes the verdict invalid.
 */
async function checkSignatures(
  quote: DcapQuote,
  pck: Certificate | undefined,
  context: VerifyContext,
  checks: CheckList,
): Promise<void> {
  if (pck === undefined) {
    checks.skip('qe-report-signature', 'the PCK certificate could not be read')
  } else if (await qeReportSignedBy(quote, pck, context)) {
    checks.pass('qe-report-signature', 'QE report is signed by the PCK key')
  } else {
    const detail = 'QE report signature does not verify with the PCK key'
    checks.fail('qe-report-signature', 'ERR_VERIFY_SIGNATURE', detail)
  }

  const digest = await context.crypto.digest(
    'SHA-256',
    concatBytes(quote.attestationKey, quote.qeAuthData),
  )
  const reportData = quote.qeReport.reportData
  if (bytesEqual(reportData.subarray(0, 32), digest) && isAllZero(reportData.subarray(32))) {
    checks.pass(
      'qe-report-binding',
      'QE report data is SHA-256(attestation key ‖ QE auth data) followed by zeros',
    )
  } else {
    checks.fail(
      'qe-report-binding',
      'ERR_VERIFY_BINDING',
      'QE report data does not bind the attestation key and QE auth data',
    )
  }

  if (isDebug(quote.qeReport))
    checks.fail('qe-report-not-debug', 'ERR_VERIFY_DEBUG', 'the Quoting Enclave is a debug enclave')
  else checks.pass('qe-report-not-debug', 'the Quoting Enclave is not a debug enclave')

  let signatureOk = false
  try {
    // A QE keeps its attestation key across quotes, so the imported key is remembered by content.
    const attestationKey = await context.cache.memo(`dcap:ak:${toHex(quote.attestationKey)}`, () =>
      context.crypto.importRawEcPoint(quote.attestationKey, 'P-256'),
    )
    signatureOk = await context.crypto.verify(
      ECDSA_P256,
      attestationKey,
      quote.signature,
      quote.signedBytes,
    )
  } catch {
    // An attestation key that is not a point on P-256 cannot have signed the quote.
    signatureOk = false
  }
  if (signatureOk)
    checks.pass('quote-signature', 'quote header and body are signed by the attestation key')
  else
    checks.fail(
      'quote-signature',
      'ERR_VERIFY_SIGNATURE',
      'quote signature does not verify with the attestation key',
    )
}

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
    checks.fail(name, 'ERR_COLLATERAL_UNAVAILABLE', `${what} issuer chain is missing`)
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

interface TcbOutcome {
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
async function checkTcb(
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

function checkDebugAndReportData(
  quote: DcapQuote,
  context: VerifyContext,
  checks: CheckList,
): void {
  const kind = quote.body.type === 'sgx' ? 'enclave' : 'TD'
  if (!isDebug(quote.body)) checks.pass('debug', `the ${kind} is not in debug mode`)
  else if (context.allowDebug === true)
    checks.pass('debug', `the ${kind} is in debug mode, accepted because debug was allowed`)
  else
    checks.fail(
      'debug',
      'ERR_VERIFY_DEBUG',
      `the ${kind} is in debug mode; its memory is readable by the host`,
    )

  if (context.expectedReportData !== undefined) {
    const expected = expectedReportData(context.expectedReportData)
    if (bytesEqual(quote.body.reportData, expected))
      checks.pass('report-data', 'report data equals the expected value')
    else
      checks.fail(
        'report-data',
        'ERR_VERIFY_REPORT_DATA',
        `report data ${toHex(quote.body.reportData).slice(0, 32)}... is not the expected ${toHex(expected).slice(0, 32)}...`,
      )
  }
}

/**
 * Verifies a decoded DCAP quote at `context.at`, with the collateral of `context.collateral`.
 * Without collateral the signatures and the PCK chain are still checked, and the checks that
 * need collateral are skipped (the verdict is then at best `indeterminate`).
 *
 * @throws ParseError when collateral cannot be decoded; ConfigError for bad expected report data.
 */
export async function verifyQuote(
  platformName: string,
  quote: DcapQuote,
  context: VerifyContext,
): Promise<VerificationResult> {
  if (context.expectedReportData !== undefined) expectedReportData(context.expectedReportData)
  const checks = new CheckList()
  const anchors = await trustAnchors(context)
  const collateral =
    context.collateral === undefined
      ? undefined
      : await decodeBundle(context.collateral, context.crypto, context.cache)
  const chain = await decodePckChain(quote, context)

  await checkPck(chain, anchors, collateral, context, checks)
  const leaf = typeof chain === 'string' ? undefined : chain.certificates[0]
  await checkSignatures(quote, leaf, context, checks)
  const pck = typeof chain === 'string' ? undefined : chain.extensions
  const tcb = await checkTcb(quote, pck, anchors, collateral, context, checks)
  checkDebugAndReportData(quote, context, checks)

  const claims = quoteClaims(
    platformName,
    quote,
    pck === undefined || leaf === undefined ? undefined : { extensions: pck, issuer: leaf.issuer },
  )
  return {
    platform: platformName,
    verdict: checks.verdict(),
    ...(tcb.status === undefined ? {} : { tcbStatus: tcb.status }),
    advisories: tcb.advisories,
    claims,
    checks: checks.checks,
    tcb: tcb.detail,
    verifiedAt: context.at.toISOString(),
  }
}
