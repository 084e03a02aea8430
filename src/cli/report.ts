/**
 * Renders a verification result as the readable report the CLI prints.
 *
 * @module
 */
import type { Check, ClaimValue, VerificationResult } from '../core/types.js'

const MARK: Record<Check['status'], string> = { pass: 'pass', fail: 'FAIL', skipped: 'skip' }

function checkLines(checks: readonly Check[]): string[] {
  const width = Math.max(...checks.map((check) => check.name.length), 0)
  return checks.map((check) => {
    const code = check.code === undefined ? '' : ` [${check.code}]`
    return `  ${MARK[check.status]}  ${check.name.padEnd(width)}  ${check.detail}${code}`
  })
}

function verdictLine(result: VerificationResult): string {
  if (result.verdict === 'valid') return 'valid'
  if (result.verdict === 'invalid') return 'INVALID'
  return 'indeterminate (checks that ran passed; skipped checks need collateral)'
}

function isRecord(value: ClaimValue | undefined): value is { readonly [key: string]: ClaimValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Formats a result: the platform, every check in order, then the verdict and TCB outcome. */
export function formatReport(file: string, title: string, result: VerificationResult): string {
  const lines = [
    `${file}: ${title} evidence, judged at ${result.verifiedAt}`,
    '',
    ...checkLines(result.checks),
    '',
  ]
  const field = (label: string, value: string) => lines.push(`${label.padEnd(12)}${value}`)
  field('verdict', verdictLine(result))
  if (result.tcbStatus !== undefined) field('tcb status', result.tcbStatus)
  if (result.advisories.length > 0) field('advisories', result.advisories.join(', '))
  const qeStatus = result.tcb?.qeStatus
  if (typeof qeStatus === 'string') field('qe status', qeStatus)
  const module = result.tcb?.tdxModule
  if (isRecord(module)) {
    const status = module.status === undefined ? '' : ` ${String(module.status)}`
    field('tdx module', `${String(module.id)} isvsvn ${String(module.isvSvn)}${status}`)
  }
  if (result.claims.measurement !== undefined) field('measurement', result.claims.measurement)
  if (result.claims.signer !== undefined) field('signer', result.claims.signer)
  if (result.claims.debug === true) field('debug', 'yes')
  return `${lines.join('\n')}\n`
}
