/**
 * The check that evidence binds the runtime data: its report data starts with the runtime-data
 * digest and carries only zeros after it, and it comes from the TEE the session named.
 *
 * @module
 */
import type { VerificationResult } from '../core/types.js'

/**
 * Returns why a verification result does not bind the digest, or undefined when it does. The
 * verifier compared the report data already when given `expectedReportData`. This repeats the
 * comparison on the claims. A verify function that ignores the option thus cannot bypass it.
 */
export function checkBinding(
  result: VerificationResult,
  digest: Uint8Array,
  platform: string | undefined,
): string | undefined {
  if (platform !== undefined && result.platform !== platform)
    return `the evidence is from platform ${result.platform}, not ${platform} as the session's TEE`
  const reportDataFailure = result.checks.find(
    (check) => check.status === 'fail' && check.code === 'ERR_VERIFY_REPORT_DATA',
  )
  if (reportDataFailure !== undefined)
    return `the evidence's report data does not bind the runtime data: ${reportDataFailure.detail}`
  const reportData = result.claims.reportData
  if (reportData === undefined) return 'the evidence has no report data to bind the runtime data'
  const expected = Buffer.from(digest).toString('hex')
  const rest = reportData.slice(expected.length)
  if (reportData.toLowerCase().slice(0, expected.length) !== expected || /[^0]/.test(rest))
    return "the evidence's report data does not equal the runtime-data digest"
  if (result.verdict === 'invalid') {
    const failed = result.checks.filter((check) => check.status === 'fail')
    const names = failed.map((check) =>
      check.code === undefined ? check.name : `${check.name} (${check.code})`,
    )
    return `the evidence is invalid: ${names.join(', ') || 'no failed check was named'}`
  }

  return undefined
}
