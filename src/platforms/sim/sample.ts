/**
 * Trustee's `sample` TEE: unsigned JSON evidence `{"svn": "1", "report_data": "<base64>"}` that
 * Trustee's KBS accepts for testing. Nothing signs it, so its verdict is never better than
 * `indeterminate`, and its claims are the fixed ones Trustee's sample verifier reports.
 *
 * @see confidential-containers/trustee, deps/verifier/src/sample/mod.rs
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import { ParseError } from '../../core/errors.js'
import { decodeJsonObject } from '../../core/json.js'
import type { VerifyContext } from '../../core/platform.js'
import { CheckList } from '../../core/result.js'
import type { Claims, ClaimValue, VerificationResult } from '../../core/types.js'
import { paddedReportData, SIMULATED_DETAIL } from './verify.js'

/** Largest sample evidence accepted. */
export const MAX_SAMPLE_EVIDENCE_SIZE = 16 * 1024
/** Trustee's sample verifier reports this launch digest for every evidence. */
export const SAMPLE_LAUNCH_DIGEST = 'abcde'
/** Trustee's sample verifier reports this platform version for every evidence. */
export const SAMPLE_PLATFORM_VERSION = { major: 1, minor: 4 } as const

/** Decoded sample evidence. */
export interface SampleEvidence {
  readonly svn: string
  /** `report_data` exactly as carried: standard base64. */
  readonly reportDataText: string
  readonly reportData: Uint8Array
  /** `init_data` exactly as carried, when present. */
  readonly initData?: ClaimValue
}

const STRUCTURE = 'SampleTeeEvidence'
const REQUIRED_KEYS = ['svn', 'report_data']
const ALLOWED_KEYS = new Set([...REQUIRED_KEYS, 'init_data'])
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function malformed(message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `${STRUCTURE}: ${message}`, {
    structure: STRUCTURE,
    ...(field === undefined ? {} : { field }),
  })
}

function decodeStandardBase64(text: string): Uint8Array {
  if (!STANDARD_BASE64.test(text))
    throw malformed('report_data is not standard base64', 'report_data')
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)

  return out
}

/**
 * Decodes sample evidence: a JSON object with the members `svn` (a string) and `report_data`
 * (standard base64), and optionally `init_data`.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for input over 16 KiB, `ERR_PARSE_TRUNCATED` for a
 *   missing member, `ERR_PARSE_MALFORMED` for anything else.
 */
export function parseSampleEvidence(bytes: Uint8Array): SampleEvidence {
  if (bytes.length > MAX_SAMPLE_EVIDENCE_SIZE) {
    throw new ParseError(
      'ERR_PARSE_OVERSIZED',
      `${STRUCTURE} is ${bytes.length} bytes; at most ${MAX_SAMPLE_EVIDENCE_SIZE} are allowed`,
      { structure: STRUCTURE },
    )
  }
  const record = decodeJsonObject(bytes, STRUCTURE) as Record<string, unknown>
  const missing = REQUIRED_KEYS.find((key) => !(key in record))
  if (missing !== undefined) {
    throw new ParseError('ERR_PARSE_TRUNCATED', `${STRUCTURE}: member "${missing}" is missing`, {
      structure: STRUCTURE,
      field: missing,
    })
  }
  const extra = Object.keys(record).find((key) => !ALLOWED_KEYS.has(key))
  if (extra !== undefined) throw malformed(`member "${extra}" is not allowed`, extra)
  if (typeof record.svn !== 'string') throw malformed('svn is not a string', 'svn')
  if (typeof record.report_data !== 'string') {
    throw malformed('report_data is not a string', 'report_data')
  }
  // JSON.parse yields only JSON values, which are all claim values.
  const initData = record.init_data as ClaimValue | undefined

  return {
    svn: record.svn,
    reportDataText: record.report_data,
    reportData: decodeStandardBase64(record.report_data),
    ...(initData === undefined ? {} : { initData }),
  }
}

/** Tells cheaply whether bytes are sample evidence: a JSON object with `svn` and `report_data`. */
export function sniffSampleEvidence(bytes: Uint8Array): boolean {
  if (bytes.length > MAX_SAMPLE_EVIDENCE_SIZE) return false
  const first = bytes.find(
    (byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d,
  )
  if (first !== 0x7b) return false
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    // Text that is not JSON is not sample evidence.
    return false
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = Object.keys(value)

  return (
    REQUIRED_KEYS.every((key) => keys.includes(key)) && keys.every((key) => ALLOWED_KEYS.has(key))
  )
}

/** Builds the claims Trustee's sample verifier reports, under Trustee's names in `raw`. */
export function sampleClaims(evidence: SampleEvidence): Claims {
  return {
    platform: 'sample',
    measurement: SAMPLE_LAUNCH_DIGEST,
    reportData: toHex(evidence.reportData),
    debug: false,
    tcb: { svn: evidence.svn },
    raw: {
      svn: evidence.svn,
      report_data: evidence.reportDataText,
      launch_digest: SAMPLE_LAUNCH_DIGEST,
      platform_version: { ...SAMPLE_PLATFORM_VERSION },
      debug: false,
      ...(evidence.initData === undefined ? {} : { init_data: evidence.initData }),
    },
  }
}

/**
 * Verifies sample evidence. The `signature` check is always skipped because nothing signs the
 * evidence. Expected report data shorter than the evidence's is zero-padded to its length, so
 * an equal-length value is compared byte for byte as Trustee does.
 */
export async function verifySampleEvidence(
  evidence: SampleEvidence,
  context: VerifyContext,
): Promise<VerificationResult> {
  const checks = new CheckList()
  checks.pass('simulated', SIMULATED_DETAIL)
  checks.skip('signature', 'sample evidence carries no signature, so nothing vouches for it')
  checks.pass('debug', 'sample evidence always reports debug false')
  if (context.expectedReportData !== undefined) {
    const actual = evidence.reportData
    const expected =
      context.expectedReportData.length < actual.length
        ? paddedReportData(context.expectedReportData, actual.length)
        : context.expectedReportData
    if (bytesEqual(actual, expected)) {
      checks.pass('report-data', 'report data equals the expected value')
    } else {
      const detail = `report data ${toHex(actual)} is not the expected ${toHex(expected)}`
      checks.fail('report-data', 'ERR_VERIFY_REPORT_DATA', detail)
    }
  }

  return {
    platform: 'sample',
    verdict: checks.verdict(),
    advisories: [],
    claims: sampleClaims(evidence),
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
  }
}
