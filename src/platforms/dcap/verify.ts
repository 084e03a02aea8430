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
import type { VerificationResult } from '../../core/types.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { checkPathRevocation, publicKeyOf, verifyChain } from '../../pki/chain.js'
import type { Crl } from '../../pki/crl.js'
import { INTEL_SGX_ROOT_CA_PEM } from './anchors.js'
import { isDebug, quoteClaims } from './claims.js'
import { decodeBundle, type ParsedCollateral } from './collateral.js'
import { type PckExtensions, parsePckExtensions } from './pck-extensions.js'
import type { DcapQuote } from './quote.js'
import { checkTcb } from './tcb-checks.js'

const REPORT_DATA_SIZE = 64

/**
 * A PCK certificate is issued by the PCK Platform or Processor CA. The name is matched at the end,
 * so test PKIs can name theirs `Test SGX PCK Platform CA`.
 */
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
      `the ${kind} is in debug mode, so the host can read its memory; allow debug (--allow-debug) to accept it`,
    )

  if (context.expectedReportData !== undefined) {
    const expected = expectedReportData(context.expectedReportData)
    if (bytesEqual(quote.body.reportData, expected))
      checks.pass('report-data', 'report data equals the expected value')
    else
      checks.fail(
        'report-data',
        'ERR_VERIFY_REPORT_DATA',
        `report data ${toHex(quote.body.reportData)} is not the expected ${toHex(expected)}`,
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
